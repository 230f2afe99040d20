"""Proven lower bounds on the completion of any valid plan (docs/planner.md, "Lower bound").

Every term here is a bound on every plan the checker accepts, replayed by the simulator:
the LP relaxation of the placement (data / capacity on every resource), the closed-form
NIC and uplink bound at scale, the boot cycles that max_online_hosts and power_budget_w
force, and the bounds of the registered constraints. ``lower_bound`` is the largest.
"""

from __future__ import annotations

from .constraints import REGISTRY
from .milp import PlacementProblem, solve_placement

SMALL = 20000               # x variables up to which the VM-level MILP (and its LP bound) is used


def lower_bound(model, problem=None, solver="highs"):
    """Proven lower bound on completion: the larger of the LP relaxation of (data / capacity)
    on every resource and the boot cycles that max_online_hosts and power_budget_w force."""
    problem = problem or PlacementProblem(model)
    if not problem.moving:
        return 0.0
    if sum(len(c) for c in problem.candidates.values()) > SMALL:
        data_bound = _rack_bound(model, problem)
    else:
        data_bound = solve_placement(problem, solver=solver, time_limit_s=30, lp_bound=True)["bound"] or 0.0
    return max(data_bound, boot_cycle_bound(model, problem), registered_bound(model, problem)[0])


def registered_bound(model, problem):
    """(seconds, why) the largest bound of a registered constraint (e.g. a concurrency cap)."""
    found = [b for b in (c.bound(model, problem) for c in REGISTRY) if b is not None]
    return max(found, key=lambda b: b[0], default=(0.0, ""))


def boot_cycle_bound(model, problem):
    """Bound from max_online_hosts and power_budget_w when every target is an off spare and
    every drained host holds a VM (0 otherwise, or when neither cap binds).

    Only a drained host's power-off frees room for another spare (the checker forbids
    powering off any other host), and it needs a spare booted, a migration into it and a
    shutdown: one cycle of at least min boot + shortest migration (data at its lone rate) + min
    shutdown. By
    cycle k at most ``spare_room(hosts off by then)`` spares have been started, and the
    hosts off by cycle k+1 are at most those whose VMs fit in that many spares (the largest,
    cpu and memory counted apart, VMs of the lightest hosts: optimistic on every side).
    """
    cons, hosts = model.constraints, model.hosts
    spares = [t for t in problem.targets if not hosts[t].on]
    drained = sorted(model.drain)
    load = {h: [0.0, 0.0] for h in drained}
    for vm in problem.moving:
        load[vm.host][0] += vm.cpu
        load[vm.host][1] += vm.memory_mb
    if len(spares) < len(problem.targets) or any(load[h][1] == 0 for h in drained):
        return 0.0
    spare_room = _spare_room(model, spares, drained)
    if spare_room is None or spare_room(0) >= len(spares):
        return 0.0
    # a migration lasts at least its data at its path's rate (the lone duration over-counts one
    # that never converges: it is suspended at the timeout and only its rest is copied)
    cycle = (problem.min_boot + problem.min_shutdown
             + min((vm.used_mb / problem.info.rate(vm.host, t) for vm in problem.moving
                    for t in problem.candidates[vm.name]), default=0.0))
    spare_caps = [sorted((hosts[t].cpu for t in spares), reverse=True),
                  sorted((hosts[t].memory_mb for t in spares), reverse=True)]
    host_loads = [sorted(load[h][0] for h in drained), sorted(load[h][1] for h in drained)]

    def emptied(n_spares):
        """Most drained hosts whose VMs fit in n_spares spares."""
        counts = []
        for dim in (0, 1):
            room, count = sum(spare_caps[dim][:n_spares]), 0
            for need in host_loads[dim]:
                if need > room + 1e-9:
                    break
                room -= need
                count += 1
            counts.append(count)
        return min(counts)

    off, cycles = 0, 0
    while off < len(drained):
        now_off = emptied(min(len(spares), spare_room(off)))
        cycles += 1
        if now_off <= off:
            return 0.0   # cannot progress even optimistically: explain() reports it
        off = now_off
    return cycles * cycle


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
        limits.append(lambda n: int((cons.power_budget_w - floor_w + sum(savings[:n]) + 1e-9) // cost))
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
    """Closed-form bound at scale: a drained host's NIC, and a rack's uplink when no target
    shares its switch, must carry their data after the first boot (if no target is on)."""
    hosts = model.hosts
    start = problem.min_boot if not any(hosts[t].on for t in problem.targets) else 0.0
    end = problem.min_shutdown
    eff = model.efficiency / 8.0
    per_host, per_rack = {}, {}
    for vm in problem.moving:
        per_host[vm.host] = per_host.get(vm.host, 0.0) + vm.used_mb
        per_rack[hosts[vm.host].switch] = per_rack.get(hosts[vm.host].switch, 0.0) + vm.used_mb
    bound = max(start + data / (hosts[h].nic_mbps * eff) + end for h, data in per_host.items())
    target_switches = {hosts[t].switch for t in problem.targets}
    for rack, data in per_rack.items():
        links = [link for link in model.links if rack in link.ends]
        if rack in target_switches or len(links) != 1:
            continue
        cap = links[0].members * links[0].member_mbps * eff
        bound = max(bound, start + data / cap + end)
    return bound
