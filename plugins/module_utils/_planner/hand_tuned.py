"""The expert's yardstick: the best hand-tuned hybrid plan (paper, section 5).

An expert empties drained hosts in ``k`` lanes (host i goes to lane i mod k,
each lane empties its hosts one after the other), migrates ``m`` VMs at a time
per host, boots spares ``b`` hosts ahead of need (``None``: all at once), and
optionally pairs sources with destinations so that on ``layer2`` bundles each
lane's flows hash to its own member. ``hand_tuned`` searches small k, m, b
with and without pairing and returns the best plan that passes the checker
(by completion, ties by mean migration), annotated by the simulator.
"""

from __future__ import annotations

import bisect

from .baselines import PlacementError, TargetRoom, first_fit_destinations
from .checker import check_plan
from .plan import Plan, migrate, power_off, power_on
from .schedule import FlowInfo, critical_path_s
from .simulator import annotate

DEFAULT_K = (1, 2, 3, 4, 6)
DEFAULT_M = (1, 2, 4)
DEFAULT_B = (0, 1, 2, None)


def _member_of(model, source, dest):
    """Member index on the first layer2 bundle the flow crosses (None: no layer2 bundle)."""
    for rid, dummy in model.flow_resources(source, dest):
        if rid[0] == "member":
            return rid[2], rid[1]
    return None


def lacp_aware_destinations(model, lanes, members=None):
    """First-fit, but each lane prefers targets whose pairing hashes to the lane's own member.

    Targets are ranked by (wrong member, not yet opened, off, listed order). The member of each
    (host, target) flow does not depend on the lanes: pass the same ``members`` dict to calls
    with other lanes to compute it once."""
    members = {} if members is None else members
    room = TargetRoom(model)
    placement, errors = {}, []
    listed = sorted(model.targets, key=lambda t: not model.hosts[t].on)   # stable: listed order kept
    position = {t: i for i, t in enumerate(listed)}
    opened, opened_in_order = set(), []      # opened targets, in the listed order
    bundle_size = {link.name: link.members for link in model.links}
    vms_on = {}
    for vm in model.vms.values():
        vms_on.setdefault(vm.host, []).append(vm)
    for lane_index, lane in enumerate(lanes):
        for host in lane:
            if host not in members:     # reachable targets and the member their flows take
                members[host] = [(t, _member_of(model, host, t)) for t in listed if model.reachable(host, t)]
            # targets off the lane's member go last: fixed per host
            group = {t: 0 if m is None else int(m[0] != lane_index % bundle_size[m[1]]) for t, m in members[host]}
            ranked = ([t for t, g in group.items() if g == 0], [t for t, g in group.items() if g == 1])
            for vm in sorted(vms_on.get(host, ()), key=lambda v: v.name):
                if vm.destination:
                    target = vm.destination if room.fits(vm, vm.destination) else None
                else:
                    target = _first_room(room, vm, ranked, group, opened, opened_in_order)
                if target is None:
                    errors.append(f"no target has room for VM {vm.name}")
                    continue
                placement[vm.name] = target
                room.place(vm, target)
                if target not in opened:
                    opened.add(target)
                    bisect.insort(opened_in_order, (position[target], target))
    if errors:
        raise PlacementError(errors)
    return placement


def _first_room(room, vm, ranked, group, opened, opened_in_order):
    """The first target with room for ``vm``: group by group, opened targets before the others."""
    def fits(t):
        return (room.free_cpu[t] + 1e-9 >= vm.cpu and room.free_mem[t] + 1e-9 >= vm.memory_mb
                and room.fits(vm, t))

    for g, targets in enumerate(ranked):
        for dummy, t in opened_in_order:
            if group.get(t) == g and fits(t):
                return t
        for t in targets:
            if t not in opened and fits(t):
                return t
    return None


def hybrid(model, k, m, b, pairing=False, placement=None):
    """One hand-tuned plan: k lanes, m VMs at a time per host, boots b hosts ahead."""
    lanes = [model.drain[i::k] for i in range(k)]
    lanes = [lane for lane in lanes if lane]
    if placement is None:
        placement = lacp_aware_destinations(model, lanes) if pairing else first_fit_destinations(model)
    actions, booted = [], {}
    # with licenses or a power budget, an expert boots only once a host is off
    gated = model.constraints.max_online_hosts is not None or model.constraints.power_budget_w is not None
    for lane in lanes:
        done = []            # per position: ids of that host's migrations
        for pos, host in enumerate(lane):
            vms = sorted(model.vms_on(host), key=lambda v: (-v.used_mb, v.name))
            previous = done[pos - 1] if pos else []
            boot_after = []
            if b is not None and pos - 1 - b >= 0:
                boot_after = [f"halt/{lane[pos - 1 - b]}"] if gated else done[pos - 1 - b]
            chains = [vms[i::m] for i in range(m)]
            ids = []
            for chain in chains:
                last = list(previous)
                for vm in chain:
                    dest = placement[vm.name]
                    after = list(last)
                    if not model.hosts[dest].on:
                        if dest not in booted:
                            actions.append(power_on(dest, 1, boot_after))
                            booted[dest] = actions[-1].id
                        after.append(booted[dest])
                    actions.append(migrate(vm.name, host, dest, 1, after))
                    last = [actions[-1].id]
                    ids.append(actions[-1].id)
            actions.append(power_off(host, 1, ids))
            done.append(ids or list(previous))
    # waves: position in lane
    pos_of = {h: i + 1 for lane in lanes for i, h in enumerate(lane)}
    for a in actions:
        if a.type == "migrate":
            a.wave = pos_of[a.source]
        elif a.type == "power_off":
            a.wave = pos_of[a.host]
    for a in actions:
        if a.type == "power_on":
            a.wave = min(x.wave for x in actions if x.type == "migrate" and x.destination == a.host)
    plan = Plan(actions, strategy="hand_tuned")
    plan.compute_waves()
    plan.extra["hand_tuned"] = {"lanes": k, "vms_at_once": m,
                                "boot_ahead": "all" if b is None else b, "lacp_pairing": pairing}
    return plan


def _key(plan):
    return (plan.predicted["completion_s"], plan.predicted["mean_migration_s"])


def _grid(model, ks, ms, bs, pairings):
    """Every hybrid of the grid, not replayed. The placement depends only on the lanes and
    the pairing, so it is computed once per (k, pairing)."""
    n_hosts = max(1, len(model.drain))
    members = {}
    for pairing in pairings:
        for k in ks:
            if not 0 < k <= n_hosts:
                continue
            lanes = [lane for lane in (model.drain[i::k] for i in range(k)) if lane]
            try:
                placement = (lacp_aware_destinations(model, lanes, members) if pairing
                             else first_fit_destinations(model))
            except PlacementError:
                continue
            for m in ms:
                for b in bs:
                    yield hybrid(model, k, m, b, pairing, placement=placement)


def hand_tuned_plans(model, ks=DEFAULT_K, ms=DEFAULT_M, bs=DEFAULT_B, pairings=(False, True)):
    """Every replayed hybrid of the grid (valid or not)."""
    for plan in _grid(model, ks, ms, bs, pairings):
        annotate(model, plan)
        yield plan


def hand_tuned(model, ks=DEFAULT_K, ms=DEFAULT_M, bs=DEFAULT_B, pairings=(False, True)):
    """Best valid hybrid over the grid (completion, then mean migration, then grid order); None
    if none is valid. Hybrids are replayed by increasing critical path (a cheap lower bound on
    their completion); those whose bound exceeds the best valid completion so far cannot win and
    are not replayed (at scale most of the grid)."""
    info = FlowInfo(model)
    grid = [(critical_path_s(model, plan, info), index, plan)
            for index, plan in enumerate(_grid(model, ks, ms, bs, pairings))]
    best, best_key = None, None
    for bound, index, plan in sorted(grid, key=lambda item: item[:2]):
        if best is not None and bound > best.predicted["completion_s"] + 1e-6:
            break
        annotate(model, plan)
        key = _key(plan) + (index,)
        if best is not None and key >= best_key:
            continue
        if check_plan(model, plan):
            continue
        best, best_key = plan, key
    return best
