#!/usr/bin/python
# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: hypervisor_info
short_description: Measure a KVM/libvirt hypervisor for the drain planner
version_added: 0.1.0
description:
  - Runs on a hypervisor (over SSH) and reads, through the libvirt Python bindings, the host's
    cores and memory and every domain with its vCPUs, memory, memory in use and state.
  - Measures the memory dirty rate of every running domain with libvirt's dirty-rate calculation
    (the API behind C(virsh domdirtyrate-calc) and C(virsh domstats --dirtyrate)); all domains are
    measured at once, in O(dirty_rate_rounds) rounds of O(dirty_rate_s) seconds, so the module takes
    about their product whatever the number of domains.
  - Reports the MAC address and link speed of the migration interface (the one holding
    O(migration_address)).
  - Everything it does is bounded by O(timeout_s); it never changes the host (a dirty-rate
    calculation only samples guest memory), so check mode gathers the same facts.
  - It returns plain keys to C(register), not C(ansible_facts); until version 0.1.0 it was called
    C(wavedrain.kvm.hypervisor_facts), a name that still works (with a deprecation warning) until 2.0.0.
author:
  - wavedrain maintainers (@wavedrain)
requirements:
  - libvirt Python bindings on the hypervisor (Debian C(python3-libvirt)), libvirt >= 7.2
  - C(ip) from iproute2 on the hypervisor
options:
  uri:
    description: libvirt connection URI, as seen from the hypervisor itself.
    type: str
    default: qemu:///system
  migration_address:
    description:
      - IP address of the interface that carries migrations; its MAC and speed are reported.
      - Default the interface of the default route.
    type: str
  dirty_rate:
    description: Measure the dirty rate of running domains; V(false) reports C(dirty_mb_s=null).
    type: bool
    default: true
  dirty_rate_s:
    description: Measuring window of one dirty-rate round, in seconds (libvirt accepts 1 to 60).
    type: int
    default: 2
  dirty_rate_rounds:
    description:
      - Number of consecutive dirty-rate rounds; the reported rate is their mean.
      - Page sampling rests on few pages (a guest dirtying 3 MiB/s gives about 3 dirty samples per
        2 s round), so one round is off by about 60 %; five rounds bring that to about 25 %.
        Rounds are better than one long window, which counts a page rewritten within it once.
    type: int
    default: 5
  dirty_rate_mode:
    description:
      - libvirt's calculation mode. V(page-sampling) works with TCG and KVM guests; V(dirty-bitmap)
        and V(dirty-ring) are more precise but need KVM (V(dirty-bitmap) crashed QEMU 7.2 TCG guests in
        our tests) and are refused for non-KVM domains, which then fall back to V(page-sampling).
    type: str
    default: page-sampling
    choices: [page-sampling, dirty-bitmap, dirty-ring]
  timeout_s:
    description: Upper bound of the whole module run, in seconds; past it the module fails cleanly.
    type: int
    default: 30
notes:
  - Supports check mode (it only reads and samples).
  - Units follow the datacenter model (docs/model.md) - memory in MB (10^6 bytes) and rates in MB/s;
    libvirt's KiB and MiB are converted.
  - Page sampling reports whole MiB/s from a sample of pages, so small rates (about 1 MiB/s)
    may read as 0; C(dirty_error_mb_s) says how far off a reading may be, and the inventory variable
    C(wavedrain_vms) can override a VM's rate (docs/inventory.md).
seealso:
  - name: Inventory variables
    description: How the facts and the inventory make the datacenter model (docs/inventory.md).
    link: https://github.com/wavedrain/kvm/blob/main/docs/inventory.md
"""

EXAMPLES = r"""
- name: Measure every hypervisor (bounded, unreachable hosts reported, not fatal)
  wavedrain.kvm.hypervisor_info:
    migration_address: "{{ wavedrain_migration_address | default(ansible_host) }}"
    dirty_rate_s: 2
    dirty_rate_rounds: 5
    timeout_s: 30
  register: measured
  ignore_unreachable: true

- name: Only the inventory of domains, no dirty-rate measurement
  wavedrain.kvm.hypervisor_info:
    dirty_rate: false
"""

RETURN = r"""
hypervisor:
  description: The host.
  returned: success
  type: dict
  sample: {hostname: h1, cpu: 2, memory_mb: 8147, free_memory_mb: 3440, libvirt_version: "9.0.0",
           kvm: false}
domains:
  description:
    - Every domain. C(running) is true for running or paused domains (those a drain migrates).
    - C(used_mb) is the memory a first pre-copy round sends - C(available - unused) from the balloon
      driver when the guest reports it (C(used_source=balloon)), else the resident memory of the
      QEMU process capped at the domain's memory (C(used_source=rss)).
    - C(dirty_mb_s) is measured (C(dirty_source) names the libvirt mode) or null; it is the mean of
      O(dirty_rate_rounds) rounds.
    - C(dirty_error_mb_s) is the standard error of that mean for page sampling (a Poisson count of
      dirty samples), null for the bitmap and ring modes, which count every page.
    - C(cpu_load) is the fraction of its vCPUs busy during the measuring window.
  returned: success
  type: list
  elements: dict
  sample:
    - {name: vm1, state: running, running: true, persistent: true, vcpus: 1, memory_mb: 134.2,
       used_mb: 134.2, used_source: rss, dirty_mb_s: 2.1, dirty_error_mb_s: 0.66,
       dirty_source: page-sampling, cpu_load: 0.93, domain_type: qemu}
migration_interface:
  description: The interface holding O(migration_address) (null fields when not found).
  returned: success
  type: dict
  sample: {name: eth0, address: 10.77.1.11, mac: "02:77:00:00:00:01", speed_mbps: 10000}
elapsed_s:
  description: Time the module took.
  returned: success
  type: float
  sample: 2.4
"""

import json
import math
import os
import signal
import socket
import time
import traceback

from ansible.module_utils.basic import AnsibleModule, missing_required_lib

LIBVIRT_IMPORT_ERROR = None
try:
    import libvirt
except ImportError:
    LIBVIRT_IMPORT_ERROR = traceback.format_exc()

MIB_TO_MB = 1.048576
MODES = {"page-sampling": 0, "dirty-bitmap": 1, "dirty-ring": 2}
STATES = {0: "nostate", 1: "running", 2: "blocked", 3: "paused", 4: "shutdown", 5: "shutoff",
          6: "crashed", 7: "pmsuspended"}


class Timeout(Exception):
    pass


def _alarm(signum, frame):
    raise Timeout()


def find_interface(module, address):
    """(name, address) of the interface holding ``address`` or of the default route."""
    rc, out, err = module.run_command(["ip", "-j", "addr", "show"])
    if rc != 0:
        return None, address
    links = json.loads(out or "[]")
    if not address:
        rc, route, err = module.run_command(["ip", "-j", "route", "show", "default"])
        dev = (json.loads(route or "[]") or [{}])[0].get("dev") if rc == 0 else None
        for link in links:
            if link.get("ifname") == dev:
                addrs = [a.get("local") for a in link.get("addr_info", []) if a.get("family") == "inet"]
                return dev, (addrs or [None])[0]
        return None, None
    for link in links:
        for info in link.get("addr_info", []):
            if info.get("local") == address:
                return link.get("ifname"), address
    return None, address


def interface_facts(module, address):
    name, address = find_interface(module, address)
    out = {"name": name, "address": address, "mac": None, "speed_mbps": None}
    if not name:
        return out
    base = os.path.join("/sys/class/net", name)
    try:
        with open(os.path.join(base, "address")) as handle:
            out["mac"] = handle.read().strip().lower()
    except (IOError, OSError):
        pass
    try:
        with open(os.path.join(base, "speed")) as handle:
            speed = int(handle.read().strip())
        out["speed_mbps"] = speed if speed > 0 else None
    except (IOError, OSError, ValueError):
        pass
    return out


def domain_type(dom):
    try:
        xml = dom.XMLDesc(0)
    except libvirt.libvirtError:
        return None
    start = xml.find("type='")
    return xml[start + 6:xml.find("'", start + 6)] if start >= 0 else None


def used_mb(stats, memory_kib):
    available, unused = stats.get("balloon.available"), stats.get("balloon.unused")
    if available and unused is not None:
        return round((available - unused) / 1024.0 * MIB_TO_MB, 1), "balloon"
    rss = stats.get("balloon.rss")
    if rss:
        return round(min(rss, memory_kib) / 1024.0 * MIB_TO_MB, 1), "rss"
    return round(memory_kib / 1024.0 * MIB_TO_MB, 1), "memory"


def vcpu_time(stats):
    return sum(v for k, v in stats.items() if k.startswith("vcpu.") and k.endswith(".time"))


def dirty_rate_error_mib_s(rates_mib_s, window_s):
    """Standard error of the mean of page-sampling rates (MiB/s).

    QEMU samples 512 pages per GiB of guest memory, so one dirty sample is worth 2/window
    MiB/s whatever the guest's size: a rate R read over W seconds rests on about R*W/2
    dirty samples, a Poisson count (at least 1, so a reading of 0 still has an error).
    """
    worth = 2.0 / window_s
    samples = sum(rates_mib_s) / worth
    return math.sqrt(max(samples, 1.0)) * worth / len(rates_mib_s)


def measure_dirty_rates(conn, running, types, params, warnings):
    """Run ``dirty_rate_rounds`` calculations of ``dirty_rate_s`` on every domain at once.

    Returns name -> (mean MB/s, standard error MB/s or None, mode). Several short rounds
    rather than one long window: a long window counts a page re-dirtied within it once,
    so it underestimates guests that rewrite a small working set.
    """
    modes = {}
    for dom in running:
        mode = params["dirty_rate_mode"]
        if mode != "page-sampling" and types.get(dom.name()) != "kvm":
            mode = "page-sampling"
        modes[dom.name()] = mode
    rates = dict((d.name(), []) for d in running)
    measuring = list(running)
    for _round in range(params["dirty_rate_rounds"]):
        started = []
        for dom in measuring:
            try:
                dom.startDirtyRateCalc(params["dirty_rate_s"], MODES[modes[dom.name()]])
                started.append(dom)
            except (libvirt.libvirtError, AttributeError) as exc:
                warnings.append("%s: dirty rate not measured: %s" % (dom.name(), exc))
        if not started:
            break
        time.sleep(params["dirty_rate_s"])
        deadline = time.time() + params["dirty_rate_s"] + 5
        pending = started
        while pending:
            stats = dict((d.name(), s) for d, s in conn.domainListGetStats(
                pending, libvirt.VIR_DOMAIN_STATS_DIRTYRATE))
            still = []
            for dom in pending:
                s = stats.get(dom.name(), {})
                if s.get("dirtyrate.calc_status") == 2:
                    rates[dom.name()].append(s.get("dirtyrate.megabytes_per_second", 0))
                else:
                    still.append(dom)
            pending = still
            if pending and time.time() > deadline:
                for dom in pending:
                    warnings.append("%s: dirty rate calculation did not finish" % dom.name())
                break
            if pending:
                time.sleep(0.2)
        measuring = [d for d in started if d not in pending]  # a failed domain is not retried
    out = {}
    for name, values in rates.items():
        if len(values) < params["dirty_rate_rounds"]:
            continue  # failed or hung in a round: warned above
        mean = sum(values) / len(values)
        error = None
        if modes[name] == "page-sampling":
            error = round(dirty_rate_error_mib_s(values, params["dirty_rate_s"]) * MIB_TO_MB, 2)
        out[name] = (round(mean * MIB_TO_MB, 2), error, modes[name])
    return out


def gather(module, params):
    conn = libvirt.open(params["uri"])
    try:
        info = conn.getInfo()
        kvm = os.path.exists("/dev/kvm")
        hyp = {"hostname": socket.gethostname(), "cpu": info[2], "memory_mb": int(info[1] * MIB_TO_MB),
               "free_memory_mb": int(conn.getFreeMemory() // 1000000),
               "libvirt_version": "%d.%d.%d" % (conn.getLibVersion() // 1000000,
                                                conn.getLibVersion() // 1000 % 1000,
                                                conn.getLibVersion() % 1000)}
        doms = conn.listAllDomains(0)
        running = [d for d in doms if d.state()[0] in (1, 2, 3)]
        warnings = []
        flags = (libvirt.VIR_DOMAIN_STATS_STATE | libvirt.VIR_DOMAIN_STATS_BALLOON
                 | libvirt.VIR_DOMAIN_STATS_VCPU)
        before = dict((d.name(), s) for d, s in conn.domainListGetStats(running, flags)) if running else {}
        t0 = time.time()
        types = dict((d.name(), domain_type(d)) for d in doms)
        hyp["kvm"] = kvm and any(t == "kvm" for t in types.values())
        dirty = {}
        if params["dirty_rate"] and running:
            dirty = measure_dirty_rates(conn, running, types, params, warnings)
        elapsed = max(time.time() - t0, 1e-3)
        after = dict((d.name(), s) for d, s in conn.domainListGetStats(running, flags)) if running else {}
        domains = []
        for dom in doms:
            name = dom.name()
            state, _max_kib, mem_kib, vcpus, _cpu_ns = dom.info()
            entry = {"name": name, "uuid": dom.UUIDString(), "state": STATES.get(state, str(state)),
                     "running": state in (1, 2, 3), "persistent": bool(dom.isPersistent()),
                     "vcpus": vcpus, "memory_mb": round(mem_kib / 1024.0 * MIB_TO_MB, 1), "domain_type": types.get(name),
                     "used_mb": None, "used_source": None, "dirty_mb_s": None, "dirty_error_mb_s": None,
                     "dirty_source": None,
                     "cpu_load": None}
            if entry["running"]:
                stats = after.get(name, {})
                entry["used_mb"], entry["used_source"] = used_mb(stats, mem_kib)
                if name in dirty:
                    entry["dirty_mb_s"], entry["dirty_error_mb_s"], entry["dirty_source"] = dirty[name]
                if name in before and vcpus:
                    busy_ns = vcpu_time(stats) - vcpu_time(before[name])
                    entry["cpu_load"] = round(min(1.0, max(0.0, busy_ns / 1e9 / elapsed / vcpus)), 2)
            domains.append(entry)
        return hyp, domains, warnings
    finally:
        conn.close()


def run_module():
    module = AnsibleModule(
        argument_spec=dict(
            uri=dict(type="str", default="qemu:///system"),
            migration_address=dict(type="str"),
            dirty_rate=dict(type="bool", default=True),
            dirty_rate_s=dict(type="int", default=2),
            dirty_rate_rounds=dict(type="int", default=5),
            dirty_rate_mode=dict(type="str", default="page-sampling", choices=list(MODES)),
            timeout_s=dict(type="int", default=30),
        ),
        supports_check_mode=True,
    )
    if LIBVIRT_IMPORT_ERROR:
        module.fail_json(msg=missing_required_lib("libvirt (Debian: python3-libvirt)"),
                         exception=LIBVIRT_IMPORT_ERROR)
    params = module.params
    if not 1 <= params["dirty_rate_s"] <= 60:
        module.fail_json(msg="dirty_rate_s must be between 1 and 60, got %d" % params["dirty_rate_s"])
    if params["dirty_rate_rounds"] < 1:
        module.fail_json(msg="dirty_rate_rounds must be at least 1, got %d" % params["dirty_rate_rounds"])
    needed = params["dirty_rate_rounds"] * (params["dirty_rate_s"] + 1) + 3
    if params["dirty_rate"] and params["timeout_s"] < needed:
        module.fail_json(msg="timeout_s (%d) leaves no time for %d dirty-rate rounds of %d s (needs %d); "
                         "raise timeout_s or lower dirty_rate_rounds"
                         % (params["timeout_s"], params["dirty_rate_rounds"], params["dirty_rate_s"], needed))
    start = time.time()
    signal.signal(signal.SIGALRM, _alarm)
    signal.alarm(params["timeout_s"])
    try:
        iface = interface_facts(module, params["migration_address"])
        hyp, domains, warnings = gather(module, params)
    except Timeout:
        module.fail_json(msg="hypervisor_info: no answer within timeout_s=%d s (libvirt hung?)"
                         % params["timeout_s"])
    except libvirt.libvirtError as exc:
        module.fail_json(msg="libvirt at %s: %s" % (params["uri"], exc))
    finally:
        signal.alarm(0)
    for warning in warnings:
        module.warn(warning)
    if params["migration_address"] and not iface["name"]:
        module.warn("no interface holds migration_address %s" % params["migration_address"])
    module.exit_json(changed=False, hypervisor=hyp, domains=domains, migration_interface=iface,
                     elapsed_s=round(time.time() - start, 2))


def main():
    run_module()


if __name__ == "__main__":
    main()
