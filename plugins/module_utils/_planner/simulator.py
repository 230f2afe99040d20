"""Event-driven replay of a plan: what it will do, action by action.

* Every action starts as soon as all actions in its ``after`` list are done.
* Boot and shutdown take the host's ``boot_s`` / ``shutdown_s``.
* Migration flows share every resource they cross (source NIC transmit, each
  link member or bundle direction, destination NIC receive) max-min fairly.
* Pre-copy runs in rounds: first ``used_mb``, then what the guest dirtied
  meanwhile (``wws_mb`` + ``dirty_mb_s`` x round time, at most ``used_mb``),
  until a round fits in ``max_downtime_ms`` at the current rate; that last
  round is the downtime. A migration not converged at ``migration_timeout_s``
  is suspended and finished (non-live).
* Power: off / boot / idle + (max - idle) x cpu load while on; shutting down
  hosts draw idle power. Booting and halting hosts count as online.
"""

from __future__ import annotations

import heapq
import math
from dataclasses import dataclass, field

EPS = 1e-9
MAX_ROUNDS = 60   # QEMU has no cap, but past this a flow is effectively stalled


class SimulationError(ValueError):
    pass


@dataclass
class MigrationOutcome:
    duration_s: float
    downtime_ms: float
    non_live: bool
    rounds: int
    transferred_mb: float


@dataclass
class SimResult:
    starts: dict
    ends: dict
    migrations: dict                       # action id -> MigrationOutcome
    completion_s: float
    power_steps: list                      # [(t, watts)] step function
    online_steps: list                     # [(t, hosts online)]
    link_steps: list = field(default_factory=list)   # [(t, {resource: MB/s})]

    def _integral(self):
        energy = 0.0
        for (t0, w), (t1, _) in zip(self.power_steps, self.power_steps[1:] + [(self.completion_s, 0)]):
            energy += w * max(0.0, min(t1, self.completion_s) - t0)
        return energy

    def figures(self):
        durations = [m.duration_s for m in self.migrations.values()]
        mean = sum(durations) / len(durations) if durations else 0.0
        var = sum((d - mean) ** 2 for d in durations) / len(durations) if durations else 0.0
        return {
            "completion_s": round(self.completion_s, 2),
            "mean_migration_s": round(mean, 2),
            "std_migration_s": round(math.sqrt(var), 2),
            "energy_wh": round(self._integral() / 3600.0, 2),
            "peak_power_w": round(max((w for _, w in self.power_steps), default=0.0), 1),
            "max_online_hosts": max((n for _, n in self.online_steps), default=0),
            "non_live_migrations": sum(1 for m in self.migrations.values() if m.non_live),
        }


def max_min_rates(flows, capacities):
    """Max-min fair rates by progressive filling.

    ``flows``: {flow_id: [resource, ...]}; ``capacities``: {resource: MB/s}.
    """
    users, left = {}, {}
    for fid, resources in flows.items():
        for r in resources:
            users.setdefault(r, set()).add(fid)
            left[r] = capacities[r]
    count = {r: len(u) for r, u in users.items()}
    heap = [(left[r] / count[r], r) for r in users]
    heapq.heapify(heap)
    rates = {}
    while heap:
        share, r = heapq.heappop(heap)
        if count[r] == 0 or abs(share - left[r] / count[r]) > EPS * max(1.0, share):
            continue   # stale entry
        for fid in [f for f in users[r] if f not in rates]:
            rates[fid] = max(share, 0.0)
            for other in flows[fid]:
                left[other] -= share
                count[other] -= 1
                if other != r and count[other] > 0:
                    heapq.heappush(heap, (left[other] / count[other], other))
        count[r] = 0
    return rates


@dataclass
class _Flow:
    action_id: str
    vm: object
    resources: list
    started: float
    timeout_at: float
    downtime_s: float
    phase: str = "precopy"        # precopy | stalled | stopcopy
    remaining: float = 0.0        # MB left in the current round
    round_started: float = 0.0
    rounds: int = 1
    sent: float = 0.0
    rate: float = 0.0
    non_live: bool = False
    stop_started: float = 0.0


def _fixed_point_round(vm, rate):
    """Round size pre-copy settles to at a constant rate (inf if it diverges)."""
    if vm.dirty_mb_s >= rate:
        return math.inf
    return min(vm.used_mb, vm.wws_mb / (1.0 - vm.dirty_mb_s / rate)) if rate > 0 else math.inf


def _dependency_order(actions):
    by_id = {a.id: a for a in actions}
    missing = [(a.id, d) for a in actions for d in a.after if d not in by_id]
    if missing:
        raise SimulationError("; ".join(f"action {a} waits for unknown action {d}" for a, d in missing))
    indegree = {a.id: len(set(a.after)) for a in actions}
    children = {a.id: [] for a in actions}
    for a in actions:
        for d in set(a.after):
            children[d].append(a.id)
    ready = [i for i, n in indegree.items() if n == 0]
    order = []
    while ready:
        i = ready.pop()
        order.append(i)
        for c in children[i]:
            indegree[c] -= 1
            if indegree[c] == 0:
                ready.append(c)
    if len(order) != len(actions):
        raise SimulationError("the plan's dependencies form a cycle: "
                              + ", ".join(sorted(i for i, n in indegree.items() if n > 0)[:10]))
    return children


def simulate(model, plan, record_links=False) -> SimResult:
    """Replay ``plan`` on ``model``; returns timings, outcomes and power/online steps."""
    actions = plan.actions
    by_id = {a.id: a for a in actions}
    children = _dependency_order(actions)
    waiting = {a.id: len(set(a.after)) for a in actions}
    cons = model.constraints
    downtime_s = cons.max_downtime_ms / 1000.0

    state = {name: ("on" if h.on else "off") for name, h in model.hosts.items()}
    load = {name: 0.0 for name in model.hosts}
    for vm in model.vms.values():
        load[vm.host] += vm.cpu * vm.cpu_load

    starts, ends, outcomes = {}, {}, {}
    timers = []          # (end time, action id) for boots and halts
    flows = {}
    capacities = {}
    now = 0.0
    power_steps, online_steps, link_steps = [], [], []

    def record():
        watts = 0.0
        for name, host in model.hosts.items():
            s = state[name]
            if s == "off":
                watts += host.power_w.off
            elif s == "booting":
                watts += host.power_w.boot
            elif s == "halting":
                watts += host.power_w.idle
            else:
                watts += model.host_power_w(host, load[name])
        online = sum(1 for s in state.values() if s != "off")
        for steps, value in ((power_steps, watts), (online_steps, online)):
            if steps and abs(steps[-1][0] - now) < EPS:
                steps[-1] = (now, value)
            else:
                steps.append((now, value))

    def start(action_id):
        action = by_id[action_id]
        starts[action_id] = now
        if action.type == "power_on":
            if state[action.host] != "off":
                raise SimulationError(f"{action_id}: host {action.host} is not off")
            state[action.host] = "booting"
            heapq.heappush(timers, (now + model.hosts[action.host].boot_s, action_id))
        elif action.type == "power_off":
            state[action.host] = "halting"
            heapq.heappush(timers, (now + model.hosts[action.host].shutdown_s, action_id))
        else:
            vm = model.vms.get(action.vm)
            if vm is None:
                raise SimulationError(f"{action_id}: unknown VM {action.vm}")
            resources = []
            for rid, cap in model.flow_resources(action.source, action.destination):
                capacities[rid] = cap
                resources.append(rid)
            cap_mbps = action.extra.get("bandwidth_mbps")
            if cap_mbps:
                rid = ("cap", action_id)
                capacities[rid] = cap_mbps / 8.0
                resources.append(rid)
            flows[action_id] = _Flow(action_id, vm, resources, now, now + cons.migration_timeout_s,
                                     downtime_s, remaining=vm.used_mb, round_started=now)

    def finish(action_id):
        ends[action_id] = now
        action = by_id[action_id]
        if action.type == "power_on":
            state[action.host] = "on"
        elif action.type == "power_off":
            state[action.host] = "off"
        else:
            vm = model.vms[action.vm]
            load[action.source] -= vm.cpu * vm.cpu_load
            load[action.destination] += vm.cpu * vm.cpu_load
        for child in children[action_id]:
            waiting[child] -= 1
            if waiting[child] == 0:
                start(child)

    def reschedule():
        rates = max_min_rates({fid: f.resources for fid, f in flows.items()}, capacities)
        for fid, flow in flows.items():
            flow.rate = rates.get(fid, 0.0)
            if flow.phase == "stalled" and _fixed_point_round(flow.vm, flow.rate) <= flow.rate * downtime_s:
                flow.phase = "precopy"          # more bandwidth: pre-copy can converge again
                flow.round_started = now
                flow.remaining = _fixed_point_round(flow.vm, flow.rate)
        if record_links:
            used = {}
            for flow in flows.values():
                for rid in flow.resources:
                    if rid[0] in ("member", "bundle"):
                        used[rid] = used.get(rid, 0.0) + flow.rate
            link_steps.append((now, used))

    def end_round(flow):
        """Called when the current pre-copy round has been sent."""
        elapsed = now - flow.round_started
        vm = flow.vm
        nxt = min(vm.used_mb, vm.wws_mb + vm.dirty_mb_s * elapsed)
        if nxt <= flow.rate * downtime_s + EPS:
            flow.phase, flow.remaining, flow.stop_started = "stopcopy", nxt, now
            return
        flow.rounds += 1
        if flow.rounds >= MAX_ROUNDS or _fixed_point_round(vm, flow.rate) > flow.rate * downtime_s:
            flow.phase = "stalled"
        flow.remaining, flow.round_started = nxt, now

    def suspend(flow):
        """Timeout: pause the guest and copy what is left (non-live)."""
        vm = flow.vm
        dirtied = min(vm.used_mb, vm.wws_mb + vm.dirty_mb_s * (now - flow.round_started))
        flow.phase, flow.non_live, flow.stop_started = "stopcopy", True, now
        flow.remaining = min(vm.used_mb, flow.remaining + dirtied)

    for action in actions:
        if waiting[action.id] == 0:
            start(action.id)
    reschedule()
    record()

    guard = 0
    while timers or flows:
        guard += 1
        if guard > 50_000_000:
            raise SimulationError("simulation did not terminate")
        # next event: a timer, a flow phase end, or a migration timeout
        t_next = timers[0][0] if timers else math.inf
        for flow in flows.values():
            if flow.phase != "stalled" and flow.rate > EPS:
                t_next = min(t_next, now + flow.remaining / flow.rate)
            if not flow.non_live:
                t_next = min(t_next, flow.timeout_at)
        if t_next == math.inf:
            raise SimulationError("migrations are starved: a flow crosses a resource of zero capacity")
        dt = max(0.0, t_next - now)
        for flow in flows.values():
            sent = flow.rate * dt
            flow.sent += sent
            if flow.phase != "stalled":
                flow.remaining -= sent
        now = t_next
        changed = False
        while timers and timers[0][0] <= now + EPS:
            _, action_id = heapq.heappop(timers)
            finish(action_id)
            changed = True
        for fid in list(flows):
            flow = flows[fid]
            if not flow.non_live and now >= flow.timeout_at - EPS and flow.phase != "stopcopy":
                suspend(flow)
            if flow.phase in ("precopy", "stopcopy") and flow.remaining <= EPS * max(1.0, flow.vm.used_mb):
                if flow.phase == "precopy":
                    end_round(flow)
                else:
                    del flows[fid]
                    outcomes[fid] = MigrationOutcome(
                        duration_s=now - flow.started,
                        downtime_ms=(now - flow.stop_started) * 1000.0,
                        non_live=flow.non_live, rounds=flow.rounds, transferred_mb=flow.sent)
                    finish(fid)
                    changed = True
        if changed or any(f.rate == 0 for f in flows.values()):
            reschedule()
        record()

    unstarted = [a.id for a in actions if a.id not in ends]
    if unstarted:
        raise SimulationError(f"actions never ran: {', '.join(unstarted[:10])}")
    completion = max(ends.values(), default=0.0)
    return SimResult(starts, ends, outcomes, completion, power_steps, online_steps, link_steps)


def annotate(model, plan, result=None):
    """Fill a plan's start/end times and ``predicted`` figures from a replay."""
    result = result or simulate(model, plan)
    for action in plan.actions:
        action.start_s = result.starts[action.id]
        action.end_s = result.ends[action.id]
        outcome = result.migrations.get(action.id)
        if outcome is not None:
            action.extra["downtime_ms"] = round(outcome.downtime_ms, 1)
            action.extra["non_live"] = outcome.non_live
    plan.predicted = result.figures()
    return result


def predict_migration_s(model, vm_name, source, destination):
    """Predicted duration of one migration running alone on the network."""
    from .plan import Plan, migrate   # local import: plan has no simulator dependency
    vm = model.vms[vm_name]
    lone = model.__class__(
        hosts=model.hosts, vms={vm_name: vm.__class__(**{**vm.__dict__, "host": source})},
        links=model.links, drain=[source], targets=[destination], constraints=model.constraints,
        efficiency=model.efficiency)
    result = simulate(lone, Plan([migrate(vm_name, source, destination, 1)]))
    return next(iter(result.migrations.values())).duration_s
