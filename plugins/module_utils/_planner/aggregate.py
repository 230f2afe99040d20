"""Scale: the placement MILP on classes instead of VMs.

Interchangeable objects are merged: drained hosts of one switch (rack) form a
source class, targets of one switch a destination class, and the MILP decides
integer counts ``n[a, b]`` of hosts of rack ``a`` emptied whole into spares of
rack ``b`` (a few hundred integers instead of millions of binaries). Racks are
the independent parts of the network tree: only their uplinks are shared, so
the completion estimate is ``T >= boot + data over each uplink / capacity +
shutdown``. Inside a (rack, rack) pair, hosts are matched to spares greedily
so that, on ``layer2`` bundles, flows spread over the members (pairing).

Used when the VM-level MILP would be too large. Falls back (returns no
placement) when a host's VMs do not fit one spare, or VMs are pinned or spread.
"""

from __future__ import annotations

import time

from .milp import _pulp, get_solver, quiet_stdout


def _uplink(model, switch):
    """The (link, forward) a flow leaving ``switch`` crosses first (None: no link)."""
    for link in model.links:
        if switch in link.ends:
            return link
    return None


def solve_aggregated(problem, objective="completion", solver="highs", time_limit_s=30.0, warm=None):
    pulp = _pulp()
    model = problem.model
    started = time.monotonic()
    out = {"status": "not run", "gap": None, "time_s": 0.0}
    if model.constraints.spread or any(v.destination for v in problem.moving):
        out["status"] = "aggregation not applicable (pinned or spread VMs)"
        return out
    hosts = model.hosts
    vms_of = {h: [] for h in model.drain}
    for vm in problem.moving:
        vms_of[vm.host].append(vm)
    data = {h: sum(v.used_mb for v in vms) for h, vms in vms_of.items()}
    need_cpu = {h: sum(v.cpu for v in vms) for h, vms in vms_of.items()}
    need_mem = {h: sum(v.memory_mb for v in vms) for h, vms in vms_of.items()}
    src_racks, dst_racks = {}, {}
    for h in model.drain:
        if vms_of[h]:
            src_racks.setdefault(hosts[h].switch, []).append(h)
    for t in problem.targets:
        dst_racks.setdefault(hosts[t].switch, []).append(t)
    biggest_cpu, biggest_mem = max(need_cpu.values(), default=0), max(need_mem.values(), default=0)
    for rack, ts in dst_racks.items():
        dst_racks[rack] = [t for t in ts if problem.free_cpu[t] >= biggest_cpu
                           and problem.free_mem[t] >= biggest_mem]
    if sum(len(ts) for ts in dst_racks.values()) < sum(len(hs) for hs in src_racks.values()):
        out["status"] = "aggregation not applicable (hosts do not fit one spare each)"
        return out
    eff = model.efficiency / 8.0
    prob = pulp.LpProblem("wavedrain_racks", pulp.LpMinimize)
    n = {}
    for a in src_racks:
        for b, ts in dst_racks.items():
            if ts and model.reachable(src_racks[a][0], ts[0]):   # racks of the same island only
                n[a, b] = prob.add_variable(f"n_{len(n)}", 0, min(len(src_racks[a]), len(ts)), "Integer")
    T = prob.add_variable("T", 0, None, "Continuous")
    avg = {a: sum(data[h] for h in hs) / len(hs) for a, hs in src_racks.items()}
    for a, hs in src_racks.items():
        prob += pulp.lpSum(n[a, b] for b in dst_racks if (a, b) in n) == len(hs)
    for b, ts in dst_racks.items():
        prob += pulp.lpSum(n[a, b] for a in src_racks if (a, b) in n) <= len(ts)
    boot = problem.min_boot
    shut = problem.min_shutdown
    for rack in set(src_racks) | set(dst_racks):
        link = _uplink(model, rack)
        if link is None:
            continue
        cap = link.members * link.member_mbps * eff
        leaving = [n[rack, b] * avg[rack] for b in dst_racks if (rack, b) in n and b != rack]
        arriving = [n[a, rack] * avg[a] for a in src_racks if (a, rack) in n and a != rack]
        if leaving:
            prob += T >= boot + pulp.lpSum(leaving) * (1.0 / cap) + shut
        if arriving:
            prob += T >= boot + pulp.lpSum(arriving) * (1.0 / cap) + shut
    # symmetry breaking / tie: prefer nearby racks (intra-rack moves cross no uplink)
    prob += T + 1e-4 * pulp.lpSum(var for (a, b), var in n.items() if a != b)
    build = time.monotonic() - started
    with quiet_stdout():
        stats = prob.solve(get_solver(solver, time_limit_s))
    status = stats.status.name if hasattr(stats.status, "name") else str(stats.status)
    out.update(status=status, build_s=build, time_s=time.monotonic() - started, variables=len(n) + 1)
    if stats.objective is not None and stats.best_bound is not None and stats.objective:
        out["gap"] = max(0.0, (stats.objective - stats.best_bound) / abs(stats.objective))
    if not stats.has_solution:
        return out
    # which hosts of rack a go to rack b: the MILP's counts; the MILP priced each host at the
    # rack's average, so hand hosts (biggest first) to the rack with the most data still due
    sent_to = {}
    for a, hs in src_racks.items():
        count = {b: int(round(n[a, b].value() or 0)) for b in dst_racks if (a, b) in n}
        due = {b: c * avg[a] for b, c in count.items()}
        for h in sorted(hs, key=lambda h: -data[h]):
            b = max((b for b in count if count[b] > 0), key=lambda b: due[b])
            sent_to[h] = b
            count[b] -= 1
            due[b] -= data[h]
    placement = (_balanced_vm_placement(problem, sent_to, dst_racks)
                 or _whole_host_placement(problem, sent_to, dst_racks, vms_of, data))
    out["placement"] = placement
    return out


def _load_after(problem, load, source, target, used_mb):
    """Busiest layer2 member or receiving NIC of the flow source -> target once it carries ``used_mb`` more,
    in seconds of transfer: what the VM-level expansion keeps balanced."""
    worst = 0.0
    for rid, cap in problem.info.resources(source, target):
        if rid[0] in ("member", "rx"):
            worst = max(worst, (load.get(rid, 0.0) + used_mb) / cap)
    return worst


def _balanced_vm_placement(problem, sent_to, dst_racks):
    """VM by VM (largest first), the spare of the chosen rack that keeps layer2 members and NICs
    least loaded. A member carries a fixed (source, spare) MAC pair, so spreading one host's VMs
    over spares of different hash classes balances the members of both uplinks: the rack bound
    becomes reachable. Returns None when some VM fits no spare of its rack (caller falls back)."""
    free_cpu, free_mem = dict(problem.free_cpu), dict(problem.free_mem)
    load, placement = {}, {}
    moving = sorted((vm for vm in problem.moving if vm.host in sent_to), key=lambda v: (-v.used_mb, v.name))
    for vm in moving:
        best, best_key = None, None
        for rank, t in enumerate(dst_racks[sent_to[vm.host]]):
            if free_cpu[t] + 1e-9 < vm.cpu or free_mem[t] + 1e-9 < vm.memory_mb:
                continue
            key = (_load_after(problem, load, vm.host, t, vm.used_mb), rank)
            if best_key is None or key < best_key:
                best, best_key = t, key
        if best is None:
            return None
        placement[vm.name] = best
        free_cpu[best] -= vm.cpu
        free_mem[best] -= vm.memory_mb
        for rid, dummy in problem.info.resources(vm.host, best):
            load[rid] = load.get(rid, 0.0) + vm.used_mb
    return placement


def _whole_host_placement(problem, sent_to, dst_racks, vms_of, data):
    """Each host emptied whole into one spare of its rack, spreading flows over layer2 members."""
    member_load, placement = {}, {}
    free = {b: list(ts) for b, ts in dst_racks.items()}
    for h in sorted(sent_to, key=lambda h: -data[h]):
        best, best_key = None, None
        for t in free[sent_to[h]]:
            key = max((member_load.get(rid, 0.0) for rid, dummy in problem.info.resources(h, t)
                       if rid[0] == "member"), default=0.0)
            if best_key is None or key < best_key:
                best, best_key = t, key
        free[sent_to[h]].remove(best)
        for rid, dummy in problem.info.resources(h, best):
            if rid[0] == "member":
                member_load[rid] = member_load.get(rid, 0.0) + data[h]
        for vm in vms_of[h]:
            placement[vm.name] = best
    return placement
