"""Proven lower bounds on the completion of any valid plan (docs/planner.md, "Lower bound").

Every term here is a bound on every plan the checker accepts, replayed by the simulator:
the LP relaxation of the placement (data / capacity on every resource), the closed-form
NIC and uplink bound at scale, the boot cycles that max_online_hosts and power_budget_w
force, and the bounds of the registered constraints. ``lower_bound`` is the largest.
"""

from __future__ import annotations

import time

from .constraints import REGISTRY
from .milp import PlacementProblem, solve_placement

SMALL = 20000               # x variables up to which the VM-level MILP (and its LP bound) is used


def lower_bound(model, problem=None, solver="highs"):
    """Proven lower bound on completion: the largest of ``bound_terms``."""
    return max((seconds for seconds, dummy in bound_terms(model, problem, solver).values()), default=0.0)


def bound_terms(model, problem=None, solver="highs"):
    """{term: (seconds, time spent)}: every proven bound on completion (docs/planner.md). The LP
    relaxation runs up to SMALL VM x target pairs; the closed-form terms always."""
    problem = problem or PlacementProblem(model)
    if not problem.moving:
        return {}
    terms = {}

    def term(name, compute):
        started = time.monotonic()
        terms[name] = (compute() or 0.0, time.monotonic() - started)

    if sum(len(c) for c in problem.candidates.values()) <= SMALL:
        term("lp", lambda: solve_placement(problem, solver=solver, time_limit_s=30, lp_bound=True)["bound"])
    term("uplink", lambda: _rack_bound(model, problem))
    term("host_nic", lambda: host_nic_bound(model, problem))
    term("late_targets", lambda: late_target_bound(model, problem))
    term("boot_cycles", lambda: boot_cycle_bound(model, problem))
    term("registered", lambda: registered_bound(model, problem)[0])
    return terms


def _target_ready(model, problem):
    """Earliest time a migration may start into each target: 0 if on, else its boot time (the
    checker makes a migration into an off target wait for its whole boot)."""
    return {t: 0.0 if model.hosts[t].on else model.hosts[t].boot_s for t in problem.targets}


def _first_ready(ready, candidates):
    """Earliest ready time among a VM's candidate targets (stops at the first one on: a VM has
    thousands of candidates at scale)."""
    first = None
    for t in candidates:
        if ready[t] == 0.0:
            return 0.0
        first = ready[t] if first is None else min(first, ready[t])
    return first or 0.0


def _drain_time(items, rate):
    """Least time by which ``items`` [(earliest start, MB)] can all be sent through one pipe of
    ``rate`` MB/s: the latest start plus what starts then or later, over the pipe."""
    finish, data = 0.0, 0.0
    for start, megabytes in sorted(items, reverse=True):
        data += megabytes
        finish = max(finish, start + data / rate)
    return finish


def host_nic_bound(model, problem):
    """Each drained host that is on: its VMs' data through its own NIC, each VM's data no
    earlier than its first candidate target can be on, then its own shutdown (the checker
    powers it off only after its last VM has left)."""
    return max(_host_nic_times(model, problem).values(), default=0.0)


def _host_nic_times(model, problem):
    """{drained host that is on: earliest time it can be off through its own NIC}."""
    ready = _target_ready(model, problem)
    hosts, eff = model.hosts, model.efficiency / 8.0
    items = {h: [] for h in model.drain if hosts[h].on}
    for vm in problem.moving:
        if vm.host in items:     # no data moves before the set-up of its migration is over
            start = _first_ready(ready, problem.candidates[vm.name]) + model.migration_setup_s
            items[vm.host].append((start, vm.used_mb))
    return {h: _drain_time(vms, hosts[h].nic_mbps * eff) + hosts[h].shutdown_s for h, vms in items.items()}


def late_target_bound(model, problem):
    """Receive side, island by island: for each time tau, the targets ready by tau (on, or
    booted) have only so much free cpu and memory; the VMs that do not fit must go to targets
    that are on only later, and at least the least data that carries that much cpu (memory)
    must cross those targets' NICs after their boot. With tau before every target, this is all
    the island's data through the receive NICs of its targets as they come up."""
    ready = _target_ready(model, problem)
    hosts, eff = model.hosts, model.efficiency / 8.0
    vms_of, targets_of = {}, {}
    for vm in problem.moving:
        vms_of.setdefault(model.island_of(vm.host), []).append(vm)
    for t in problem.targets:
        targets_of.setdefault(model.island_of(t), []).append(t)
    best = 0.0
    for island, vms in vms_of.items():
        targets = targets_of.get(island, [])
        end = min(hosts[v.host].shutdown_s for v in vms)
        for tau in sorted({-1.0} | {ready[t] for t in targets}):
            late = [t for t in targets if ready[t] > tau]
            if not late:
                continue
            early = [t for t in targets if ready[t] <= tau]
            data = max(_least_data_beyond(vms, lambda v: v.cpu, sum(max(0.0, problem.free_cpu[t]) for t in early)),
                       _least_data_beyond(vms, lambda v: v.memory_mb,
                                          sum(max(0.0, problem.free_mem[t]) for t in early)))
            if data > 0:
                pipes = [(ready[t] + model.migration_setup_s, hosts[t].nic_mbps * eff) for t in late]
                best = max(best, _fill_time(pipes, data) + end)
    return best


def _least_data_beyond(vms, size, room):
    """Least data of VMs whose ``size`` sums to more than ``room`` (fractional, so a lower bound:
    the VMs with the least data per unit of size first)."""
    excess = sum(size(v) for v in vms) - room
    if excess <= 1e-9:
        return 0.0
    data = 0.0
    for vm in sorted(vms, key=lambda v: v.used_mb / size(v) if size(v) > 0 else float("inf")):
        take = min(size(vm), excess)
        if take <= 0:
            break
        data += vm.used_mb * take / size(vm)
        excess -= take
    return data


def _fill_time(pipes, data):
    """Least time by which pipes [(ready time, MB/s)] together carry ``data`` MB."""
    pipes = sorted(pipes)
    rate, sent, now = 0.0, 0.0, pipes[0][0]
    for ready, cap in pipes:
        if rate > 0 and sent + rate * (ready - now) >= data:
            break
        sent += rate * (ready - now)
        now, rate = ready, rate + cap
    return now + (data - sent) / rate


def registered_bound(model, problem):
    """(seconds, why) the largest bound of a registered constraint (e.g. a concurrency cap)."""
    found = [b for b in (c.bound(model, problem) for c in REGISTRY) if b is not None]
    return max(found, key=lambda b: b[0], default=(0.0, ""))


def boot_cycle_bound(model, problem):
    """Bound from max_online_hosts and power_budget_w when every target is an off spare and
    every drained host holds a VM (0 otherwise, or when neither cap binds).

    Only a drained host's power-off frees room for another spare (the checker forbids powering
    off any other host). ``T[j]``, a bound on when j drained hosts can be off, grows host by host:
    the j hosts' VMs fill at least ``need(j)`` spares (the largest spares, the lightest hosts, cpu
    and memory counted apart), and the spares that may have started by time x are at most
    ``spare_room(hosts off by x)``; a VM lands in a spare started at least one cycle (shortest
    boot + set-up + shortest migration + shortest shutdown) before its host is off. So
    ``T[j] >= T[i] + cycle`` for the fewest hosts off ``i`` whose room reaches ``need(j)``; also
    ``T[j]`` is at least the j-th smallest own-NIC time of a host, and the j lightest hosts' data
    must enter the spares started so far through their NICs after their boot.
    """
    hosts = model.hosts
    spares = [t for t in problem.targets if not hosts[t].on]
    drained = sorted(model.drain)
    load = {h: [0.0, 0.0, 0.0] for h in drained}     # cpu, memory, data
    for vm in problem.moving:
        load[vm.host][0] += vm.cpu
        load[vm.host][1] += vm.memory_mb
        load[vm.host][2] += vm.used_mb
    if len(spares) < len(problem.targets) or any(load[h][1] == 0 for h in drained):
        return 0.0
    spare_room = _spare_room(model, spares, drained)
    if spare_room is None or spare_room(0) >= len(spares):
        return 0.0
    # a migration lasts at least its data at its path's rate (the lone duration over-counts one
    # that never converges: it is suspended at the timeout and only its rest is copied)
    cycle = (problem.min_boot + problem.min_shutdown + model.migration_setup_s
             + min((vm.used_mb / problem.info.rate(vm.host, t) for vm in problem.moving
                    for t in problem.candidates[vm.name]), default=0.0))
    need = _spares_needed(model, spares, [load[h][:2] for h in drained])
    own_nic = sorted(_host_nic_times(model, problem).values())
    data = [0.0] + _prefix_sums(sorted(load[h][2] for h in drained))
    eff = model.efficiency / 8.0
    rx = sorted((hosts[t].nic_mbps * eff for t in spares), reverse=True)
    off_by = [0.0]                               # off_by[j]: j drained hosts off at the earliest
    opens = []                                   # when the s-th spare may start booting (s = 1, 2, ...)
    i = 0                                        # fewest hosts off whose room holds need(j): grows with j
    for j in range(1, len(drained) + 1):
        while len(opens) < len(spares) and spare_room(len(off_by) - 1) > len(opens):
            opens.append(off_by[-1])
        while i < j and spare_room(i) < need(j):
            i += 1
        if i == j:
            return 0.0   # cannot progress even optimistically: explain() reports it
        pipes = [(start + problem.min_boot, rate) for start, rate in zip(opens, rx)]
        off_by.append(max(off_by[-1], off_by[i] + cycle, own_nic[j - 1] if j <= len(own_nic) else 0.0,
                          _fill_time(pipes, data[j]) + problem.min_shutdown))
    return off_by[-1]


def _prefix_sums(values):
    out, total = [], 0.0
    for value in values:
        total += value
        out.append(total)
    return out


def _spares_needed(model, spares, host_loads):
    """``need(j)``: fewest spares whose cpu and memory could hold the VMs of any j drained hosts
    (the largest spares, the j lightest hosts, each dimension apart: optimistic)."""
    hosts = model.hosts
    caps = [_prefix_sums(sorted((hosts[t].cpu for t in spares), reverse=True)),
            _prefix_sums(sorted((hosts[t].memory_mb for t in spares), reverse=True))]
    loads = [_prefix_sums(sorted(load[dim] for load in host_loads)) for dim in (0, 1)]

    def need(j):
        fewest = 0
        for dim in (0, 1):
            n = next((n for n, room in enumerate(caps[dim], 1) if room + 1e-9 >= loads[dim][j - 1]), None)
            if n is None:
                return len(spares) + 1
            fewest = max(fewest, n)
        return fewest
    return need


def _spare_room(model, spares, drained):
    """``room(n)``: most spares that may be on or booting once n drained hosts are off (None:
    no cap). max_online_hosts gives one slot per host off; power_budget_w see _power_floor."""
    cons, hosts = model.constraints, model.hosts
    limits = []
    if cons.max_online_hosts is not None:
        free = cons.max_online_hosts - sum(1 for h in hosts.values() if h.on)
        limits.append(lambda n: free + n)
    power = _power_floor(model, spares, drained)
    if power is not None:
        floor_w, cost, savings = power
        saved = [0.0] + _prefix_sums(savings)
        limits.append(lambda n: int((cons.power_budget_w - floor_w + saved[min(n, len(savings))] + 1e-9) // cost))
    if not limits:
        return None
    return lambda n: min(limit(n) for limit in limits)


def _power_floor(model, spares, drained):
    """(lowest draw now, least a spare adds, what each drained host off saves at most, largest
    first) under power_budget_w, or None when there is no budget or a spare costs nothing.

    Every host counts at its lowest possible draw: running hosts at their present load (which
    only grows on targets), drained hosts at idle until off plus their VMs' load at the
    flattest slope of any host (wherever those VMs run); a spare adds at least
    min(boot, idle) - off; a drained host off saves at most its idle - off."""
    hosts = model.hosts
    if model.constraints.power_budget_w is None or not spares:
        return None
    spare_set, drained_set = set(spares), set(drained)
    floor_w = 0.0
    for host in hosts.values():
        if host.name in drained_set:
            floor_w += host.power_w.idle
        elif host.on and host.name not in spare_set:
            floor_w += model.host_power_w(host, sum(v.cpu * v.cpu_load for v in model.vms_on(host.name)))
        else:
            floor_w += host.power_w.off
    slope = min((h.power_w.max - h.power_w.idle) / h.cpu for h in hosts.values())
    floor_w += sum(slope * vm.cpu * vm.cpu_load for vm in model.vms.values() if vm.host in drained_set)
    cost = min(min(hosts[t].power_w.boot, hosts[t].power_w.idle) - hosts[t].power_w.off for t in spares)
    savings = sorted((hosts[h].power_w.idle - hosts[h].power_w.off for h in drained), reverse=True)
    return (floor_w, cost, savings) if cost > 0 else None


def _rack_bound(model, problem):
    """A rack's uplink, when no target shares its switch, must carry its drained hosts' data,
    each VM's data no earlier than its first candidate target can be on, then the shortest
    shutdown of the rack's drained hosts (0 when no rack is in that case)."""
    hosts = model.hosts
    ready = _target_ready(model, problem)
    eff = model.efficiency / 8.0
    per_rack = {}
    for vm in problem.moving:
        start = _first_ready(ready, problem.candidates[vm.name]) + model.migration_setup_s
        per_rack.setdefault(hosts[vm.host].switch, []).append((start, vm.used_mb, hosts[vm.host].shutdown_s))
    bound = 0.0
    target_switches = {hosts[t].switch for t in problem.targets}
    for rack, items in per_rack.items():
        links = [link for link in model.links if rack in link.ends]
        if rack in target_switches or len(links) != 1:
            continue
        cap = links[0].members * links[0].member_mbps * eff
        end = min(item[2] for item in items)
        bound = max(bound, _drain_time([item[:2] for item in items], cap) + end)
    return bound
