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
        for (t0, w), (t1, dummy) in zip(self.power_steps, self.power_steps[1:] + [(self.completion_s, 0)]):
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
            "peak_power_w": round(max((w for dummy, w in self.power_steps), default=0.0), 1),
            "max_online_hosts": max((n for dummy, n in self.online_steps), default=0),
            "non_live_migrations": sum(1 for m in self.migrations.values() if m.non_live),
        }


def _fill(counts, classes_of, capacities):
    """Progressive filling on flow classes: ``counts`` {class key: flows}, each key a tuple of resources.

    A resource's fair share (capacity left / flows left) only grows as the flows of tighter
    resources are fixed, so heap entries are refreshed lazily when popped.
    """
    left, count = {}, {}
    for key, n in counts.items():
        for r in key:
            left[r] = capacities[r]
            count[r] = count.get(r, 0) + n
    heap = [(left[r] / count[r], r) for r in count]
    heapq.heapify(heap)
    rates = {}
    while heap:
        share, r = heap[0]
        n_left = count[r]
        if n_left == 0:
            heapq.heappop(heap)
            continue
        current = left[r] / n_left
        if abs(share - current) > EPS * max(1.0, share):
            heapq.heapreplace(heap, (current, r))   # stale: its share grew
            continue
        heapq.heappop(heap)
        for key in classes_of[r]:
            if key in rates or key not in counts:
                continue
            rates[key] = max(share, 0.0)
            n = counts[key]
            for other in key:
                left[other] -= share * n
                count[other] -= n
        count[r] = 0
    return rates


def max_min_rates(flows, capacities):
    """Max-min fair rates by progressive filling.

    ``flows``: {flow_id: [resource, ...]}; ``capacities``: {resource: MB/s}.
    Flows crossing the same resources always get the same rate, so they are filled as one class.
    """
    members = {}
    for fid, resources in flows.items():
        members.setdefault(tuple(resources), []).append(fid)
    classes_of = {}
    for key in members:
        for r in key:
            classes_of.setdefault(r, []).append(key)
    rates = _fill({key: len(fids) for key, fids in members.items()}, classes_of, capacities)
    return {fid: rates[key] for key, fids in members.items() for fid in fids}


@dataclass
class _Flow:
    action_id: str
    vm: object
    resources: list
    started: float
    timeout_at: float
    downtime_s: float
    phase: str = "precopy"        # precopy | stalled | stopcopy
    remaining: float = 0.0        # MB left in the current round (kept up to date only while stalled)
    round_started: float = 0.0
    rounds: int = 1
    non_live: bool = False
    stop_started: float = 0.0
    seq: int = 0                  # start order: flows ending together are handled in this order
    target: float = 0.0           # class service at which the current round is sent
    service0: float = 0.0         # class service when the flow started (sent = service - service0)
    version: int = 0              # invalidates the flow's stale entries in its class heap
    klass: object = None

    @property
    def done_tolerance(self):
        return EPS * max(1.0, self.vm.used_mb)


class _FlowClass:
    """Flows crossing the same resources: they always share one rate, so progress is tracked once.

    ``service`` is the MB each member has been offered since the class was created; a flow's
    round ends when the service reaches its ``target`` (virtual time), so a rate change costs
    O(1) per class instead of O(1) per flow.
    """

    def __init__(self, key, now):
        self.key = key
        self.members = {}            # action id -> _Flow
        self.rate = 0.0
        self.service = 0.0
        self.service_at = now
        self.heap = []               # (target, seq, version, action id) of flows making progress
        self.tolerance = 0.0         # largest done tolerance of its flows
        self.version = 0

    def service_now(self, now):
        return self.service + self.rate * (now - self.service_at)

    def advance(self, now):
        self.service = self.service_now(now)
        self.service_at = now


def _fixed_point_round(vm, rate):
    """Round size pre-copy settles to at a constant rate (inf if it diverges)."""
    if vm.dirty_mb_s >= rate:
        return math.inf
    return min(vm.used_mb, vm.wws_mb / (1.0 - vm.dirty_mb_s / rate)) if rate > 0 else math.inf


def _dependency_order(model, actions):
    by_id = {a.id: a for a in actions}
    missing = [(a.id, d) for a in actions for d in a.after if d not in by_id]
    if missing:
        raise SimulationError("; ".join(f"action {a} waits for unknown action {d}" for a, d in missing))
    unknown = [(a.id, h) for a in actions for h in ((a.source, a.destination) if a.type == "migrate" else (a.host,))
               if h not in model.hosts]
    if unknown:
        raise SimulationError("; ".join(f"action {a} names unknown host {h}" for a, h in unknown))
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
    """Replay ``plan`` on ``model``; returns timings, outcomes and power/online steps.

    Event driven: a heap of boot/halt timers, a heap of migration timeouts and a heap of flow
    classes by the time their next round ends. When flows start or end, max-min rates are
    recomputed only on the connected part of the network they touch; simultaneous events are
    handled in one step.
    """
    actions = plan.actions
    by_id = {a.id: a for a in actions}
    children = _dependency_order(model, actions)
    waiting = {a.id: len(set(a.after)) for a in actions}
    cons = model.constraints
    downtime_s = cons.max_downtime_ms / 1000.0

    state = {name: ("on" if h.on else "off") for name, h in model.hosts.items()}
    load = {name: 0.0 for name in model.hosts}
    for vm in model.vms.values():
        load[vm.host] += vm.cpu * vm.cpu_load

    def host_watts(name):
        return model.power_in_state(name, state[name], load[name])

    # power and online count are kept as running totals: O(1) per event instead of O(hosts)
    watts_of = {name: host_watts(name) for name in model.hosts}
    totals = {"watts": sum(watts_of.values()), "online": sum(1 for s in state.values() if s != "off")}

    def refresh_host(name):
        watts = host_watts(name)
        totals["watts"] += watts - watts_of[name]
        watts_of[name] = watts

    def set_state(name, new):
        totals["online"] += (new != "off") - (state[name] != "off")
        state[name] = new
        refresh_host(name)

    starts, ends, outcomes = {}, {}, {}
    timers = []          # (end time, action id) for boots, halts and migration set-ups
    setting_up = set()   # migrations in their set-up time
    timeouts = []        # (timeout time, action id) of migrations
    class_events = []    # (earliest due time, exact round end, version, class key)
    flows, classes, classes_of = {}, {}, {}
    capacities = {}
    stalled = set()
    touched = set()      # resources whose flows changed since the last rate update
    now = 0.0
    power_steps, online_steps, link_steps = [], [], []

    def record():
        for steps, value in ((power_steps, totals["watts"]), (online_steps, totals["online"])):
            if steps and abs(steps[-1][0] - now) < EPS:
                steps[-1] = (now, value)
            else:
                steps.append((now, value))

    def plan_class(klass):
        """(Re)queue the class's next round end: the earliest target of its progressing flows."""
        klass.version += 1
        heap = klass.heap
        while heap and (heap[0][3] not in klass.members or klass.members[heap[0][3]].version != heap[0][2]):
            heapq.heappop(heap)
        if not heap or klass.rate <= EPS:
            return
        left = heap[0][0] - klass.service_now(now)
        exact = now + max(0.0, left) / klass.rate
        earliest = now + max(0.0, left - klass.tolerance) / klass.rate
        heapq.heappush(class_events, (earliest, exact, klass.version, klass.key))

    def set_round(flow, size):
        """Start a round of ``size`` MB now (or resume progress after a stall)."""
        klass = flow.klass
        flow.version += 1
        flow.target = klass.service_now(now) + size
        heapq.heappush(klass.heap, (flow.target, flow.seq, flow.version, flow.action_id))
        plan_class(klass)

    def remaining(flow):
        if flow.phase == "stalled":
            return flow.remaining
        return flow.target - flow.klass.service_now(now)

    def start(action_id):
        action = by_id[action_id]
        starts[action_id] = now
        if action.type == "power_on":
            if state[action.host] != "off":
                raise SimulationError(f"{action_id}: host {action.host} is not off")
            set_state(action.host, "booting")
            heapq.heappush(timers, (now + model.hosts[action.host].boot_s, action_id))
        elif action.type == "power_off":
            set_state(action.host, "halting")
            heapq.heappush(timers, (now + model.hosts[action.host].shutdown_s, action_id))
        elif model.migration_setup_s > 0:
            # destination QEMU start and handshake: no memory moves yet
            setting_up.add(action_id)
            heapq.heappush(timers, (now + model.migration_setup_s, action_id))
        else:
            begin_flow(action_id)

    def begin_flow(action_id):
        action = by_id[action_id]
        if action.type == "migrate":
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
            key = tuple(resources)
            klass = classes.get(key)
            if klass is None:
                klass = classes[key] = _FlowClass(key, now)
                for rid in key:
                    classes_of.setdefault(rid, set()).add(key)
            flow = _Flow(action_id, vm, resources, starts[action_id], now + cons.migration_timeout_s, downtime_s,
                         round_started=now, seq=len(starts), klass=klass,
                         service0=klass.service_now(now))
            klass.members[action_id] = flow
            klass.tolerance = max(klass.tolerance, flow.done_tolerance)
            flows[action_id] = flow
            set_round(flow, vm.used_mb)
            heapq.heappush(timeouts, (flow.timeout_at, action_id))
            touched.update(key)

    def finish(action_id):
        ends[action_id] = now
        action = by_id[action_id]
        if action.type == "power_on":
            set_state(action.host, "on")
        elif action.type == "power_off":
            set_state(action.host, "off")
        else:
            vm = model.vms[action.vm]
            load[action.source] -= vm.cpu * vm.cpu_load
            load[action.destination] += vm.cpu * vm.cpu_load
            refresh_host(action.source)
            refresh_host(action.destination)
        for child in children[action_id]:
            waiting[child] -= 1
            if waiting[child] == 0:
                start(child)

    def end_migration(flow):
        klass = flow.klass
        del flows[flow.action_id]
        del klass.members[flow.action_id]
        stalled.discard(flow.action_id)
        touched.update(klass.key)
        outcomes[flow.action_id] = MigrationOutcome(
            duration_s=now - flow.started, downtime_ms=(now - flow.stop_started) * 1000.0,
            non_live=flow.non_live, rounds=flow.rounds, transferred_mb=klass.service_now(now) - flow.service0)
        if not klass.members:
            del classes[klass.key]
            for rid in klass.key:
                classes_of[rid].discard(klass.key)
        else:
            plan_class(klass)
        finish(flow.action_id)

    def update_rates():
        """Max-min rates of the connected part of the network whose flows changed."""
        keys, frontier, seen = set(), list(touched), set(touched)
        touched.clear()
        while frontier:
            for key in classes_of.get(frontier.pop(), ()):
                if key not in keys:
                    keys.add(key)
                    for rid in key:
                        if rid not in seen:
                            seen.add(rid)
                            frontier.append(rid)
        counts = {key: len(classes[key].members) for key in keys}
        for key, rate in _fill(counts, classes_of, capacities).items():
            klass = classes[key]
            if rate != klass.rate:
                klass.advance(now)
                klass.rate = rate
                plan_class(klass)
        for fid in sorted(stalled, key=lambda f: flows[f].seq):
            flow = flows[fid]
            rate = flow.klass.rate
            if _fixed_point_round(flow.vm, rate) <= rate * downtime_s:
                stalled.discard(fid)       # more bandwidth: pre-copy can converge again
                flow.phase = "precopy"
                flow.round_started = now
                set_round(flow, _fixed_point_round(flow.vm, rate))
        if record_links:
            used = {}
            for klass in classes.values():
                for rid in klass.key:
                    if rid[0] in ("member", "bundle"):
                        used[rid] = used.get(rid, 0.0) + klass.rate * len(klass.members)
            link_steps.append((now, used))

    def end_round(flow):
        """Called when the current pre-copy round has been sent."""
        elapsed = now - flow.round_started
        vm = flow.vm
        rate = flow.klass.rate
        nxt = min(vm.used_mb, vm.wws_mb + vm.dirty_mb_s * elapsed)
        if nxt <= rate * downtime_s + EPS:
            flow.phase, flow.stop_started = "stopcopy", now
            set_round(flow, nxt)
            return
        flow.rounds += 1
        flow.round_started = now
        if flow.rounds >= MAX_ROUNDS or _fixed_point_round(vm, rate) > rate * downtime_s:
            flow.phase, flow.remaining = "stalled", nxt
            flow.version += 1              # no progress until its rate rises
            stalled.add(flow.action_id)
            plan_class(flow.klass)
        else:
            set_round(flow, nxt)

    def suspend(flow):
        """Timeout: pause the guest and copy what is left (non-live)."""
        vm = flow.vm
        dirtied = min(vm.used_mb, vm.wws_mb + vm.dirty_mb_s * (now - flow.round_started))
        left = remaining(flow)
        stalled.discard(flow.action_id)
        flow.phase, flow.non_live, flow.stop_started = "stopcopy", True, now
        set_round(flow, min(vm.used_mb, left + dirtied))

    for action in actions:
        if waiting[action.id] == 0:
            start(action.id)
    update_rates()
    record()

    guard = 0
    while timers or flows:
        guard += 1
        if guard > 50_000_000:
            raise SimulationError("simulation did not terminate")
        # next event: a timer, a migration timeout, or the end of a round
        t_next = timers[0][0] if timers else math.inf
        while timeouts and (timeouts[0][1] not in flows or flows[timeouts[0][1]].non_live):
            heapq.heappop(timeouts)
        if timeouts:
            t_next = min(t_next, timeouts[0][0])
        popped = []
        while class_events:
            earliest, exact, version, key = class_events[0]
            klass = classes.get(key)
            if klass is None or klass.version != version:
                heapq.heappop(class_events)
                continue
            if earliest > t_next:
                break
            heapq.heappop(class_events)
            popped.append(klass)
            t_next = min(t_next, exact)
        if t_next == math.inf:
            raise SimulationError("migrations are starved: a flow crosses a resource of zero capacity")
        now = max(now, t_next)
        changed = False
        while timers and timers[0][0] <= now + EPS:
            dummy, action_id = heapq.heappop(timers)
            if action_id in setting_up:
                setting_up.discard(action_id)
                begin_flow(action_id)
            else:
                finish(action_id)
            changed = True
        while timeouts and timeouts[0][0] <= now + EPS:
            dummy, fid = heapq.heappop(timeouts)
            flow = flows.get(fid)
            if flow is not None and not flow.non_live and flow.phase != "stopcopy":
                suspend(flow)
        # flows whose round is sent (within EPS of the MB), across every class due now
        due = []
        for klass in popped:
            service = klass.service_now(now)
            keep = []
            while klass.heap and klass.heap[0][0] <= service + klass.tolerance:
                entry = heapq.heappop(klass.heap)
                flow = klass.members.get(entry[3])
                if flow is None or flow.version != entry[2]:
                    continue
                left = entry[0] - service
                if left <= flow.done_tolerance or now + left / klass.rate <= now:   # sent, or below clock resolution
                    due.append(flow)
                else:
                    keep.append(entry)
            for entry in keep:
                heapq.heappush(klass.heap, entry)
        due.sort(key=lambda f: f.seq)
        for flow in due:
            if flow.action_id not in flows:
                continue
            if flow.phase == "precopy":
                end_round(flow)
            elif flow.phase == "stopcopy":
                end_migration(flow)
                changed = True
        for klass in popped:
            if klass.key in classes:
                plan_class(klass)
        if changed:
            update_rates()
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
        efficiency=model.efficiency, migration_setup_s=model.migration_setup_s)
    result = simulate(lone, Plan([migrate(vm_name, source, destination, 1)]))
    return next(iter(result.migrations.values())).duration_s
