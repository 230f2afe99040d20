"""The MILP: where every VM goes and which spares boot, balancing the lanes.

Encoding (solved by HiGHS through PuLP; the solver is chosen by name):

* data: moving VMs, allowed targets, per (VM, target) the lone migration
  duration and the network resources the flow crosses (``Model.flow_resources``:
  NICs, the layer2 member its MAC pair hashes to, bundle directions);
* variables: ``x[v,t]`` (binary, VM v goes to target t), ``u[t]`` (binary,
  spare t is booted), ``T`` (continuous, estimated completion);
* constraints: one destination per VM (pinned VMs have one candidate), cpu and
  memory capacity on every target (only if booted), spread groups (at most one
  VM of a group per host, counting residents), and for every resource r with
  ``slots_r`` lanes: ``T >= offset_r + sum(duration x) / slots_r + shutdown``
  (the lanes of r are busy back to back after the first boot);
* objective: ``completion`` = T + tiny x boots; ``energy`` = boots, then T,
  subject to T <= deadline; ``migration`` = total lone duration subject to
  T <= deadline.

At scale, ``aggregate.solve_aggregated`` plans racks as classes instead. The
lane scheduler (``schedule.build_lane_plan``) turns the placement into actions.
"""

from __future__ import annotations

import contextlib
import os
import sys
import time

from .baselines import TargetRoom
from .constraints import REGISTRY
from .schedule import FlowInfo, resource_slots


class SolverUnavailable(ValueError):
    pass


def _pulp():
    import pulp   # guarded by the caller (module: missing_required_lib)
    return pulp


def get_solver(name, time_limit_s, msg=False, warm=False):
    pulp = _pulp()
    available = pulp.listSolvers(onlyAvailable=True)
    wanted = {"highs": "HiGHS", "cbc": "PULP_CBC_CMD", "glpk": "GLPK_CMD", "scip": "SCIP_CMD",
              "gurobi": "GUROBI", "cplex": "CPLEX_PY"}.get(name.lower(), name)
    match = [s for s in available if s.lower() == wanted.lower()]
    if not match:
        raise SolverUnavailable(f"solver {name!r} is not available; available solvers: "
                                f"{', '.join(available) or 'none (pip install highspy)'}")
    kwargs = {"msg": msg, "timeLimit": max(0.1, time_limit_s)}
    if match[0] == "HiGHS":
        kwargs.update(threads=1, warmStart=bool(warm), gapRel=1e-3)
    return pulp.getSolver(match[0], **kwargs)


@contextlib.contextmanager
def quiet_stdout():
    """HiGHS prints its banner on stdout even with msg=False: drop it (stdout carries the
    module's JSON). Solver failures still reach us through PuLP's status."""
    try:
        fd = sys.stdout.fileno()
    except (AttributeError, ValueError, OSError):
        yield
        return
    sys.stdout.flush()
    saved = os.dup(fd)
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, fd)
        yield
    finally:
        sys.stdout.flush()
        os.dup2(saved, fd)
        os.close(saved)
        os.close(devnull)


class PlacementProblem:
    """Data of the placement MILP (no solver objects): units, candidate targets, resources."""

    def __init__(self, model, info=None):
        self.model = model
        self.info = info or FlowInfo(model)
        self.moving = [v for v in model.vms.values() if v.host in set(model.drain)]
        self.targets = list(model.targets)
        room = TargetRoom(model)   # capacity before any move
        self.free_cpu, self.free_mem, self.residents = room.free_cpu, room.free_mem, room.residents
        self.candidates = {}
        in_island = {}     # targets of each network island, in the listed order
        for t in self.targets:
            in_island.setdefault(model.island_of(t), []).append(t)
        for vm in self.moving:
            if vm.destination:
                self.candidates[vm.name] = [vm.destination]
            else:
                self.candidates[vm.name] = [t for t in in_island.get(model.island_of(vm.host), ())
                                            if self.free_cpu[t] >= vm.cpu and self.free_mem[t] >= vm.memory_mb]
        self._slots = self._cap = None    # only the MILP needs them: computed on first use
        off = [t for t in self.targets if not model.hosts[t].on]
        self.min_boot = min((model.hosts[t].boot_s for t in off), default=0.0)
        self.min_shutdown = min((model.hosts[h].shutdown_s for h in model.drain
                                 if model.hosts[h].on), default=0.0)
        # no migration starts before a destination is on: the shortest boot when every target is off
        self.first_start = self.min_boot if not any(model.hosts[t].on for t in self.targets) else 0.0

    def _resources(self):
        pairs = {(vm.host, t) for vm in self.moving for t in self.candidates[vm.name]}
        self._slots = resource_slots(self.info, pairs)
        self._cap = {}
        for s, t in pairs:
            for rid, cap in self.info.resources(s, t):
                self._cap[rid] = cap

    @property
    def slots(self):
        """Lanes of every resource a candidate flow crosses."""
        if self._slots is None:
            self._resources()
        return self._slots

    @property
    def cap(self):
        """Capacity (MB/s) of every resource a candidate flow crosses."""
        if self._cap is None:
            self._resources()
        return self._cap

    def offset(self, rid, pairs_through):
        """Earliest time a flow may cross ``rid``: 0 if one candidate destination is on."""
        hosts = self.model.hosts
        if any(hosts[t].on for dummy, t in pairs_through):
            return 0.0
        return min(hosts[t].boot_s for dummy, t in pairs_through)


class RowSink:
    """What a registered constraint's ``encode`` face needs of the placement problem: the
    ``x[vm, target]`` variables, each pair's migration time (LP bound: data at the path's lone
    rate, never more than the real one; MILP: the lone duration) and a way to add a row."""

    def __init__(self, prob, pulp, problem, x, T, lp_bound):
        self.prob, self.pulp, self.problem, self.x, self.T = prob, pulp, problem, x, T
        self.model = problem.model
        self.lp_bound = lp_bound

    def migration_s(self, vm_name, target):
        if self.lp_bound:
            vm = self.model.vms[vm_name]
            return vm.used_mb / self.problem.info.rate(vm.host, target)
        return self.problem.info.duration(vm_name, target)

    def at_most_per_lane(self, name, items, lanes):
        """``items`` [(seconds, x)] run at most ``lanes`` at once: T >= first start + their sum /
        lanes + shutdown."""
        load = self.pulp.lpSum(seconds * var for seconds, var in items) * (1.0 / lanes)
        self.prob += self.T >= self.problem.first_start + self.problem.min_shutdown + load, f"lanes_{name}"


def _bundle_key(rid):
    """A layer2 member's whole bundle in the same direction (None for other resources)."""
    return ("members", rid[1], rid[3]) if rid[0] == "member" else None


def _member_sets(problem):
    """{(link, direction): member sets}: for every VM and layer2 bundle it may cross, the set of
    members its candidate targets hash to, when it is neither one member nor all of them. The
    members of such a set carry at least the data of the VMs whose every candidate lands in it:
    on many-into-one (2 spares) each source reaches only 2 of 4 members, and the bound that
    spreads the data over all 4 was loose."""
    reach = {}
    for vm in problem.moving:
        mine = {}
        for t in problem.candidates[vm.name]:
            for rid, dummy in problem.info.resources(vm.host, t):
                if rid[0] == "member":
                    mine.setdefault((rid[1], rid[3]), set()).add(rid[2])
        for key, members in mine.items():
            reach.setdefault(key, set()).add(frozenset(members))
    members_of = {link.name: link.members for link in problem.model.links}
    return {key: [m for m in sets if 1 < len(m) < members_of[key[0]]] for key, sets in reach.items()}


def _resource_rows(prob, pulp, problem, x, u, gated, T, lp_bound):
    """For every resource: T >= shutdown + boot offset (if the resource carries a flow) + its
    load per lane (durations / slots). For the bound (``lp_bound``) the load is data / MB/s, the
    offset counts only where a flow is sure to cross, and every layer2 bundle also counts as a
    whole (a VM may pick among its members, but it crosses one of them), and so does every set
    of its members that some VM's candidates all hash into (``_member_sets``)."""
    through, capacity, certain = {}, {}, set()
    member_sets = _member_sets(problem) if lp_bound else {}
    for vm in problem.moving:
        crossed_by_all = None
        for t in problem.candidates[vm.name]:
            var = x[vm.name, t]
            weight = vm.used_mb if lp_bound else problem.info.duration(vm.name, t)
            keys = set()
            for rid, dummy in problem.info.resources(vm.host, t):
                size = problem.cap[rid] if lp_bound else problem.slots[rid]
                groups = [("memberset", rid[1], rid[3], m) for m in member_sets.get((rid[1], rid[3]), ())
                          if rid[2] in m] if rid[0] == "member" else []
                for key in [rid, _bundle_key(rid) if lp_bound else None] + groups:
                    if key is not None:
                        through.setdefault(key, []).append((weight, var, (vm.host, t), vm.name))
                        capacity.setdefault(key, {})[rid] = size
                        keys.add(key)
            crossed_by_all = keys if crossed_by_all is None else crossed_by_all & keys
        certain |= crossed_by_all or set()
    for i, (key, items) in enumerate(through.items()):
        if key[0] == "members" and len(capacity[key]) < 2:
            continue
        load = pulp.lpSum(item[0] * item[1] for item in items) * (1.0 / sum(capacity[key].values()))
        offset = problem.offset(key, {item[2] for item in items})
        # the MILP's estimate keeps the offset everywhere (pessimistic for an unused resource,
        # but its relaxation is tighter: it solves faster)
        if key in certain or offset == 0 or not lp_bound:
            used = 1
        else:
            used = _resource_used(prob, pulp, key, items, u, gated, i)
        prob += T >= problem.min_shutdown + offset * used + load, f"res_{i}"


def _resource_used(prob, pulp, rid, items, u, gated, index):
    """A term that is 1 when a flow crosses ``rid`` (at least each VM's share through it).

    The boot offset of a resource only counts if the resource carries a flow: adding it
    unconditionally made the bound claim a spare's boot time for plans that never use that
    spare (unsound). Where some VM crosses the resource whatever its destination, it is 1; on
    an off spare's receive NIC it is the spare's boot variable (when x <= u holds)."""
    if rid[0] == "rx" and rid[1] in gated:
        return u[rid[1]]
    used = prob.add_variable(f"s_{index}", 0, 1, "Continuous")
    by_vm = {}
    for item in items:
        by_vm.setdefault(item[3], []).append(item[1])
    for n, variables in enumerate(by_vm.values()):
        prob += used >= pulp.lpSum(variables), f"s_{index}_{n}"
    return used


def solve_placement(problem, objective="completion", solver="highs", time_limit_s=10.0,
                    warm=None, deadline_s=None, lp_bound=False, seed=None):
    """Solve the placement MILP. Returns dict(placement, status, gap, time_s, objective, bound).

    ``lp_bound=True`` solves the LP relaxation with raw capacities (data / capacity):
    a proven lower bound on completion for any plan (returned as ``bound``).
    """
    pulp = _pulp()
    model = problem.model
    started = time.monotonic()
    prob = pulp.LpProblem("wavedrain_placement", pulp.LpMinimize)
    cat = "Continuous" if lp_bound else "Binary"
    x = {}
    for vm in problem.moving:
        for t in problem.candidates[vm.name]:
            x[vm.name, t] = prob.add_variable(f"x_{len(x)}", 0, 1, cat)
    off = [t for t in problem.targets if not model.hosts[t].on]
    u = {t: prob.add_variable(f"u_{i}", 0, 1, cat) for i, t in enumerate(off)}
    T = prob.add_variable("T", 0, None, "Continuous")
    for vm in problem.moving:
        prob += pulp.lpSum(x[vm.name, t] for t in problem.candidates[vm.name]) == 1, f"one_{vm.name}"
    by_target, gated = {}, set()
    for (v, t), var in x.items():
        by_target.setdefault(t, []).append((model.vms[v], var))
    for t, items in by_target.items():
        gate = u[t] if t in u else 1
        prob += pulp.lpSum(vm.cpu * var for vm, var in items) <= problem.free_cpu[t] * gate, f"cpu_{t}"
        prob += pulp.lpSum(vm.memory_mb * var for vm, var in items) <= problem.free_mem[t] * gate, f"mem_{t}"
        if t in u and (lp_bound or len(items) <= 64):   # tighten: a VM only goes to a booted spare
            gated.add(t)
            for vm, var in items:
                prob += var <= u[t]
    for gi, group in enumerate(model.constraints.spread):
        members = [n for n in group if n in model.vms]
        for t in problem.targets:
            here = [x[n, t] for n in members if (n, t) in x]
            if len(here) > 0:
                resident = len(set(members) & problem.residents[t])
                prob += pulp.lpSum(here) <= max(0, 1 - resident), f"spread_{gi}_{t}"
    # resources: load per lane
    _resource_rows(prob, pulp, problem, x, u, gated, T, lp_bound)
    rows = RowSink(prob, pulp, problem, x, T, lp_bound)
    for constraint in REGISTRY:
        constraint.encode(rows)
    boots = pulp.lpSum(u.values()) if u else 0
    if objective == "energy":
        prob += 1000.0 * boots + T
    elif objective == "migration" and not lp_bound:
        prob += pulp.lpSum(problem.info.duration(v, t) * var for (v, t), var in x.items()) + 1e-3 * T
    else:
        tie = 0
        if seed is not None:   # a different optimal placement: ties broken by a seeded jitter
            import random
            rng = random.Random(seed)
            tie = pulp.lpSum(rng.random() * 1e-3 * var for var in x.values())
        prob += T + 0.01 * boots + tie
    if deadline_s is not None and not lp_bound:
        prob += T <= deadline_s, "deadline"
    if warm and not lp_bound:
        for (v, t), var in x.items():
            var.setInitialValue(1 if warm.get(v) == t else 0)
        used = set(warm.values())
        for t, var in u.items():
            var.setInitialValue(1 if t in used else 0)
    built = time.monotonic() - started
    solver_obj = get_solver(solver, time_limit_s, warm=bool(warm) and not lp_bound)
    with quiet_stdout():
        stats = prob.solve(solver_obj)
    elapsed = time.monotonic() - started
    status = stats.status.name if hasattr(stats.status, "name") else str(stats.status)
    out = {"status": status, "has_solution": bool(stats.has_solution), "build_s": built,
           "time_s": elapsed, "objective": stats.objective, "bound": stats.best_bound,
           "variables": len(x) + len(u) + 1, "T": T.value() if stats.has_solution else None}
    if stats.objective is not None and stats.best_bound is not None and stats.objective:
        out["gap"] = max(0.0, (stats.objective - stats.best_bound) / abs(stats.objective))
    else:
        out["gap"] = 0.0 if status == "Optimal" else None
    if lp_bound:
        out["bound"] = T.value() if stats.has_solution and status == "Optimal" else None
        return out
    if stats.has_solution:
        placement = {}
        for vm in problem.moving:
            best = max(problem.candidates[vm.name], key=lambda t: x[vm.name, t].value() or 0.0)
            if (x[vm.name, best].value() or 0.0) < 0.5:
                out["has_solution"] = False
                break
            placement[vm.name] = best
        else:
            out["placement"] = placement
    return out
