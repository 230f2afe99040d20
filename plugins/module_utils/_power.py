# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Boot and halt a hypervisor, and the safe-mode check: one implementation for the engine and for
the host_power module behind the power_on/power_off roles."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import time

from ansible_collections.wavedrain.kvm.plugins.module_utils._ipmi import BmcError


class PowerError(Exception):
    """A host could not be booted or halted; the message names it and says why."""


class PowerSettings:
    def __init__(self, boot_timeout_s=300, method="soft", soft_timeout_s=300, force=False,
                 force_timeout_s=60, safe_mode=True, poll_s=1.0):
        self.boot_timeout_s = boot_timeout_s
        self.method = method
        self.soft_timeout_s = soft_timeout_s
        self.force = force
        self.force_timeout_s = force_timeout_s
        self.safe_mode = safe_mode
        self.poll_s = poll_s


def safe_mode_refusal(host, uri, domains):
    """Why ``host`` must not be powered off now (None: it holds no domain at all).

    ``domains`` is what the host's own libvirt answered ({vm: state}, None when it did not
    answer), whatever any plan or journal says: a host whose libvirt does not answer cannot be
    shown empty, so it is refused too."""
    if domains is None:
        return ("refusing to power off %s: its libvirt (%s) does not answer, so it cannot be checked "
                "for domains (safe mode)" % (host, uri))
    if domains:
        return ("refusing to power off %s: it still holds domains: %s (safe mode)"
                % (host, ", ".join("%s (%s)" % kv for kv in sorted(domains.items()))))
    return None


def probe_waits(expected_s, poll_s):
    """Seconds to wait before each probe of a boot or halt expected to last ``expected_s``: at 25,
    50, 75, 90 and 100 % of expected_s, then after poll_s, doubling up to 2 % of expected_s (or
    poll_s, whichever is longer). A host faster than its model is seen by the next probe, hundreds
    of hosts booting at once are probed a few times each, and a host on its time is seen within
    poll_s of it: a 150 s boot is probed 6 times up to 150.5 s, where probing every 2 % of it from
    90 % took 10 probes and saw it up to 3 s late (each probe is a virsh or ipmitool process)."""
    if expected_s is None or expected_s <= 0:
        while True:
            yield poll_s
    started = time.monotonic()
    for fraction in (0.25, 0.5, 0.75, 0.9, 1.0):
        left = fraction * expected_s - (time.monotonic() - started)
        if left > 0:  # a fraction already past (a slow probe) is skipped
            yield max(poll_s, left)
    wait, longest = poll_s, max(poll_s, 0.02 * expected_s)
    while True:
        yield wait
        wait = min(longest, 2 * wait)


def boot(bmc, virsh, uri, settings, check_mode=False, expected_s=None):
    """Power the host on through its BMC and wait until its libvirt answers (probed as
    probe_waits says, ``expected_s`` being the plan's predicted boot time).
    Returns 'already_on', 'booted' or 'would_boot'."""
    waits = probe_waits(None, settings.poll_s)
    try:
        was_on = bmc.power_status() == "on"
        if check_mode:
            return "already_on" if was_on else "would_boot"
        if not was_on:
            bmc.power("on")
            waits = probe_waits(expected_s, settings.poll_s)
            time.sleep(next(waits))
    except BmcError as exc:
        raise PowerError(str(exc))
    end = time.monotonic() + settings.boot_timeout_s
    while not virsh.answers(uri, timeout=min(10, settings.boot_timeout_s)):
        if time.monotonic() >= end:
            raise PowerError("libvirt of %s (%s) does not answer %s s after power-on"
                             % (bmc.host, uri, settings.boot_timeout_s))
        time.sleep(min(next(waits), max(0.0, end - time.monotonic())))
    return "already_on" if was_on else "booted"


def _power_status(bmc):
    try:
        return bmc.power_status()
    except BmcError as exc:
        raise PowerError(str(exc))


def _wait_off(bmc, limit_s, waits):
    end = time.monotonic() + limit_s
    while True:
        try:
            if bmc.power_status() == "off":
                return True
        except BmcError:
            pass  # a BMC may drop a request while its host shuts down: ask again
        if time.monotonic() >= end:
            return False
        time.sleep(min(next(waits), max(0.0, end - time.monotonic())))


def halt(bmc, virsh, uri, settings, check_mode=False, expected_s=None):
    """Power the host off through its BMC once safe mode allows it; wait until the BMC reports
    off. Returns 'already_off', 'halted' or 'would_halt'."""
    if settings.safe_mode:
        # the host's own libvirt first: a host whose libvirt answers is on, so the BMC is asked
        # whether it is already off only when libvirt is silent (one BMC round trip less)
        domains = virsh.domains(uri, timeout=20)
        if domains is None and _power_status(bmc) == "off":
            return "already_off"
        refusal = safe_mode_refusal(bmc.host, uri, domains)
        if refusal:
            raise PowerError(refusal)
    elif _power_status(bmc) == "off":
        return "already_off"
    if check_mode:
        return "would_halt"
    try:
        bmc.power(settings.method)
    except BmcError as exc:
        raise PowerError(str(exc))
    waits = probe_waits(expected_s, settings.poll_s)
    time.sleep(min(next(waits), settings.soft_timeout_s))
    if settings.method == "soft":
        if _wait_off(bmc, settings.soft_timeout_s, waits):
            return "halted"
        if not settings.force:
            raise PowerError("%s is still on %s s after the soft-off (force is false: it was not forced off)"
                             % (bmc.host, settings.soft_timeout_s))
        try:
            bmc.power("off")
        except BmcError as exc:
            raise PowerError(str(exc))
        waits = probe_waits(None, settings.poll_s)
    if _wait_off(bmc, settings.force_timeout_s, waits):
        return "halted"
    raise PowerError("BMC of %s does not report off %s s after power off" % (bmc.host, settings.force_timeout_s))
