"""Placement and host order for drains whose boots are gated by max_online_hosts or
power_budget_w (docs/planner.md, "Boot cascades under caps").

Under a binding cap only a drained host's power-off lets another spare boot, so the drain is a
cascade: the spares on at the start take some hosts, whose halts let the next spares boot,
which take more hosts, and so on. Its length is the number of boot cycles times the cycle
(boot + emptying a host + its shutdown), and its last cycle also carries the data of the VMs
that only the last spares can hold. Four things shorten it, and a plain first-fit in the listed
order does none of them:

- the first hosts emptied are the ones that free a slot soonest and take least room (fewer
  cpu and memory, then shorter shutdown, then less data): each cycle halts as many hosts as
  the room allows, so the next cycle boots as many spares as possible;
- source racks alternate (and so do the spares' racks, fastest boots first): each cycle's
  data crosses every drained rack's uplink and every spare rack's uplink at once instead of
  queueing on one;
- the lane scheduler finishes hosts in that order (rule ``order``), so halts come one after
  another from the first cycle on instead of all hosts progressing together;
- once enough halts are on their way to open every spare the drain needs, the remaining hosts'
  VMs with most data per cpu fill the earlier spares' room, and the last spares receive the
  VMs with least data (``cascade_destinations``).
"""

from __future__ import annotations

from .baselines import PlacementError, TargetRoom
from .schedule import online_headroom, resource_slots


def _round_robin(groups):
    """Items of several ordered lists taken one from each list in turn."""
    out, lists = [], [list(g) for g in groups]
    while any(lists):
        for items in lists:
            if items:
                out.append(items.pop(0))
    return out


def cascade_order(model):
    """Drained hosts in cascade order: per rack lightest first (cpu, memory, shutdown, data),
    racks alternating."""
    load = {h: [0.0, 0.0, 0.0] for h in model.drain}
    for vm in model.vms.values():
        if vm.host in load:
            load[vm.host][0] += vm.cpu
            load[vm.host][1] += vm.memory_mb
            load[vm.host][2] += vm.used_mb
    by_rack = {}
    for h in model.drain:
        host = model.hosts[h]
        share = (load[h][0] / host.cpu if host.cpu else 0.0, load[h][1] / host.memory_mb if host.memory_mb else 0.0)
        by_rack.setdefault(host.switch, []).append(((max(share), host.shutdown_s, load[h][2], h), h))
    return _round_robin([h for dummy, h in sorted(items)] for dummy, items in sorted(by_rack.items()))


def spare_order(model):
    """Targets in the order they should be filled: on targets first, then spares fastest boot
    first, racks alternating within each boot time (``_listed_spares``); then the spares of the
    cascade's last tier (booted by the last halts) are the fastest of those booted after the
    first halts (``_fast_last_tier``)."""
    return _fast_last_tier(model, _listed_spares(model))


def _listed_spares(model):
    on = sorted(t for t in model.targets if model.hosts[t].on)
    off = {}
    for t in sorted(t for t in model.targets if not model.hosts[t].on):
        off.setdefault(model.hosts[t].boot_s, {}).setdefault(model.hosts[t].switch, []).append(t)
    ordered = list(on)
    for boot in sorted(off):
        ordered.extend(_round_robin(_mac_spread(model, off[boot][switch]) for switch in sorted(off[boot])))
    return ordered


def _fast_last_tier(model, targets):
    """``targets`` with each spare of the cascade's last tier traded for a faster one of the
    tier before it (same cpu and memory): the last tier boots only after the first halt of the
    second cycle, and its boot is on the drain's critical path, where a spare of the second
    tier boots while the uplinks still carry the earlier data (license-power-384: the last
    spare booted 150 s from 309 s, ready at 459 s, and eight hosts waited for it)."""
    cycles = _cycles(model, cascade_order(model), targets)
    first, early, needed = cycles["first"], cycles["early"], cycles["needed"]
    if early <= first:
        return targets
    targets = list(targets)
    hosts = model.hosts
    for late in range(early, needed):
        swap = min((q for q in range(first, early)
                    if (hosts[targets[q]].cpu, hosts[targets[q]].memory_mb)
                    == (hosts[targets[late]].cpu, hosts[targets[late]].memory_mb)),
                   key=lambda q: (hosts[targets[q]].boot_s, -q), default=None)
        if swap is not None and hosts[targets[swap]].boot_s < hosts[targets[late]].boot_s:
            targets[swap], targets[late] = targets[late], targets[swap]
    return targets


def _mac_spread(model, spares):
    """``spares`` (one rack, one boot time) reordered so that each prefix covers the layer2
    members evenly: a flow rides member (source MAC xor target MAC) mod members, so spares
    whose MACs agree there send every host's flows to the same few members (license-power-384:
    the first six spares' MACs were all odd, and member 0 of both layer2 uplinks carried 1 %
    of the first cycle). Round robin over the MAC's last byte mod the most members of any
    layer2 bundle; the listed order otherwise."""
    members = max((link.members for link in model.links if link.hash == "layer2"), default=1)
    if members < 2:
        return list(spares)
    classes = {}
    for t in spares:
        classes.setdefault(model.hosts[t].mac_last_byte % members, []).append(t)
    return _round_robin(classes[k] for k in sorted(classes, key=lambda k: (-len(classes[k]), k)))


def cascade_destinations(model, info, order=None):
    """(placement, host order) for a capped drain, cycle by cycle (a rolling horizon over the
    targets in ``spare_order``): the targets that may be on at the start are open; hosts in
    ``cascade_order`` that fit whole in the open targets are emptied there, and each of them
    opens one more target by its halt, for the next cycle. Once the open targets and those the
    cycle's halts will open reach what the drain needs, only the few halts that open the last
    targets are waited for; every other host left is the tail: its VMs go densest first (most
    data per cpu) into the room the earlier cycles left, so that the last targets, which boot
    last, receive the VMs with the least data and the last cycle is short."""
    order = order or cascade_order(model)
    targets = spare_order(model)
    # not the cycles spare_order computed: those ran over the targets before it traded the last
    # tier's spares for faster ones, and the cycles place VMs by the targets' positions
    cycles = _cycles(model, order, targets)
    room, placement, ordered, pending = cycles["room"], cycles["placement"], cycles["ordered"], cycles["pending"]
    early, needed = cycles["early"], cycles["needed"]
    room, placement = _tail_placement(model, info, room, placement, pending,
                                      [targets[:early], targets[early:needed], targets[needed:]])
    # the tail moves after the earlier cycles' data: balance its own load on the links
    position = {t: i for i, t in enumerate(targets)}
    _balance_links(info, room, placement, [v for h in pending for v in model.vms_on(h)],
                   lambda t: 0 if position[t] < early else 1 if position[t] < needed else 2)
    return placement, ordered + _longest_first(model, pending)


def _longest_first(model, hosts):
    """The tail's hosts, most work first: their data through their own NIC plus their shutdown
    (a host is done when its halt ends). The lane scheduler finishes them in this order, so the
    last to finish are the shortest, as in a longest-processing-time-first schedule; by shutdown
    alone (ties: lightest first) the heaviest hosts with a 30 s shutdown came last
    (license-power-384: 497 s, now 494 s; seed 2: 491 s, now 489 s)."""
    rate = {h: max(model.hosts[h].nic_mbps * model.efficiency / 8.0, 1e-9) for h in hosts}
    work = {h: sum(v.used_mb for v in model.vms_on(h)) / rate[h] + model.hosts[h].shutdown_s for h in hosts}
    return sorted(hosts, key=lambda h: -work[h])


def _cycles(model, order, targets):
    """The cascade's cycles over ``targets``: hosts in ``order`` that fit whole in the open
    targets are emptied there, each opening one more target. Returns the room and placement
    so far, the hosts placed (``ordered``) and left (``pending``), and the tiers' bounds:
    ``first`` targets open at the start, ``early`` open before the last cycle, ``needed`` in all."""
    room = TargetRoom(model)
    cap = online_headroom(model)
    opened = sum(1 for t in targets if model.hosts[t].on) + (len(targets) if cap is None else cap)
    first = opened
    needed = _targets_needed(model, order, targets)
    placement, ordered, pending = {}, [], list(order)
    early = opened
    while pending and opened < needed:
        fitted = []
        for host in pending:
            if opened + len(fitted) >= needed:
                break
            if _place_whole(model, room, placement, host, targets[:opened]):
                fitted.append(host)
        if not fitted:
            break
        ordered.extend(fitted)
        pending = [h for h in pending if h not in fitted]
        early, opened = opened, opened + len(fitted)
    return {"room": room, "placement": placement, "ordered": ordered, "pending": pending,
            "first": first, "early": early, "needed": needed}


def _balance_links(info, room, placement, vms, tier_of, rounds=400):
    """Swap the destinations of same-size VMs among ``vms`` (same cpu and memory, targets of
    the same tier: every target keeps its free room, so the cascade's cycles are unchanged) while
    that lowers the busiest link resource (layer2 member, bundle, receive NIC) these VMs cross.
    A flow rides the member its (source, target) MACs hash to. The tail moves after the earlier
    cycles, so its own load is what keeps the links busy to the end; placed on the least loaded
    path counting the first cycle's data too, it left one member of rack000's uplink with 20 s
    more than the others (license-power-384). A swap is kept only if every resource it touches
    ends below the busiest one's load: the busiest load only falls.
    """
    load, by_size = {}, {}

    def path(vm, target):
        return [(rid, vm.used_mb / cap) for rid, cap in info.resources(vm.host, target) if rid[0] != "tx"]

    for vm in vms:
        for rid, seconds in path(vm, placement[vm.name]):
            load[rid] = load.get(rid, 0.0) + seconds
        if not vm.destination:
            by_size.setdefault((vm.cpu, vm.memory_mb), []).append(vm)

    def after_swap(vm, other):
        here, there = placement[vm.name], placement[other.name]
        after = {}
        for moved, old, new in ((vm, here, there), (other, there, here)):
            for rid, seconds in path(moved, old):
                after[rid] = after.get(rid, load[rid]) - seconds
            for rid, seconds in path(moved, new):
                after[rid] = after.get(rid, load.get(rid, 0.0)) + seconds
        return after

    for dummy in range(rounds):
        busiest = max(load, key=load.get, default=None)
        if busiest is None:
            return
        top, swap = load[busiest], None
        crossing = [v for v in vms if not v.destination and any(rid == busiest for rid, dummy in path(v, placement[v.name]))]
        for vm in sorted(crossing, key=lambda v: (-v.used_mb, v.name)):
            here = placement[vm.name]
            for other in by_size[vm.cpu, vm.memory_mb]:
                there = placement[other.name]
                if there == here or tier_of(there) != tier_of(here) or not _spread_ok(room, vm, there, other) \
                        or not _spread_ok(room, other, here, vm):
                    continue
                after = after_swap(vm, other)
                if max(after.values()) < top - 1e-6:
                    swap = (vm, other, after)
                    break
            if swap:
                break
        if swap is None:
            return
        vm, other, after = swap
        here, there = placement[vm.name], placement[other.name]
        load.update(after)
        room.swap(vm, here, other, there)
        placement[vm.name], placement[other.name] = there, here


def _spread_ok(room, vm, target, leaving):
    """Whether ``vm`` may join ``target``'s VMs once ``leaving`` has left it (spread groups)."""
    if not room.model.reachable(vm.host, target):
        return False
    others = room.residents[target] - {leaving.name}
    return not any(others & (g - {vm.name}) for g in room.groups.get(vm.name, ()))


def _vms_largest_first(model, host):
    return sorted(model.vms_on(host), key=lambda v: (-v.cpu, -v.memory_mb, v.name))


def _first_fit(model, room, vm, targets):
    """The first of ``targets`` with room for ``vm`` (its pinned destination only), or None."""
    for target in [vm.destination] if vm.destination else targets:
        if (room.free_cpu[target] + 1e-9 >= vm.cpu and room.free_mem[target] + 1e-9 >= vm.memory_mb
                and room.fits(vm, target)):
            return target
    return None


def _targets_needed(model, order, targets):
    """How many of ``targets`` (in order) a first-fit of every host in ``order`` uses."""
    room, used = TargetRoom(model), 0
    index = {t: i for i, t in enumerate(targets)}
    for host in order:
        for vm in _vms_largest_first(model, host):
            target = _first_fit(model, room, vm, targets)
            if target is not None:
                room.place(vm, target)
                used = max(used, index[target] + 1)
    return used


def _place_whole(model, room, placement, host, targets):
    """Place every VM of ``host`` in ``targets`` (first fit, largest first), or none of them."""
    chosen = []
    for vm in _vms_largest_first(model, host):
        target = _first_fit(model, room, vm, targets)
        if target is None:
            for placed, where in chosen:
                room.remove(placed, where)
            return False
        room.place(vm, target)
        chosen.append((vm, target))
    placement.update((vm.name, target) for vm, target in chosen)
    return True


def _tail_placement(model, info, room, placement, hosts, tiers):
    """(room, placement) once the tail is placed by ``_place_tail``. A VM placed beyond the
    needed targets (``tiers[2]``) waits for one more halt: a whole cycle (license-power-384 with
    ``--seed 5``: the VMs fill 26 spares' cpu exactly, the tail placed densest first spilled onto
    3 more and the plan took 612 s). The tail is then packed instead (``pack``) and kept if it
    spills onto fewer targets (there: none, 483 s)."""
    beyond = set(tiers[2])

    def spill(where):
        return len({d for d in where.values() if d in beyond})

    failed, trial_room, trial = None, room.copy(), dict(placement)
    try:
        _place_tail(model, info, trial_room, trial, hosts, tiers)
    except PlacementError as exc:
        failed = exc
    if failed or spill(trial):
        packed_room, packed = room.copy(), dict(placement)
        try:
            _place_tail(model, info, packed_room, packed, hosts, tiers, pack=True)
        except PlacementError:
            packed = None
        if packed is not None and (failed or spill(packed) < spill(trial)):
            return packed_room, packed
    if failed:
        raise failed
    return trial_room, trial


def _place_tail(model, info, room, placement, hosts, tiers, pack=False):
    """The VMs of ``hosts``, most data per cpu first (ties: in host order), each to the target of the first tier with
    room whose path is least loaded: the early targets' room takes the data, and the flows
    spread over the uplinks' layer2 members and the receiving NICs. A path's load is its
    busiest resource's lane time (the lane scheduler's view: every flow holds one of the
    resource's slots for its lone duration), counting what is placed already, so a flow slowed
    elsewhere (a layer2 member) is charged for the slot it holds on a faster bundle.
    ``pack``: every VM largest first (cpu, then memory) into the first target with room, tier by
    tier (first-fit decreasing), none set aside for the late targets."""
    drained = list(model.drain)
    slots = resource_slots(info, {(h, t) for h in drained for tier in tiers for t in tier})
    load = {}

    def cost(vm, target):
        rate = info.rate(vm.host, target)
        return [(rid, vm.used_mb / rate / slots.get(rid, 1)) for rid, dummy in info.resources(vm.host, target)]

    def add(vm, target):
        for rid, seconds in cost(vm, target):
            load[rid] = load.get(rid, 0.0) + seconds

    for name, target in placement.items():
        add(model.vms[name], target)
    rank = {h: i for i, h in enumerate(hosts)}
    vms = [vm for host in hosts for vm in model.vms_on(host)]
    late = set() if pack else _late_vms(room, vms, tiers[0], rank)
    errors = []
    # the early targets' share largest first (it packs), the rest densest first
    for vm in sorted(vms, key=lambda v: (v.name in late, -v.cpu if v.name not in late else 0,
                                         -v.memory_mb if pack else 0,
                                         -v.used_mb / max(v.cpu, 1e-9), -v.cpu, rank[v.host], v.name)):
        best = None
        for tier in ([vm.destination],) if vm.destination else (tiers[1:] if vm.name in late else tiers):
            scored = [(0.0 if pack else max(load.get(rid, 0.0) + seconds for rid, seconds in cost(vm, t)), i, t)
                      for i, t in enumerate(tier)
                      if room.free_cpu[t] + 1e-9 >= vm.cpu and room.free_mem[t] + 1e-9 >= vm.memory_mb
                      and room.fits(vm, t)]
            if scored:
                best = min(scored)[2]
                break
        if best is None:
            errors.append(f"no target has room for VM {vm.name} (cpu {vm.cpu:g}, {vm.memory_mb:g} MB)")
            continue
        room.place(vm, best)
        placement[vm.name] = best
        add(vm, best)
    if errors:
        raise PlacementError(errors)


def _fits_all(room, vms, targets):
    """Whether ``vms`` fit ``targets`` (first fit, largest first), on a copy of ``room``."""
    trial = room.copy()
    for vm in sorted(vms, key=lambda v: (-v.cpu, -v.memory_mb, v.name)):
        target = next((t for t in targets if trial.fits(vm, t)), None)
        if target is None:
            return False
        trial.place(vm, target)
    return True


def _late_vms(room, vms, early, rank):
    """Names of the fewest-data VMs that must wait for the late targets: VMs with the least
    data per cpu are set aside until the others fit the ``early`` targets (first fit, largest
    first). Placed densest first, the early room fragments: a VM that no longer fits waits for
    a late spare whatever its data. Ties: the VMs of the hosts last in ``rank`` wait."""
    movable = sorted((v for v in vms if not v.destination),
                     key=lambda v: (v.used_mb / max(v.cpu, 1e-9), -rank[v.host], v.name))
    pinned = [v for v in vms if v.destination]
    low, high = 0, len(movable)        # the smallest k whose rest fits, by bisection
    if _fits_all(room, pinned + movable, early):
        return set()
    while low < high:
        mid = (low + high) // 2
        if _fits_all(room, pinned + movable[mid:], early):
            high = mid
        else:
            low = mid + 1
    return {v.name for v in movable[:low]}


def boots_capped(model, placement):
    """True when max_online_hosts or power_budget_w let fewer spares boot at once than
    ``placement`` uses: the drain is then a cascade of boot cycles."""
    room = online_headroom(model)
    return room is not None and len({d for d in placement.values() if not model.hosts[d].on}) > room
