# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""How each action type is carried out: the BMC steps and libvirt steps of _power and _libvirt,
with each host's access settings (libvirt URI, migration address, BMC)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.wavedrain.kvm.plugins.module_utils._libvirt import LibvirtError, Migration, job_statistics, migrate
from ansible_collections.wavedrain.kvm.plugins.module_utils._power import PowerError, PowerSettings, boot, halt


def _predicted_s(action):
    if action.get("start_s") is None or action.get("end_s") is None:
        return None
    return action["end_s"] - action["start_s"]


class ActionError(Exception):
    """An action failed; the message names the host or VM and says why; ``details`` (attempts,
    errors) go to the run report."""

    def __init__(self, message, details=None):
        super().__init__(message)
        self.details = details or {}


class HostAccess:
    """How the controller reaches one host: its libvirt URI, its migration address, its BMC."""

    def __init__(self, name, uri, migration_address=None, bmc=None):
        self.name = name
        self.uri = uri
        self.migration_address = migration_address
        self.bmc = bmc


class Backend:
    def __init__(self, hosts, settings, virsh):
        self.hosts = hosts
        self.settings = settings
        self.virsh = virsh
        self.statistics_virsh = virsh.lower_priority()  # nothing waits for them
        self.power = PowerSettings(
            boot_timeout_s=settings.power_on_timeout_s, method=settings.power_off_method,
            soft_timeout_s=settings.power_off_soft_timeout_s, force=settings.power_off_force,
            force_timeout_s=settings.power_off_force_timeout_s, safe_mode=settings.power_off_safe_mode,
            poll_s=settings.poll_s)

    def uris(self, names):
        return {h: self.hosts[h].uri for h in names}

    def migration(self, action, max_downtime_ms=None):
        s = self.settings
        dst = self.hosts[action["destination"]]
        return Migration(
            action["vm"], self.hosts[action["source"]].uri, dst.uri,
            migrate_uri=("tcp://%s" % dst.migration_address) if dst.migration_address else None,
            timeout_s=s.migration_timeout_s, on_timeout=s.migration_on_timeout,
            max_downtime_ms=action.get("max_downtime_ms") or max_downtime_ms or s.max_downtime_ms,
            bandwidth_mbps=action.get("bandwidth_mbps") or 0, retries=s.migration_retries,
            retry_delay_s=s.migration_retry_delay_s, job_wait_s=s.migration_job_wait_s)

    def run(self, action, careful=False):
        """Carry out one action; returns its result dict (with 'outcome'); raises ActionError.
        careful: check the VM's state before a migration (an action left in flight by a killed run)."""
        try:
            if action["type"] == "migrate":  # job statistics later: the actions after it need not wait
                return migrate(self.virsh, self.migration(action), careful=careful, statistics=False)
            host = self.hosts[action["host"]]
            act = boot if action["type"] == "power_on" else halt
            return {"outcome": act(host.bmc, self.virsh, host.uri, self.power, expected_s=_predicted_s(action))}
        except (LibvirtError, PowerError) as exc:
            raise ActionError(str(exc), getattr(exc, "details", None))

    def job_statistics(self, action, now=False):
        """libvirt's figures of a migration that went through (downtime, data, ...); at a lower
        CPU priority unless ``now`` (nothing else is left to do)."""
        try:
            return job_statistics(self.virsh if now else self.statistics_virsh, self.migration(action))
        except LibvirtError:
            return {"raw": {}}
