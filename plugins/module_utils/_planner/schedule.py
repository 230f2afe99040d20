"""From a placement to an action graph: the "lane" (resource-token) scheduler.

Shared by the hand-tuned yardstick and the MILP planner. Pure Python.

Idea: a migration that runs alone on its bottleneck lasts what it lasts in a
sequential plan. Every network resource (source NIC, link member or bundle
direction, destination NIC) gets ``slots`` = how many flows it carries at full
speed at once; each slot is a *lane*: a chain of migrations in the action
graph (each migration waits for the previous holder of every slot it takes).
Lanes never oversubscribe a resource whatever the executor's timing, so every
migration keeps the bandwidth it needs to converge. Boots are chained the same
way on "online" slots (``max_online_hosts``, ``power_budget_w``): a boot that
needs a slot waits for the power-off that frees it. Registered constraints add tokens of
their own (``constraints.lane_tokens``: a concurrency cap of N is N chains per group).
"""

from __future__ import annotations

import heapq
import math

from .constraints import lane_tokens
from .plan import Plan, migrate, power_off, power_on

MAX_ROUNDS = 60


class ScheduleError(ValueError):
    """The placement cannot be scheduled (e.g. a boot waits for a slot no halt frees)."""


def required_rate_mb_s(model, vm):
    """Lowest bandwidth at which pre-copy converges within max_downtime_ms.

    The round size settles at wws / (1 - dirty / r); it must fit r x downtime:
    r >= dirty + wws / downtime. A VM whose whole memory fits one downtime
    window converges at any rate that sends it in time.
    """
    downtime = model.constraints.max_downtime_ms / 1000.0
    need = vm.dirty_mb_s + vm.wws_mb / downtime
    return min(need, max(vm.used_mb / downtime, vm.dirty_mb_s)) if vm.used_mb else 0.0


def lone_duration_s(model, vm, rate):
    """Duration of a pre-copy migration at a constant ``rate`` (MB/s), as the simulator replays it."""
    if rate <= 0:
        return math.inf
    downtime = model.constraints.max_downtime_ms / 1000.0
    remaining, total = vm.used_mb, 0.0
    for dummy in range(MAX_ROUNDS):
        elapsed = remaining / rate
        total += elapsed
        nxt = min(vm.used_mb, vm.wws_mb + vm.dirty_mb_s * elapsed)
        if nxt <= rate * downtime + 1e-9:
            return total + nxt / rate
        if vm.dirty_mb_s >= rate or vm.wws_mb / (1.0 - vm.dirty_mb_s / rate) > rate * downtime:
            break
        remaining = nxt
    # does not converge: suspended at the timeout, then the rest is copied
    timeout = model.constraints.migration_timeout_s
    return timeout + vm.used_mb / rate


class FlowInfo:
    """Resources, lone rate and lone duration of every (vm, destination) pair, cached."""

    def __init__(self, model):
        self.model = model
        self._res = {}
        self._dur = {}

    def resources(self, source, dest):
        key = (source, dest)
        got = self._res.get(key)
        if got is None:
            got = self.model.flow_resources(source, dest)
            self._res[key] = got
        return got

    def rate(self, source, dest):
        return min(cap for dummy, cap in self.resources(source, dest))

    def duration(self, vm_name, dest):
        key = (vm_name, dest)
        got = self._dur.get(key)
        if got is None:
            vm = self.model.vms[vm_name]
            got = lone_duration_s(self.model, vm, self.rate(vm.host, dest))
            self._dur[key] = got
        return got


def resource_slots(flows_info, pairs, weights=None, slowest_bundles=False):
    """Slots per resource: how many of these flows it carries at once at their lone rate.

    By default the fastest flow through a resource sets its slot size. With ``weights``
    ({pair: MB}) it is the flows' mean rate, weighted by their data: a bundle whose flows are
    mostly held back elsewhere (a 10G layer2 member at the other end) gets more lanes and
    stays busy; the faster flows then share it. ``slowest_bundles``: a balanced bundle's
    slowest flow sets its slot size, so that it stays full even while every lane carries a
    held-back flow (dense-200: a 40G bundle whose flows went at 25G or at a far 10G member
    had 2 or 3 lanes and was 89 % busy)."""
    capacity, fastest, volume, time_s, slowest = {}, {}, {}, {}, {}
    for source, dest in pairs:
        res = flows_info.resources(source, dest)
        rate = min(cap for dummy, cap in res)
        for rid, cap in res:
            capacity[rid] = cap
            fastest[rid] = max(fastest.get(rid, 0.0), rate)
            if slowest_bundles and rid[0] == "bundle":
                slowest[rid] = min(slowest.get(rid, rate), rate)
            if weights:
                volume[rid] = volume.get(rid, 0.0) + weights[source, dest]
                time_s[rid] = time_s.get(rid, 0.0) + weights[source, dest] / rate
    if weights:
        fastest = {rid: volume[rid] / time_s[rid] if time_s.get(rid) else fastest[rid] for rid in fastest}
    fastest.update(slowest)
    # a resource carrying 1.6 lone flows carries 2 at 80 % of their rate: round, do not floor
    return {rid: max(1, int(capacity[rid] / fastest[rid] + 0.5 - 1e-9)) for rid in capacity}


def online_headroom(model):
    """Extra hosts that may be online at once (None: unlimited), from max_online_hosts and power."""
    cons = model.constraints
    online = sum(1 for h in model.hosts.values() if h.on)
    room = None
    if cons.max_online_hosts is not None:
        room = cons.max_online_hosts - online
    if cons.power_budget_w is not None:
        current = 0.0
        for host in model.hosts.values():
            load = sum(v.cpu * v.cpu_load for v in model.vms_on(host.name))
            current += model.host_power_w(host, load) if host.on else host.power_w.off
        spares = [model.hosts[t] for t in model.targets if not model.hosts[t].on]
        if spares:
            # a spare draws its boot power, then idle plus its VMs' load: load the drained
            # hosts shed as it arrives (the checker moves it at the migration's end), so a
            # spare costs max(boot, idle) - off and the load only what moving_load_w says
            cost = max(max(h.power_w.boot, h.power_w.idle) - h.power_w.off for h in spares)
            spare_room = cons.power_budget_w - current - moving_load_w(model)
            by_power = int((spare_room + 1e-9) // cost) if cost > 0 else 10 ** 9
            room = by_power if room is None else min(room, by_power)
    return room


def _slope_w(host):
    """Watts per cpu of load on ``host`` (power_w is linear from idle to max at full cpu)."""
    return (host.power_w.max - host.power_w.idle) / host.cpu if host.cpu else 0.0


def moving_load_w(model):
    """Most the moving VMs' load can add to the total draw wherever it lands: a VM's load costs
    the steepest target slope where its source's slope saved it, and a source loaded beyond its
    cpu (its draw capped at max) may shed load without saving anything for that excess."""
    hosts = model.hosts
    steepest = max((_slope_w(hosts[t]) for t in model.targets), default=0.0)
    drained = set(model.drain)
    load = {h: 0.0 for h in drained}
    extra = 0.0
    for vm in model.vms.values():
        if vm.host in drained:
            load[vm.host] += vm.cpu * vm.cpu_load
            extra += vm.cpu * vm.cpu_load * max(0.0, steepest - _slope_w(hosts[vm.host]))
    return extra + sum(_slope_w(hosts[h]) * max(0.0, load[h] - hosts[h].cpu) for h in drained)


def lane_slots(model, placement, flows_info, mean_rate=False, slowest_bundles=False):
    """Slots of every resource the flows of ``placement`` cross (see resource_slots)."""
    pairs = {(model.vms[v].host, d) for v, d in placement.items()}
    weights = None
    if mean_rate:
        weights = {}
        for v, d in placement.items():
            weights[model.vms[v].host, d] = weights.get((model.vms[v].host, d), 0.0) + model.vms[v].used_mb
    return resource_slots(flows_info, pairs, weights, slowest_bundles)


def rate_units(model, placement, flows_info, kinds=("bundle",)):
    """(slots, units) for lanes weighted by rate: each resource of a kind in ``kinds`` gets one
    slot per its slowest flow (capacity / slowest lone rate, rounded), and a flow takes as many
    slots as its lone rate holds slowest flows (rounded, at least one). A balanced bundle whose
    flows are held back at the far end by a 10 Gb member carries four of them at once, a 25 Gb
    flow takes two of its four slots: the bundle stays full whatever the mix (spares-2048: with
    one slot per flow its 2 lanes ran 10 Gb flows half the time, 75 % busy). Other resources:
    ``lane_slots(mean_rate=True)``, one slot per flow."""
    slots = lane_slots(model, placement, flows_info, mean_rate=True)
    paths = {}  # (source, destination) -> (its resources, its lone rate)
    for v, d in placement.items():
        key = (model.vms[v].host, d)
        if key not in paths:
            res = flows_info.resources(*key)
            paths[key] = (res, min(cap for dummy, cap in res))
    slowest, capacity = {}, {}
    for res, rate in paths.values():
        for rid, cap in res:
            if rid[0] in kinds:
                capacity[rid] = cap
                slowest[rid] = min(slowest.get(rid, rate), rate)
    for rid, cap in capacity.items():
        slots[rid] = max(1, int(cap / slowest[rid] + 0.5 - 1e-9))
    units = {}
    for (source, dest), (res, rate) in paths.items():
        for rid, dummy in res:
            if rid in slowest:
                # rounded, not ceiled: two 25 Gb flows on a 40 Gb bundle share it at 20 Gb each;
                # three slots each would leave it 13 % idle beside every 10 Gb flow (spares-2048:
                # 439 s rounded, 523 s ceiled)
                n = min(slots[rid], max(1, int(rate / slowest[rid] + 0.5 - 1e-9)))
                if n > 1:
                    units.setdefault((source, dest), {})[rid] = n
    return slots, units


def lane_durations(model, placement, flows_info, slots, units=None):
    """{vm: estimated seconds} of each migration of ``placement`` when every lane it crosses is
    busy: its data at the lower of its lone rate and each resource's capacity / slots. Where
    lanes oversubscribe a resource (a 40 Gb bundle with 2 lanes of 25 Gb flows: each gets 20)
    the lone duration is optimistic, and the lanes behind such a flow would be planned to
    start before it ends."""
    share = {}
    out = {}
    for vm_name, dest in placement.items():
        vm = model.vms[vm_name]
        key = (vm.host, dest)
        if key not in share:
            res = flows_info.resources(vm.host, dest)
            n = (units or {}).get(key, {})
            share[key] = min(min(cap for dummy, cap in res), min(cap * n.get(rid, 1) / slots[rid] for rid, cap in res))
        out[vm_name] = lone_duration_s(model, vm, share[key])
    return out


def _source_queues(model, placement, order):
    """(by_source, by_dest, senders): each drained host's VMs largest first; each host's VMs per
    destination, largest last (for pick="earliest"); each destination's sending hosts."""
    by_source = {h: [] for h in order}
    for vm_name, dest in placement.items():
        by_source[model.vms[vm_name].host].append(vm_name)
    for h in order:   # big VMs first: the tail of each lane is short
        by_source[h].sort(key=lambda v: (-model.vms[v].used_mb, v))
    by_dest = {h: {} for h in order}     # pick="earliest": each host's VMs per destination, largest last
    senders = {}                         # destination -> hosts with VMs for it
    for v, d in placement.items():
        senders.setdefault(d, set()).add(model.vms[v].host)
    for h in order:
        for v in reversed(by_source[h]):
            by_dest[h].setdefault(placement[v], []).append(v)
    return by_source, by_dest, senders


def _lane_tokens(model, placement, info, slots):
    """(held, tokens): every token a migration of each (source, destination) holds (network and
    the registered constraints' caps, whose slot counts are added to ``slots``), and a heap of
    (free at, slot, holder) per token."""
    pairs = {(model.vms[v].host, d) for v, d in placement.items()}
    held = {}       # (source, destination) -> every token a migration holds: network and caps
    for source, dest in pairs:
        held[source, dest] = [rid for rid, dummy in info.resources(source, dest)]
        for token, n in lane_tokens(model, source, dest):
            slots[token] = n
            held[source, dest].append(token)
    tokens = {rid: [(0.0, i, None) for i in range(n)] for rid, n in slots.items()}   # heaps
    for heap in tokens.values():
        heapq.heapify(heap)
    return held, tokens


def _spares_needed(model, placement, order, by_source, boot_order):
    """The spares to boot: in order of first use, or in ``boot_order``."""
    needed = []
    for h in order:
        for v in by_source[h]:
            d = placement[v]
            if not model.hosts[d].on and d not in needed:
                needed.append(d)
    if boot_order is not None:
        # a cascade's own spare order: under a cap the last boots wait for the last halts, and
        # its last spares are the ones it gave the least data (first use by host order booted
        # last a spare fed 104 GB on license-power-384)
        boot_rank = {d: i for i, d in enumerate(boot_order)}
        needed.sort(key=lambda d: boot_rank.get(d, len(boot_rank)))
    return needed


def _link_work(model, placement, info, slots, estimate):
    """Work left on every shared link resource (member, bundle, receive NIC), for the "link" rule."""
    link_work = {}
    for v, d in placement.items():
        for rid, dummy in info.resources(model.vms[v].host, d):
            if rid[0] in ("member", "bundle", "rx"):
                link_work[rid] = link_work.get(rid, 0.0) + estimate[v] / slots[rid]
    return link_work


def _token_heaps(held, tokens, units):
    """(shared, heaps, multi): the token heaps every destination of a host shares (its NIC, its
    caps: looked at once per host), those of each (source, destination) pair of its own, and
    per pair the [(heap, n)] of the resources it takes several slots of (free when its n-th
    earliest slot is)."""
    shared = {}
    # the resources each pair takes one slot of, in held's order
    single = {key: [rid for rid in rids if units.get(key, {}).get(rid, 1) == 1] for key, rids in held.items()}
    for (h, d), rids in single.items():
        shared[h] = set(rids) if h not in shared else shared[h] & set(rids)
    heaps = {(h, d): [tokens[rid] for rid in rids if rid not in shared[h]] for (h, d), rids in single.items()}
    multi = {key: [(tokens[rid], n) for rid, n in units[key].items() if n > 1] for key in held if units.get(key)}
    shared = {h: [tokens[rid] for rid in rids] for h, rids in shared.items()}
    return shared, heaps, multi


def build_lane_plan(model, placement, flows_info=None, rule="work", mean_rate=False, slots=None, order=None,
                    pick="largest", shared_rates=True, boot_order=None, units=None):
    """Schedule ``placement`` ({vm: destination}) into a dependency graph of lanes.

    A parallel list scheduler on estimated durations (``lane_durations``): repeatedly start the
    migration that can start earliest (ties: the source with most work left, its
    shutdown included (its halt ends the drain as much as its data does);
    rule ``order``: the source first in ``order``, default the listed drain order),
    taking the earliest free slot of each resource it crosses. Spares boot in the
    order of their first use, or in ``boot_order`` (a cascade's spare order). With an explicit
    ``order`` (a cascade placement) under a binding online cap, each host sends first the VMs
    whose spare boots earliest.
    ``pick``: which VM of a host comes next: ``largest`` (its VMs largest first, or in the
    cascade's order) or ``earliest`` (the one whose slots free first, largest first among
    those: a host whose largest VM waits for a busy member or NIC sends another meanwhile, so
    a link is not left idle while hosts wait for it). ``shared_rates=False``: lone durations.
    ``units`` ({(source, destination): {resource: n}}, see ``rate_units``): a migration takes
    n slots of that resource instead of one (a fast flow takes more of a bundle than a slow one).
    Returns an un-annotated ``Plan`` (the caller replays it in the simulator).
    """
    info = flows_info or FlowInfo(model)
    explicit_order = order is not None
    order = list(order or model.drain)
    rank = {h: i for i, h in enumerate(order)}
    by_source, by_dest, senders = _source_queues(model, placement, order)
    sizes = {v: (-model.vms[v].used_mb, v) for v in placement}
    slots = dict(slots or lane_slots(model, placement, info, mean_rate))
    held, tokens = _lane_tokens(model, placement, info, slots)

    actions = []    # every wave is 1 here: assign_waves numbers them at the end
    needed = _spares_needed(model, placement, order, by_source, boot_order)
    room = online_headroom(model)
    if needed and room is not None and room < 1:
        raise ScheduleError("no online slot to boot a spare")
    if explicit_order and room is not None and len(needed) > room:
        # a cascade (boots wait for halts): a host first sends the VMs whose spare boots earliest,
        # so that a VM waiting for a late spare does not hold back the others
        boot_rank = {d: i for i, d in enumerate(needed)}
        for h in order:
            by_source[h].sort(key=lambda v: (boot_rank.get(placement[v], -1), -model.vms[v].used_mb, v))
    ready_at, boot_id = {}, {}
    free_slots = [(0.0, None)] * (len(needed) if room is None else min(room, len(needed)))
    boot_queue = list(needed)
    pending_halts = []     # heap (end time, halt id)

    def start_boots():
        """Boot the next spares while online slots are free; returns them."""
        started = []
        while boot_queue and free_slots:
            t_free, dep = free_slots.pop(0)
            d = boot_queue.pop(0)
            action = power_on(d, 1, [dep] if dep else [])
            actions.append(action)
            boot_id[d] = action.id
            ready_at[d] = t_free + model.hosts[d].boot_s
            started.append(d)
        return started

    start_boots()
    estimate = (lane_durations(model, placement, info, slots, units) if shared_rates
                else {v: info.duration(v, d) for v, d in placement.items()})
    # a host is done when its shutdown ends: a long shutdown counts as work left
    remaining_work = {h: sum(estimate[v] for v in by_source[h]) + model.hosts[h].shutdown_s for h in order}
    link_work = _link_work(model, placement, info, slots, estimate)
    left = {h: len(by_source[h]) for h in order}
    last_end = {h: 0.0 for h in order}
    moves_of = {h: [] for h in order}
    nxt = {h: 0 for h in order}
    active = {h for h in order if by_source[h]}
    for h in order:
        if not by_source[h]:       # already empty drained host: halt at once
            actions.append(power_off(h, 1))
            if model.hosts[h].on:
                pending_halts.append((model.hosts[h].shutdown_s, actions[-1].id))
    heapq.heapify(pending_halts)

    units = units or {}
    shared, heaps, multi = _token_heaps(held, tokens, units)

    def multi_free(key, t):
        for heap, n in multi.get(key, ()):
            free = heapq.nsmallest(n, heap)[-1][0]
            if free > t:
                t = free
        return t

    on_at_start = {d for d in senders if model.hosts[d].on}

    def start_of(h, d, t=0.0):
        """Earliest start into ``d`` from ``h`` no earlier than ``t`` (None while ``d`` is not booted)."""
        ready = ready_at.get(d)
        if ready is None:
            if not model.hosts[d].on:
                return None
        elif ready > t:
            t = ready
        for heap in heaps[h, d]:
            if heap[0][0] > t:
                t = heap[0][0]
        return multi_free((h, d), t) if multi else t

    def next_vm(h):
        """(start, vm) of host h's next migration, None while its spare is not booted."""
        own = 0.0
        for heap in shared[h]:
            if heap[0][0] > own:
                own = heap[0][0]
        if pick == "largest":
            v = by_source[h][nxt[h]]
            t = start_of(h, placement[v], own)
            return None if t is None else (t, v)
        best_t, best_v = None, None
        for d, vms in by_dest[h].items():     # the largest VM left for each destination
            t = own       # start_of(h, d, own), inlined: this loop is the scheduler's hot spot
            ready = ready_at.get(d)
            if ready is None:
                if d not in on_at_start:
                    continue
            elif ready > t:
                t = ready
            for heap in heaps[h, d]:
                if heap[0][0] > t:
                    t = heap[0][0]
            if multi:
                t = multi_free((h, d), t)
            if best_t is None or t < best_t - 1e-6 or (t <= best_t + 1e-6 and sizes[vms[-1]] < sizes[best_v]):
                best_t, best_v = t, vms[-1]
        return None if best_t is None else (best_t, best_v)

    def candidate(h):
        """(key, vm, destination, start) of host h's next migration; None while its spare is not booted."""
        got = next_vm(h)
        if got is None:
            return None
        t, v = got
        d = placement[v]
        if rule == "long":
            second = -estimate[v]
        elif rule == "link":
            second = -max((link_work.get(rid, 0.0) for rid, dummy in info.resources(h, d)), default=0.0)
        elif rule == "order":      # finish hosts one after another: each halt frees a boot slot early
            second = rank[h]
        else:
            second = -remaining_work[h]
        return (round(t, 6), second, rank[h]), v, d, t

    # Lazy priority queue of hosts: a key only grows while its host waits (slots free later,
    # work left shrinks), so a popped entry whose key is unchanged is the true minimum: the
    # same choice as scanning every active host, in O(log n) per pick.
    # With pick="earliest" a boot can lower a waiting host's key (a VM for the new spare): every
    # active host is queued again then, and ``queued`` keeps one live entry per host.
    queue, parked, queued = [], set(), {}

    def enqueue(h):
        got = candidate(h)
        if got is None:
            parked.add(h)
            queued.pop(h, None)
        elif queued.get(h) != got[0]:
            queued[h] = got[0]
            heapq.heappush(queue, (got[0], h))

    for h in order:
        if h in active:
            enqueue(h)
    while active:
        best = None
        while queue:
            key, h = queue[0]
            if h not in active or queued.get(h) != key:     # a stale entry
                heapq.heappop(queue)
                continue
            got = candidate(h)
            if got is not None and got[0] == key:
                best = (key, h) + got[1:]
                break
            heapq.heappop(queue)
            queued.pop(h, None)
            enqueue(h)
        # release online slots whose halt ends before the chosen start
        if best is None or (pending_halts and pending_halts[0][0] <= best[4]):
            if not pending_halts:
                raise ScheduleError("deadlock: migrations wait for spares that no power-off makes room for")
            t_end, hid = heapq.heappop(pending_halts)
            free_slots.append((t_end, hid))
            booted = start_boots()
            again = set(parked)
            if pick != "largest":
                again.update(h for d in booted for h in senders[d] if h in active)
            for h in sorted(again, key=rank.get):
                parked.discard(h)
                enqueue(h)
            continue
        heapq.heappop(queue)
        dummy, h, v, d, t = best
        queued.pop(h, None)
        after = []
        if d in boot_id:
            after.append(boot_id[d])
        taken = []
        for rid in held[h, d]:
            for dummy in range(units.get((h, d), {}).get(rid, 1)):
                t_free, idx, holder = heapq.heappop(tokens[rid])
                taken.append((rid, idx))
                if holder and holder not in after:
                    after.append(holder)
        dur = estimate[v]
        action = migrate(v, h, d, 1, after)
        actions.append(action)
        for rid, idx in taken:
            heapq.heappush(tokens[rid], (t + dur, idx, action.id))
        moves_of[h].append(action.id)
        last_end[h] = max(last_end[h], t + dur)
        remaining_work[h] -= dur
        for rid, dummy in info.resources(h, d):
            if rid in link_work:
                link_work[rid] -= dur / slots[rid]
        left[h] -= 1
        nxt[h] += 1
        if pick != "largest":
            by_dest[h][d].pop()
            if not by_dest[h][d]:
                del by_dest[h][d]
        if left[h] == 0:
            active.discard(h)
            halt = power_off(h, 1, moves_of[h])
            actions.append(halt)
            heapq.heappush(pending_halts, (last_end[h] + model.hosts[h].shutdown_s, halt.id))
        else:
            enqueue(h)
    if boot_queue:
        raise ScheduleError("spares never booted")
    plan = Plan(actions, strategy="optimal")
    assign_waves(model, plan)
    return plan


def assign_waves(model, plan):
    """Number waves by the order in which drained hosts start (groups of concurrent hosts)."""
    depth = {}
    for a in plan.actions:         # actions are emitted in a topological order
        depth[a.id] = 1 + max((depth[d] for d in a.after if d in depth), default=0)
    first = {}
    for a in plan.actions:
        if a.type == "migrate":
            first[a.source] = min(first.get(a.source, math.inf), depth[a.id])
    # hosts whose first migration has the same dependency depth form a wave
    levels = sorted(set(first.values()))
    wave_of = {h: levels.index(first[h]) + 1 for h in first}
    for a in plan.actions:
        if a.type == "migrate":
            a.wave = wave_of[a.source]
        elif a.type == "power_off":
            a.wave = wave_of.get(a.host, 1)
    users = {}
    for a in plan.actions:
        if a.type == "migrate":
            users.setdefault(a.destination, []).append(a.wave)
    for a in plan.actions:
        if a.type == "power_on":
            a.wave = min(users.get(a.host, [1]))
    plan.compute_waves()
    return plan


def critical_path_s(model, plan, flows_info=None):
    """A cheap lower bound on a plan's simulated completion: the larger of its longest
    dependency chain, with every boot and halt at its host's time and every migration at its
    set-up time plus its data at its path's lone rate (sharing only slows a flow down), and the
    busiest network resource's data / capacity. A candidate whose bound is above the best
    completion found so far cannot win: its replay can be skipped."""
    info = flows_info or FlowInfo(model)
    hosts = model.hosts
    data = {}
    for action in plan.actions:
        if action.type == "migrate":
            for rid, cap in info.resources(action.source, action.destination):
                data[rid] = data.get(rid, 0.0) + model.vms[action.vm].used_mb / cap
    busiest = max(data.values(), default=0.0)
    by_id = {a.id: a for a in plan.actions}
    finish, entered = {}, set()
    for root in plan.actions:
        stack = [root]
        while stack:      # iterative depth-first: dependency chains run thousands deep
            action = stack[-1]
            if action.id in finish:
                stack.pop()
                continue
            pending = [by_id[d] for d in action.after if d not in finish and d in by_id]
            if pending:
                if action.id in entered:
                    return 0.0     # a cycle: no bound (the simulator refuses the plan)
                entered.add(action.id)
                stack.extend(pending)
                continue
            stack.pop()
            if action.type == "power_on":
                own = hosts[action.host].boot_s
            elif action.type == "power_off":
                own = hosts[action.host].shutdown_s
            else:
                vm = model.vms[action.vm]
                own = model.migration_setup_s + vm.used_mb / info.rate(action.source, action.destination)
            finish[action.id] = own + max((finish[d] for d in action.after if d in finish), default=0.0)
    return max([busiest, *finish.values()])
