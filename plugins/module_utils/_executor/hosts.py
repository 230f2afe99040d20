# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Each host's access settings, from the inventory's wavedrain_* variables, validated once."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.wavedrain.kvm.plugins.module_utils._executor.backend import HostAccess
from ansible_collections.wavedrain.kvm.plugins.module_utils._ipmi import Bmc
from ansible_collections.wavedrain.kvm.plugins.module_utils._libvirt import default_uri
from ansible_collections.wavedrain.kvm.plugins.module_utils._names import (
    bmc_address_problem, host_name_problem, libvirt_uri_problem)

BMC_VARS = ("address", "user", "password", "port", "interface", "cipher_suite", "privilege_level")


class HostAccessError(ValueError):
    def __init__(self, errors):
        super().__init__("; ".join(errors))
        self.errors = errors


def plan_hosts(plan):
    return sorted({h for a in plan.get("actions", []) for h in (a.get("host"), a.get("source"), a.get("destination"))
                   if isinstance(h, str)})


def _one(host, hv, errors):
    uri = hv.get("wavedrain_libvirt_uri") or default_uri(host)
    problem = libvirt_uri_problem(uri)
    if problem:
        errors.append("host %s: wavedrain_libvirt_uri: %s" % (host, problem))
    address = hv.get("wavedrain_migration_address") or None
    if address and bmc_address_problem(address):
        errors.append("host %s: wavedrain_migration_address: %s" % (host, bmc_address_problem(address)))
    bmc = None
    if hv.get("wavedrain_bmc_address"):
        bmc = Bmc(host, **{k: hv.get("wavedrain_bmc_" + k) for k in BMC_VARS})
    return HostAccess(host, str(uri), str(address) if address else None, bmc)


def host_access(plan, model, hostvars):
    """{host: HostAccess} for every host of the plan (each must be in the inventory) and every host
    of the model that is (a replan may use it)."""
    errors = []
    wanted = plan_hosts(plan)
    for host in wanted:
        problem = host_name_problem(host)
        if problem:
            errors.append(problem)
        elif host not in hostvars:
            errors.append("host %s of the plan is not in the inventory: add it (inventory hostname = model "
                          "host name) with its wavedrain_* variables" % host)
    if errors:
        raise HostAccessError(errors)
    extra = [h for h in ((model or {}).get("hosts") or {}) if isinstance(h, str) and h in hostvars and h not in wanted]
    out = {h: _one(h, hostvars[h], errors) for h in wanted + extra if not host_name_problem(h)}
    if errors:
        raise HostAccessError(errors)
    return out
