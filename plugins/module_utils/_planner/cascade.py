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
    first, racks alternating within each boot time."""
    on = sorted(t for t in model.targets if model.hosts[t].on)
    off = {}
    for t in sorted(t for t in model.targets if not model.hosts[t].on):
        off.setdefault(model.hosts[t].boot_s, {}).setdefault(model.hosts[t].switch, []).append(t)
    ordered = list(on)
    for boot in sorted(off):
        ordered.extend(_round_robin(off[boot][switch] for switch in sorted(off[boot])))
    return ordered


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
    room = TargetRoom(model)
    cap = online_headroom(model)
    opened = sum(1 for t in targets if model.hosts[t].on) + (len(targets) if cap is None else cap)
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
    _place_tail(model, info, room, placement, pending, [targets[:early], targets[early:needed], targets[needed:]])
    # the tail's hosts halt last: the longest shutdowns go first
    return placement, ordered + sorted(pending, key=lambda h: -model.hosts[h].shutdown_s)


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
                room.free_cpu[where] += placed.cpu
                room.free_mem[where] += placed.memory_mb
                room.residents[where].discard(placed.name)
            return False
        room.place(vm, target)
        chosen.append((vm, target))
    placement.update((vm.name, target) for vm, target in chosen)
    return True


def _place_tail(model, info, room, placement, hosts, tiers):
    """The VMs of ``hosts``, most data per cpu first (ties: in host order), each to the target of the first tier with
    room whose path is least loaded: the early targets' room takes the data, and the flows
    spread over the uplinks' layer2 members and the receiving NICs. A path's load is its
    busiest resource's lane time (the lane scheduler's view: every flow holds one of the
    resource's slots for its lone duration), counting what is placed already, so a flow slowed
    elsewhere (a layer2 member) is charged for the slot it holds on a faster bundle."""
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
    late = _late_vms(room, vms, tiers[0], rank)
    errors = []
    # the early targets' share largest first (it packs), the rest densest first
    for vm in sorted(vms, key=lambda v: (v.name in late, -v.cpu if v.name not in late else 0,
                                         -v.used_mb / max(v.cpu, 1e-9), -v.cpu, rank[v.host], v.name)):
        best = None
        for tier in ([vm.destination],) if vm.destination else (tiers[1:] if vm.name in late else tiers):
            scored = [(max(load.get(rid, 0.0) + seconds for rid, seconds in cost(vm, t)), i, t)
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
