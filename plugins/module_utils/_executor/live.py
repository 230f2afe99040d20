# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The live state of the hosts, read concurrently, and what it means for a plan: which actions
it shows done, and why the rest must not start (checked before anything acts)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import copy
from concurrent.futures import ThreadPoolExecutor


def scan(virsh, uris, workers=32, timeout_s=10):
    """{host: {vm: state}} or {host: None} when its libvirt does not answer; one bounded pool,
    so 2,000 hosts are read in a few seconds."""
    hosts = sorted(uris)
    if not hosts:
        return {}
    with ThreadPoolExecutor(max_workers=min(workers, len(hosts))) as pool:
        states = pool.map(lambda h: virsh.domains(uris[h], timeout=timeout_s), hosts)
        return dict(zip(hosts, states))


def where_vms_run(live):
    """{vm: host}: the host where each domain runs (or, if it runs nowhere, is defined)."""
    where = {}
    for host, domains in sorted(live.items()):
        for vm, state in (domains or {}).items():
            if state == "running" or vm not in where:
                where[vm] = host
    return where


def done_from_live(actions, live):
    """{id: 'done_before'} for the boots whose host answers and the migrations whose VM runs on its
    destination and is gone from its source (or its source is off). Power-offs are never
    inferred: their action asks the BMC, which is cheap and idempotent."""
    done = {}
    for a in actions:
        if a["type"] == "power_on" and live.get(a["host"]) is not None:
            done[a["id"]] = "done_before"
        elif a["type"] == "migrate":
            on_destination = (live.get(a["destination"]) or {}).get(a["vm"]) == "running"
            if on_destination and a["vm"] not in (live.get(a["source"]) or {}):
                done[a["id"]] = "done_before"
    return done


def refusals(pending, live, in_flight=()):
    """Why the ``pending`` actions must not start, against the live state (empty: go).
    ``in_flight``: actions a stopped run left running (a migration then shows on both ends)."""
    booted = {a["host"] for a in pending if a["type"] == "power_on"}
    moved_from = {}
    for a in pending:
        if a["type"] == "migrate":
            moved_from.setdefault(a["source"], set()).add(a["vm"])
    where = where_vms_run(live)
    out = []
    for a in pending:
        if a["type"] == "migrate":
            out += _migration_refusals(a, live, where, booted, a["id"] in in_flight)
        elif a["type"] == "power_off" and live.get(a["host"]) is not None:
            stay = sorted(set(live[a["host"]]) - moved_from.get(a["host"], set()))
            if stay:
                out.append("%s: %s holds %s, which no action of this run moves away; the power-off would be "
                           "refused (safe mode). Plan again from the live state, or select the waves that "
                           "move them" % (a["id"], a["host"], ", ".join(stay)))
    return out


def _migration_refusals(a, live, where, booted, in_flight):
    vm, src, dst = a["vm"], a["source"], a["destination"]
    out = []
    if live.get(src) is None and src not in booted:
        out.append("%s: source %s does not answer (off or unreachable), so %s cannot leave it" % (a["id"], src, vm))
    elif vm not in (live.get(src) or {}) and src not in booted:
        now = where.get(vm)
        out.append("%s: %s is not on %s but %s; the plan is out of date: plan again from the live state"
                   % (a["id"], vm, src, ("on " + now) if now else "on no host of the plan"))
    if live.get(dst) is None and dst not in booted:
        out.append("%s: destination %s does not answer and this run does not boot it" % (a["id"], dst))
    elif vm in (live.get(dst) or {}) and vm in (live.get(src) or {}) and not in_flight:
        out.append("%s: %s is defined on both %s and %s: resolve it by hand first" % (a["id"], vm, src, dst))
    return out


def replan_model(model, live, exclude):
    """The model as the live state shows it, without the ``exclude`` hosts (spares that did not
    come up): VMs where they run, hosts on when their libvirt answers, the excluded hosts off and
    no longer targets; the drain list keeps the hosts that are still on or still hold a VM."""
    m = copy.deepcopy(model)
    hosts = m.get("hosts", {})
    where = where_vms_run(live)
    for vm, v in m.get("vms", {}).items():
        if vm in where:
            v["host"] = where[vm]
    for h, hv in hosts.items():
        if h in live:
            hv["power"] = "on" if live[h] is not None else "off"
        if h in exclude:
            hv["power"] = "off"
    maint = m.setdefault("maintenance", {})
    drain = list(maint.get("drain", []))
    holding = {v["host"] for v in m.get("vms", {}).values()}
    maint["drain"] = [h for h in drain if hosts.get(h, {}).get("power") == "on" or h in holding]
    targets = maint.get("targets")
    if targets is None:
        targets = [h for h in hosts if h not in drain]
    maint["targets"] = [h for h in targets if h not in exclude]
    for v in m.get("vms", {}).values():
        if v.get("destination") in exclude:
            del v["destination"]
    return m
