"""plan_drain: the entry point. Explain infeasible requests, solve, schedule, replay, check.

Pipeline: explain (PlanningError) -> lower bound (LP) -> yardsticks (warm start
and fallback) -> placement MILP -> lane scheduler -> simulator replay ->
checker -> the best valid candidate for the objective. The returned plan's
``predicted`` always comes from the simulator and it always passes the checker.
"""

from __future__ import annotations

import time

from .baselines import (PlacementError, TargetRoom, balanced_destinations, first_fit_destinations, parallel,
                        sequential)
from .bound import SMALL, _power_floor, lower_bound, registered_bound
from .cascade import boots_capped, cascade_destinations, spare_order
from .member_balance import rebalance_members
from .checker import check_plan
from .constraints import REGISTRY
from .hand_tuned import hand_tuned, lacp_aware_destinations
from .milp import PlacementProblem, solve_placement
from .schedule import (FlowInfo, ScheduleError, build_lane_plan, critical_path_s, lane_slots, rate_units,
                       lone_duration_s, required_rate_mb_s)
from .simulator import SimulationError, annotate

OBJECTIVES = ("completion", "migration", "energy")
STRATEGIES = ("optimal", "sequential", "parallel", "hand_tuned")
MIGRATION_SLACK = 1.25      # mean migration may be at most 25 % above the sequential plan's
PARALLEL_REPLAY_MAX = 3000  # migrations above which the parallel yardstick is not replayed
PICK_EARLIEST_MAX = 3000    # migrations above which lane plans send each host's VMs largest first


class PlanningError(ValueError):
    """The request cannot be met; ``errors`` explains each reason."""

    def __init__(self, errors):
        self.errors = list(errors)
        super().__init__("; ".join(self.errors))


def _mbit(mb_s):
    return f"{mb_s * 8:.0f} Mbit/s"


def explain(model, flows_info=None):
    """Reasons why no plan can exist (empty list: go ahead)."""
    info = flows_info or FlowInfo(model)
    cons, hosts = model.constraints, model.hosts
    errors = []
    drained = set(model.drain)
    moving = [v for v in model.vms.values() if v.host in drained]
    # a spare must boot when the targets already on cannot take the VMs
    on_targets = [t for t in model.targets if hosts[t].on]
    free_cpu = sum(hosts[t].cpu for t in on_targets) - sum(
        v.cpu for v in model.vms.values() if v.host in on_targets)
    free_mem = sum(hosts[t].memory_mb for t in on_targets) - sum(
        v.memory_mb for v in model.vms.values() if v.host in on_targets)
    pinned_off = sorted({v.destination for v in moving if v.destination and not hosts[v.destination].on})
    must_boot = (sum(v.cpu for v in moving) > free_cpu + 1e-9
                 or sum(v.memory_mb for v in moving) > free_mem + 1e-9 or bool(pinned_off))
    online = sum(1 for h in hosts.values() if h.on)
    if must_boot and cons.max_online_hosts is not None and cons.max_online_hosts <= online:
        why = (f"VMs are pinned to {', '.join(pinned_off)}, which is off" if pinned_off
               else "the targets already on lack room")
        errors.append(f"constraints.max_online_hosts: {cons.max_online_hosts} while {online} hosts are "
                      f"on and a spare must boot ({why}): needs at least {online + 1}")
    power = _power_floor(model, [t for t in model.targets if not hosts[t].on], model.drain)
    if must_boot and power is not None and power[0] + power[1] > cons.power_budget_w + 1e-9:
        errors.append(f"constraints.power_budget_w: {cons.power_budget_w:g} W leaves no room to boot a "
                      f"spare: the hosts draw at least {power[0]:.0f} W and a spare adds at least "
                      f"{power[1]:.0f} W; raise it to at least {power[0] + power[1]:.0f} W or drain fewer hosts")
    errors.extend(island_errors(model, moving))
    for constraint in REGISTRY:
        errors.extend(constraint.explain(model))
    for i, group in enumerate(cons.spread):
        if len(group) > len(model.targets):
            errors.append(f"constraints.spread[{i}] has {len(group)} VMs but only {len(model.targets)} "
                          f"targets: each VM of the group needs its own host")
    if not cons.allow_non_live:
        best_path = {}     # (host, pinned destination or None) -> best rate: hosts carry many VMs
        for vm in sorted(moving, key=lambda v: v.name):
            need = required_rate_mb_s(model, vm)
            if (vm.host, vm.destination) not in best_path:
                cands = [vm.destination] if vm.destination else model.targets
                best_path[vm.host, vm.destination] = _best_rate(model, info, vm.host, cands)
            best = best_path[vm.host, vm.destination]
            if best is None:
                continue        # no target in its island: island_errors names it
            if need > best + 1e-9:
                errors.append(f"{vm.name} needs {_mbit(need)} to converge within "
                              f"{cons.max_downtime_ms:g} ms downtime; the best path offers {_mbit(best)} "
                              f"(set constraints.allow_non_live: true to suspend and copy it)")
                continue
            alone = lone_duration_s(model, vm, best)
            if alone > cons.migration_timeout_s + 1e-9:
                errors.append(f"{vm.name} takes {alone:.1f} s to migrate even alone on its best path "
                              f"({_mbit(best)}), beyond constraints.migration_timeout_s "
                              f"{cons.migration_timeout_s:g} s (raise it, or set constraints.allow_non_live: "
                              f"true to suspend and copy it)")
    return errors


def _best_rate(model, info, source, targets):
    """Best lone rate from ``source`` to one of ``targets`` in its island (None: none there).
    No path beats the source's own NIC: the scan stops at the first target that reaches it."""
    ceiling = model.hosts[source].nic_mbps * model.efficiency / 8.0
    best = None
    for t in targets:
        if model.reachable(source, t):
            rate = info.rate(source, t)
            best = rate if best is None else max(best, rate)
            if best >= ceiling - 1e-9:
                break
    return best


def island_errors(model, moving):
    """VMs with no target of their own network island that has room for them (before any move),
    pins into another island, and islands whose targets lack room for their VMs altogether."""
    room = TargetRoom(model)
    islands = {}
    for switch in model.switches():
        islands.setdefault(model.island_of_switch(switch), []).append(switch)
    if len(islands) < 2:
        return []
    errors, fits, need, free = [], {}, {}, {}
    for t in model.targets:
        island = model.island_of(t)
        free.setdefault(island, [0.0, 0.0])
        free[island][0] += room.free_cpu[t]
        free[island][1] += room.free_mem[t]
    for vm in sorted(moving, key=lambda v: v.name):
        island = model.island_of(vm.host)
        where = f"its network island (switches {', '.join(islands[island])})"
        if vm.destination and not model.reachable(vm.host, vm.destination):
            errors.append(f"vms.{vm.name}.destination {vm.destination} is outside {where}: no link path "
                          f"leads there from {vm.host}; pin it to a host of its island or link the islands")
            continue
        key = (island, vm.cpu, vm.memory_mb)
        if key not in fits:
            fits[key] = any(model.island_of(t) == island and room.free_cpu[t] >= vm.cpu
                            and room.free_mem[t] >= vm.memory_mb for t in model.targets)
        if not fits[key]:
            errors.append(f"vms.{vm.name} on {vm.host} ({vm.cpu:g} cpu, {vm.memory_mb:g} MB) has no target with "
                          f"room in {where}: add a target there or link the island to the others")
        need.setdefault(island, [0.0, 0.0])
        need[island][0] += vm.cpu
        need[island][1] += vm.memory_mb
    for island, (cpu, mem) in sorted(need.items()):
        have = free.get(island, [0.0, 0.0])
        if cpu > have[0] + 1e-9 or mem > have[1] + 1e-9:
            errors.append(f"the VMs drained in the network island of switches {', '.join(islands[island])} need "
                          f"{cpu:g} cpu and {mem:g} MB but its targets have {have[0]:g} cpu and {have[1]:g} MB "
                          f"free: add targets there or drain fewer hosts")
    return errors


def _key(objective, plan):
    p = plan.predicted
    if objective == "energy":
        return (p["energy_wh"], p["completion_s"], p["mean_migration_s"])
    if objective == "migration":
        return (p["mean_migration_s"], p["completion_s"])
    return (p["completion_s"], p["mean_migration_s"])


def _yardstick(model, strategy, first_fit=None):
    if strategy == "sequential":
        return sequential(model, first_fit)
    if strategy == "parallel":
        return parallel(model, first_fit)
    plan = hand_tuned(model, **_hand_tuned_grid(model))
    if plan is None:
        raise PlanningError(["no hand-tuned plan satisfies the constraints"])
    return plan


def _hand_tuned_grid(model):
    n = len(model.drain)
    drained = set(model.drain)
    moving = sum(1 for vm in model.vms.values() if vm.host in drained)
    if n > 60 or moving > 400:   # at datacenter scale each replay costs seconds: a coarse grid
        # few lanes keep one flow per bundle member (wider ones stall pre-copy on shared
        # members: 4 lanes drain 2,048 hosts live, 12 do not); many lanes use more uplinks
        return {"ks": (1, 2, 4, 8, n // 8, n // 4), "ms": (1,), "bs": (None,), "pairings": (True,)}
    return {}


def yardsticks(model, first_fit=None):
    """The three yardstick plans (any may be None if it breaks a constraint or fails);
    ``first_fit``: the first-fit placement if already computed. The parallel plan is not
    replayed (None) above PARALLEL_REPLAY_MAX migrations: every flow runs at once, so its replay
    recomputes the fair rates of all of them at every event (over a minute at 5,000 flows on
    one core); where it was replayed at that scale (the generated 2,048-host model) it had
    non-live migrations."""
    out = {}
    drained = set(model.drain)
    moving = sum(1 for vm in model.vms.values() if vm.host in drained)
    for name in ("sequential", "parallel", "hand_tuned"):
        if name == "parallel" and moving > PARALLEL_REPLAY_MAX:
            out[name] = None
            continue
        try:
            out[name] = _yardstick(model, name, first_fit)
        except (PlacementError, PlanningError, SimulationError):
            out[name] = None
    return out


def plan_drain(model, objective="completion", solver="highs", time_limit_s=60.0, strategy="optimal",
               compare=True):
    """Plan the drain of ``model``; returns an annotated, checked ``Plan`` (format v1).

    Raises ``PlanningError`` (with ``errors``) when the request cannot be met,
    ``SolverUnavailable`` when the solver is missing.
    """
    if objective not in OBJECTIVES:
        raise PlanningError([f"objective must be one of {', '.join(OBJECTIVES)}, got {objective!r}"])
    if strategy not in STRATEGIES:
        raise PlanningError([f"strategy must be one of {', '.join(STRATEGIES)}, got {strategy!r}"])
    started = time.monotonic()
    info = FlowInfo(model)
    errors = explain(model, info)
    if errors:
        raise PlanningError(errors)
    if strategy != "optimal":
        return _checked_yardstick(model, strategy)

    problem = PlacementProblem(model, info)
    bound = lower_bound(model, problem, solver)
    _check_deadline(model, problem, bound)
    candidates = []      # (name, plan)
    try:
        first_fit = first_fit_destinations(model)     # shared by the yardsticks and the lanes
    except PlacementError:
        first_fit = None
    refs = yardsticks(model, first_fit) if compare else {}
    for name, plan in refs.items():
        if plan is not None:
            candidates.append((name, plan))
    limit = _migration_limit(refs.get("sequential"), objective)
    seen = set()

    def cutoff():
        """Best completion of a candidate that would be chosen over a slower one (None: prune
        nothing). The naive yardsticks ignore the caps: they never set it."""
        if objective != "completion":
            return None
        return min((p.predicted["completion_s"] for n, p in candidates
                    if n not in ("sequential", "parallel")
                    and (limit is None or p.predicted["mean_migration_s"] <= limit)), default=None)

    def add(placement, label, order=None):
        _add_lane(model, placement, label, candidates, info, cutoff, seen, order)

    warm = _add_lane_candidates(model, info, problem, first_fit, add)
    budget = max(0.5, time_limit_s - (time.monotonic() - started))
    n_vars = sum(len(c) for c in problem.candidates.values())
    milp = _add_milp_candidates(problem, objective, solver, warm, add, n_vars, budget, (started, time_limit_s))
    checked = {}   # id(plan) -> violations: checking is costly at scale, do it once

    def violations(plan):
        if id(plan) not in checked:
            checked[id(plan)] = check_plan(model, plan)
        return checked[id(plan)]

    name, best = _best_valid(candidates, objective, limit, violations, bound)
    best.strategy = "optimal"
    best.extra["solver"] = {"name": solver, "status": _solver_status(milp, name, n_vars),
                            "gap": None if milp.get("gap") is None else round(milp["gap"], 4),
                            "time_s": round(time.monotonic() - started, 2),
                            "milp_time_s": round(milp.get("time_s", 0.0), 2),
                            "chosen": name}
    best.extra["lower_bound"] = {"completion_s": round(bound, 2)}
    label_islands(model, best)
    if compare:
        # each with the rules it breaks (a yardstick ignores the caps and the live-only rule)
        best.extra["yardsticks"] = {
            n: (dict(p.predicted, breaks=sorted({v.rule for v in violations(p)})) if p is not None else None)
            for n, p in refs.items()}
    return best


def _migration_limit(sequential, objective):
    """The mean migration a completion plan may reach: MIGRATION_SLACK times the ``sequential``
    plan's (None: no limit)."""
    if sequential is None or objective != "completion":
        return None
    return MIGRATION_SLACK * sequential.predicted["mean_migration_s"] + 1e-6


def _checked_yardstick(model, strategy):
    """The plan of the yardstick ``strategy`` (asked for by name), once checked."""
    try:
        plan = _yardstick(model, strategy)
    except PlacementError as exc:
        raise PlanningError(exc.errors) from exc
    violations = check_plan(model, plan)
    if violations:
        raise PlanningError([f"the {strategy} plan breaks a constraint: {v}" for v in violations[:10]])
    return label_islands(model, plan)


def _check_deadline(model, problem, bound):
    """PlanningError when constraints.deadline_s is below the lower ``bound``, with its reason."""
    cons = model.constraints
    if cons.deadline_s is not None and bound > cons.deadline_s + 1e-6:
        seconds, why = registered_bound(model, problem)
        why = why if seconds >= bound - 1e-6 else ("bottleneck data / capacity plus boot and shutdown, "
                                                   "or the boot cycles the online and power caps force")
        raise PlanningError([f"constraints.deadline_s: {cons.deadline_s:g} s is below the lower bound: the "
                             f"drain cannot finish before {bound:.0f} s ({why})"])


def _add_lane_candidates(model, info, problem, first_fit, add):
    """The lane plans of every heuristic placement, through ``add(placement, label, order)``;
    returns the MILP's warm start (``first_fit``, else the first placement built, else None)."""
    warm = first_fit      # the MILP's warm start (None: the first placement built)
    makers = [("lanes/first_fit", lambda: first_fit or first_fit_destinations(model)),
              ("lanes/balanced", lambda: balanced_destinations(model, info))]
    if len({model.hosts[t].boot_s for t in problem.targets if not model.hosts[t].on}) > 1:
        makers.append(("lanes/fast_spares", lambda: _changed(first_fit_destinations(model, fast_spares=True),
                                                             first_fit)))
    if len(problem.moving) <= 400:
        makers.append(("lanes/lacp", lambda: lacp_aware_destinations(model, [[h] for h in model.drain])))
    if first_fit is not None:
        # first: where it relieves layer2 members, its completion prunes the others' replays
        makers.insert(0, ("lanes/members", lambda: _changed(rebalance_members(model, info, first_fit), first_fit)))
    if first_fit is not None and boots_capped(model, first_fit):
        # first: its completion prunes the replays of the other candidates
        makers.insert(0, ("lanes/cascade", lambda: cascade_destinations(model, info)))
    for label, make in makers:
        try:
            placement = make()
        except PlacementError:
            continue
        if placement is None:
            continue
        placement, order = placement if isinstance(placement, tuple) else (placement, None)
        warm = warm or placement
        add(placement, label, order)
    return warm


def _add_milp_candidates(problem, objective, solver, warm, add, n_vars, budget, clock):
    """The lane plans of the MILP's placements (VM-level up to SMALL variables, else aggregated),
    through ``add(placement, label)``; returns the MILP's result (status, gap, time_s, placement).
    ``budget``: the first solve's time limit; ``clock`` (started, time_limit_s): the planning's,
    which the further VM-level solves stay within."""
    started, time_limit_s = clock
    milp = {"status": "not run", "gap": None, "time_s": 0.0}
    if n_vars <= SMALL:
        deadline = problem.model.constraints.deadline_s if objective != "completion" else None
        milp = solve_placement(problem, objective, solver, budget, warm=warm, deadline_s=deadline)
        if milp.get("placement"):
            add(milp["placement"], "milp")
        # other optimal placements of the MILP replay differently: try a few while time remains
        for seed in (None, 1, 2):
            spent = time.monotonic() - started
            if spent > time_limit_s / 2 or len(problem.moving) > 400:
                break
            extra = solve_placement(problem, objective, solver, min(budget, time_limit_s - spent),
                                    warm=None, deadline_s=deadline, seed=seed)
            if extra.get("placement"):
                add(extra["placement"], "milp")
    else:
        from .aggregate import solve_aggregated
        milp = solve_aggregated(problem, objective, solver, budget, warm=warm)
        if milp.get("placement"):
            add(milp["placement"], "milp")
    return milp


def _best_valid(candidates, objective, limit, violations, bound):
    """(name, plan): the best candidate ``violations`` finds nothing wrong with. For completion,
    those whose mean migration stays within ``limit`` (the slack of the sequential plan's) come
    first. Candidates are checked best first (checking is costly at scale)."""

    def preference(item):
        slow = limit is not None and item[1].predicted["mean_migration_s"] > limit
        return (slow, _key(objective, item[1]), item[0] != "milp")

    chosen = next(((n, p) for n, p in sorted(candidates, key=preference) if not violations(p)), None)
    if chosen is None:
        broken = "; ".join(dict.fromkeys(str(v) for dummy, p in candidates for v in violations(p)[:1]))
        raise PlanningError(["no plan satisfies every constraint; "
                             + (f"the closest candidates break: {broken}" if broken else "no candidate plan could be built")
                             + (f" (lower bound on completion: {bound:.0f} s)" if bound else "")])
    return chosen


def _solver_status(milp, chosen, n_vars):
    """The plan's solver status: the MILP's, and why another candidate was ``chosen`` if so."""
    status = milp.get("status", "unknown")
    status = {"Optimal": "optimal", "TimeLimit": "time_limit", "GapLimit": "gap_limit"}.get(status, status)
    if chosen != "milp":
        if milp.get("placement"):
            status = f"{status}; fallback: the {chosen} plan is better after replay"
        elif "not applicable" in status:   # the VM-level MILP was too large to run at all
            status = (f"{status}; VM-level MILP not run ({n_vars} VM x target pairs > {SMALL}), "
                      f"fallback: the {chosen} plan")
        else:
            status = f"{status}; no MILP solution in time, fallback: the {chosen} plan"
    return status


# How a lane plan sizes each resource's slots (the keys of ``_add_lane``'s ``slots``): every flow
# at its lone rate or at its mean shared rate (``lane_slots``), balanced bundles by their slowest
# flow, or bundle lanes weighted by rate (``rate_units``).
LONE_RATE, MEAN_RATE, SLOWEST, UNITS = "lone rate", "mean rate", "slowest", "units"
LANE_RULES = (("work", LONE_RATE), ("long", LONE_RATE), ("link", LONE_RATE),
              ("work", MEAN_RATE), ("long", MEAN_RATE), ("link", MEAN_RATE))


def _changed(placement, base):
    """``placement``, or None when it is ``base`` or equal to it (its lane plans are built
    already: at 2,048 hosts building them again costs seconds before they are found identical)."""
    return None if placement is base or placement == base else placement


def _add_lane(model, placement, name, candidates, info, cutoff=None, seen=None, order=None):
    """The lane plans of ``placement`` under every rule and slot sizing, replayed by increasing
    critical path (a cheap lower bound on their completion). A plan whose critical path is above
    ``cutoff()`` (the best acceptable completion so far, None: no pruning) cannot win, and a plan identical to one
    already replayed (``seen``: their dependency graphs) adds nothing: neither is replayed.
    ``order``: the drained hosts in the placement's own order (a cascade's: rule ``order``
    finishes hosts in it, and spares boot in the cascade's ``spare_order``)."""
    seen = set() if seen is None else seen
    # each host's VM that can start first (not its largest) keeps members and NICs busy; the
    # search costs a scan of the host's destinations per pick: above PICK_EARLIEST_MAX
    # migrations (2,048 hosts) hosts send their VMs largest first at lone durations (the member
    # balanced spares-2048 plan: 472 s, 515 s at shared rates), and a cascade (``order``) keeps
    # its own order (VMs whose spare boots first)
    big = len(placement) > PICK_EARLIEST_MAX
    pick = "largest" if big or order else "earliest"
    built = []
    slots = {sizing: lane_slots(model, placement, info, mean_rate=sizing == MEAN_RATE)
             for sizing in (LONE_RATE, MEAN_RATE)}
    rules = LANE_RULES + ((("order", LONE_RATE), ("order", MEAN_RATE)) if order else ())
    boot_order = spare_order(model) if order else None     # a cascade boots its spares in its own order
    if slots[MEAN_RATE] == slots[LONE_RATE]:
        # both sizings give the same lanes, hence the same plans: build them once
        rules = tuple(item for item in rules if item[1] != MEAN_RATE)
    rules = tuple((rule, sizing, pick) for rule, sizing in rules)
    if not big:
        # balanced bundles sized by their slowest flow: full while their lanes carry held-back
        # flows (dense-200: 341 -> 324 s); only where that changes a slot count
        slots[SLOWEST] = lane_slots(model, placement, info, slowest_bundles=True)
        if slots[SLOWEST] != slots[LONE_RATE] and not order:
            rules += (("work", SLOWEST, pick), ("long", SLOWEST, pick))
    if order and not big:
        # a cascade's tail: each host sending the VM that can start first, bundles full
        # (license-power-384: 497 s, against 511-516 s for its VMs in boot order)
        rules += (("order", SLOWEST, "largest"), ("order", LONE_RATE, "earliest"), ("order", SLOWEST, "earliest"))
    units = {}
    if not order:
        # bundle lanes weighted by rate (``rate_units``), where a flow takes more than one slot;
        # above PICK_EARLIEST_MAX with the earliest pick and shared rates all the same, one rule:
        # spares-2048 471 -> 401 s (seed 2: 490 -> 399 s), the lanes of its balanced bundles no
        # longer idle behind 10 Gb flows nor oversubscribed by 25 Gb ones
        slots[UNITS], units = rate_units(model, placement, info)
        if units:
            rules += (("work", UNITS, pick),) if big else (("work", UNITS, pick), ("long", UNITS, pick))
    for rule, sizing, pick in rules:
        weighted = sizing == UNITS
        try:
            plan = build_lane_plan(model, placement, flows_info=info, rule=rule, slots=slots[sizing],
                                   order=order, pick="earliest" if weighted else pick,
                                   shared_rates=weighted or not big, boot_order=boot_order,
                                   units=units if weighted else None)
        except ScheduleError:
            continue
        shape = hash(tuple((a.id, a.destination, tuple(a.after)) for a in plan.actions))
        if shape not in seen:
            seen.add(shape)
            built.append((critical_path_s(model, plan, info), len(built), plan))
    for bound, dummy, plan in sorted(built, key=lambda item: item[:2]):
        best = cutoff() if cutoff else None
        if best is not None and bound > best + 1e-6:
            break
        try:
            annotate(model, plan)
        except SimulationError:
            continue
        candidates.append((name, plan))


def label_islands(model, plan):
    """Set the optional ``island`` key of every action (the island's first switch by name) when
    the network has several islands, so that an operator or the executor can run one pod at a time."""
    names = {}
    for switch in model.switches():
        names.setdefault(model.island_of_switch(switch), switch)
    if len(names) < 2:
        return plan
    for action in plan.actions:
        host = action.source if action.type == "migrate" else action.host
        if host in model.hosts:
            action.extra["island"] = names[model.island_of(host)]
    return plan


def summary(plan):
    """A short, human summary: waves, completion, mean migration, comparison with yardsticks."""
    p = plan.predicted
    out = {"waves": len(plan.waves or plan.compute_waves()), "completion_s": p.get("completion_s"),
           "mean_migration_s": p.get("mean_migration_s"), "energy_wh": p.get("energy_wh"),
           "max_online_hosts": p.get("max_online_hosts"), "strategy": plan.strategy}
    lb = plan.extra.get("lower_bound", {}).get("completion_s")
    if lb:
        out["lower_bound_s"] = lb
    for name, fig in (plan.extra.get("yardsticks") or {}).items():
        if fig:
            out[name] = {"completion_s": fig["completion_s"], "mean_migration_s": fig["mean_migration_s"]}
            if fig.get("breaks"):
                out[name]["breaks"] = fig["breaks"]
    return out
