"""Plan checker: every rule a plan must obey, independent of any solver.

Rules on the action graph hold whatever the executor's timing (an action may
start any time after its ``after`` actions end); rules "at every instant" use
the plan's predicted ``start_s``/``end_s``. ``check_plan`` returns every
violation, each with its time and objects.
"""

from __future__ import annotations

from .constraints import REGISTRY
from .violation import EPS, Violation

__all__ = ["EPS", "Violation", "check_plan", "graph_violations"]


class _Ancestors:
    """Set-like view of one action's transitive predecessors, held as a bitmask.

    Bitmasks keep a 3,000-action chain at a few MB (sets of ids would take hundreds).
    """

    __slots__ = ("mask", "index")

    def __init__(self, mask, index):
        self.mask, self.index = mask, index

    def __contains__(self, action_id):
        bit = self.index.get(action_id)
        return bit is not None and bool(self.mask >> bit & 1)


def _ancestors(actions):
    """Transitive predecessors of every action (None if the graph has a cycle).

    Iterative (Kahn's order): a long chain listed in any order never hits the recursion limit.
    """
    index = {}
    for a in actions:
        index.setdefault(a.id, len(index))
    by_id = {a.id: a for a in actions}
    deps = {aid: {d for d in by_id[aid].after if d in by_id} for aid in by_id}
    children = {aid: [] for aid in by_id}
    for aid, before in deps.items():
        for dep in before:
            children[dep].append(aid)
    waiting = {aid: len(before) for aid, before in deps.items()}
    ready = [aid for aid, n in waiting.items() if n == 0]
    masks = {}
    while ready:
        aid = ready.pop()
        mask = 0
        for dep in deps[aid]:
            mask |= masks[dep] | (1 << index[dep])
        masks[aid] = mask
        for child in children[aid]:
            waiting[child] -= 1
            if waiting[child] == 0:
                ready.append(child)
    if len(masks) != len(by_id):
        return None
    return {a.id: _Ancestors(masks[a.id], index) for a in actions}


def graph_violations(actions):
    """Rules of the action graph alone (no model): unique ids, known dependencies, no cycle.
    An executor that ignored them would wait forever on actions that can never start."""
    out, by_id = [], {}
    for a in actions:
        if a.id in by_id:
            out.append(Violation("unique-ids", f"action id {a.id} is used twice", objects=(a.id,)))
        by_id[a.id] = a
    for a in actions:
        for dep in a.after:
            if dep not in by_id:
                out.append(Violation("dependencies", f"{a.id} waits for unknown action {dep}",
                                     objects=(a.id, dep)))
    if _ancestors(actions) is None:
        out.append(Violation("acyclic", "the dependencies form a cycle"))
    return out


def _graph_rules(model, actions, out):
    out.extend(graph_violations(actions))
    ancestors = _ancestors(actions)
    if ancestors is None:
        return
    drained, targets = set(model.drain), set(model.targets)
    moves = {}
    boots = {a.host: a for a in actions if a.type == "power_on"}
    halts = {a.host: a for a in actions if a.type == "power_off"}
    for a in actions:
        if a.type == "migrate":
            moves.setdefault(a.vm, []).append(a)
        elif a.host not in model.hosts:
            out.append(Violation("known-objects", f"{a.id} names unknown host {a.host}", objects=(a.id,)))
    for a in actions:
        if a.type == "power_on" and a.host in model.hosts and model.hosts[a.host].on:
            out.append(Violation("power-state", f"{a.id} boots {a.host}, which is already on",
                                 objects=(a.id, a.host)))
        if a.type == "power_off" and a.host in model.hosts:
            if a.host not in drained:
                out.append(Violation("power-off-drained-only", f"{a.id} powers off {a.host}, "
                                     f"which is not drained", objects=(a.id, a.host)))
            boot = boots.get(a.host)
            if boot is not None and boot.id not in ancestors[a.id]:
                out.append(Violation("power-state", f"{a.id} may run before {boot.id}",
                                     objects=(a.id, boot.id)))
    for host in drained:
        if host not in halts and model.hosts[host].on:
            out.append(Violation("drained-ends-off", f"drained host {host} is never powered off",
                                 objects=(host,)))
    for vm in model.vms.values():
        plan_moves = moves.get(vm.name, [])
        if vm.host in drained and len(plan_moves) != 1:
            out.append(Violation("migrate-once", f"VM {vm.name} on drained host {vm.host} is migrated "
                                 f"{len(plan_moves)} times (must be exactly once)", objects=(vm.name,)))
        if vm.host not in drained and plan_moves:
            out.append(Violation("migrate-once", f"VM {vm.name} is not on a drained host but is migrated",
                                 objects=(vm.name,)))
    for name, plan_moves in moves.items():
        if name not in model.vms:
            out.append(Violation("known-objects", f"unknown VM {name}", objects=(name,)))
            continue
        vm = model.vms[name]
        for a in plan_moves:
            if a.source != vm.host:
                out.append(Violation("migrate-source", f"{a.id} takes {name} from {a.source} but it "
                                     f"runs on {vm.host}", objects=(a.id,)))
            dest = a.destination
            if dest not in targets:
                out.append(Violation("allowed-destination", f"{a.id} sends {name} to {dest}, which is "
                                     f"not an allowed, non-drained target", objects=(a.id, dest)))
                continue
            if a.source in model.hosts and not model.reachable(a.source, dest):
                out.append(Violation("reachable-destination", f"{a.id} sends {name} from {a.source} to {dest}, "
                                     f"which is in another network island (no link path between their "
                                     f"switches)", objects=(a.id, dest)))
                continue
            if vm.destination and dest != vm.destination:
                out.append(Violation("pinned-destination", f"{a.id} sends {name} to {dest}, but it is "
                                     f"pinned to {vm.destination}", objects=(a.id,)))
            if not model.hosts[dest].on:
                boot = boots.get(dest)
                if boot is None:
                    out.append(Violation("destination-online", f"{a.id} sends {name} to {dest}, which is "
                                         f"off and never booted", objects=(a.id, dest)))
                elif boot.id not in ancestors[a.id]:
                    out.append(Violation("destination-online", f"{a.id} may start before {boot.id} "
                                         f"ends (destination still booting)", objects=(a.id, boot.id)))
            halt = halts.get(dest)
            if halt is not None:
                out.append(Violation("destination-online", f"{a.id} sends {name} to {dest}, which the "
                                     f"plan powers off", objects=(a.id, halt.id)))
            halt = halts.get(a.source)
            if halt is not None and a.id not in ancestors[halt.id]:
                out.append(Violation("no-power-off-with-vms", f"{halt.id} may run while {name} is still "
                                     f"on {a.source} ({a.id} is not in its dependencies)",
                                     objects=(halt.id, a.id)))
            if a.extra.get("non_live") and not model.constraints.allow_non_live:
                out.append(Violation("live-only", f"{a.id} is predicted non-live (suspended at timeout); "
                                     f"set constraints.allow_non_live: true to accept it",
                                     time_s=a.end_s, objects=(a.id,)))
    for constraint in REGISTRY:
        out.extend(constraint.check(model, actions, ancestors))
    for i, group in enumerate(model.constraints.spread):
        final = {}
        for name in group:
            if name not in model.vms:
                continue
            move = moves.get(name)
            final.setdefault(move[0].destination if move else model.vms[name].host, []).append(name)
        for host, names in final.items():
            if len(names) > 1:
                out.append(Violation("spread", f"spread group {i}: {', '.join(names)} end up together "
                                     f"on {host}", objects=tuple(names)))


def _timed(actions):
    return all(a.start_s is not None and a.end_s is not None for a in actions)


def _instant_rules(model, actions, out):
    """Capacity, online hosts, power budget and deadline at every instant (a sweep)."""
    cons = model.constraints
    changes = {}     # time -> list of (kind, host, cpu, mem, load)

    def at(t, *change):
        changes.setdefault(round(t, 6), []).append(change)

    for a in actions:
        if a.type == "power_on" and a.host in model.hosts:
            at(a.start_s, "state", a.host, "booting")
            at(a.end_s, "state", a.host, "on")
        elif a.type == "power_off" and a.host in model.hosts:
            at(a.start_s, "state", a.host, "halting")
            at(a.end_s, "state", a.host, "off")
        elif a.type == "migrate" and a.vm in model.vms and a.destination in model.hosts:
            vm = model.vms[a.vm]
            # a migrating VM holds cpu and memory on both ends; its load moves at the end
            at(a.start_s, "use", a.destination, vm.cpu, vm.memory_mb, 0.0)
            at(a.end_s, "use", vm.host, -vm.cpu, -vm.memory_mb, -vm.cpu * vm.cpu_load)
            at(a.end_s, "use", a.destination, 0.0, 0.0, vm.cpu * vm.cpu_load)
    state = {n: ("on" if h.on else "off") for n, h in model.hosts.items()}
    cpu = {n: 0.0 for n in model.hosts}
    mem = {n: 0.0 for n in model.hosts}
    load = {n: 0.0 for n in model.hosts}
    for vm in model.vms.values():
        cpu[vm.host] += vm.cpu
        mem[vm.host] += vm.memory_mb
        load[vm.host] += vm.cpu * vm.cpu_load

    def watts_of(name):
        return model.power_in_state(name, state[name], load[name])

    watts = {n: watts_of(n) for n in model.hosts}
    total_watts = sum(watts.values())
    online = sum(1 for s in state.values() if s != "off")
    reported = set()

    def report(key, violation):
        if key not in reported:
            reported.add(key)
            out.append(violation)

    for t in sorted(set(changes) | {0.0}):
        touched = set()
        for change in changes.get(t, ()):
            name = change[1]
            touched.add(name)
            if change[0] == "state":
                online += (change[2] != "off") - (state[name] != "off")
                state[name] = change[2]
            else:
                cpu[name] += change[2]
                mem[name] += change[3]
                load[name] += change[4]
        for name in touched:
            host = model.hosts[name]
            total_watts += watts_of(name) - watts[name]
            watts[name] = watts_of(name)
            for what, used, cap in (("cpu", cpu[name], host.cpu), ("memory", mem[name], host.memory_mb)):
                if used > cap + EPS:
                    report((what, name), Violation(
                        "capacity", f"{name} {what} {used:g} exceeds {cap:g} (migrating VMs count on "
                        f"both ends)", time_s=t, objects=(name,)))
            if state[name] in ("halting", "off") and cpu[name] > EPS:
                report(("off-with-vms", name), Violation(
                    "no-power-off-with-vms", f"{name} is {state[name]} while VMs are on it",
                    time_s=t, objects=(name,)))
        if cons.max_online_hosts is not None and online > cons.max_online_hosts:
            report("online", Violation("max-online-hosts", f"{online} hosts online exceeds "
                                       f"max_online_hosts {cons.max_online_hosts}", time_s=t))
        if cons.power_budget_w is not None and total_watts > cons.power_budget_w + EPS:
            report("power", Violation("power-budget", f"power {total_watts:.0f} W exceeds "
                                      f"power_budget_w {cons.power_budget_w:g}", time_s=t))
    completion = max((a.end_s for a in actions), default=0.0)
    if cons.deadline_s is not None and completion > cons.deadline_s + EPS:
        out.append(Violation("deadline", f"completion {completion:.1f} s is after deadline_s "
                             f"{cons.deadline_s:g}", time_s=completion))


def check_plan(model, plan):
    """All violations of ``plan`` against ``model`` (empty list: the plan is valid)."""
    out = []
    _graph_rules(model, plan.actions, out)
    if not _timed(plan.actions):
        out.append(Violation("timed", "actions lack start_s/end_s; replay the plan in the simulator first"))
    elif not any(v.rule == "acyclic" for v in out):
        by_id = plan.by_id()
        for a in plan.actions:
            if a.end_s < a.start_s - EPS:
                out.append(Violation("timed", f"{a.id} ends before it starts", a.start_s, (a.id,)))
            for dep in a.after:
                if dep in by_id and a.start_s < by_id[dep].end_s - EPS:
                    out.append(Violation("dependencies", f"{a.id} starts at {a.start_s:.1f} s before "
                                         f"{dep} ends at {by_id[dep].end_s:.1f} s", a.start_s, (a.id, dep)))
        _instant_rules(model, plan.actions, out)
    return out
