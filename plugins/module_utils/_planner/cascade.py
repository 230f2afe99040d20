"""Placement and host order for drains whose boots are gated by max_online_hosts or
power_budget_w (docs/planner.md, "Boot cascades under caps").

Under a binding cap only a drained host's power-off lets another spare boot, so the drain is a
cascade: the spares on at the start take some hosts, whose halts let the next spares boot,
which take more hosts, and so on. Its length is the number of boot cycles times the cycle
(boot + emptying a host + its shutdown). Three things shorten it, and a plain first-fit in
the listed order does none of them:

- the first hosts emptied are the ones that free a slot soonest and take least room (fewer
  cpu and memory, then shorter shutdown, then less data): each cycle halts as many hosts as
  the room allows, so the next cycle boots as many spares as possible;
- source racks alternate (and so do the spares' racks, fastest boots first): each cycle's
  data crosses every drained rack's uplink and every spare rack's uplink at once instead of
  queueing on one;
- the lane scheduler finishes hosts in that order (rule ``order``), so halts come one after
  another from the first cycle on instead of all hosts progressing together.
"""

from __future__ import annotations

from .baselines import PlacementError, TargetRoom
from .schedule import online_headroom


def _round_robin(groups):
    """Items of several ordered lists taken one from each list in turn."""
    out, lists = [], [list(g) for g in groups]
    while any(lists):
        for items in lists:
            if items:
                out.append(items.pop(0))
    return out


def cascade_order(model, info):
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
    """(placement, host order): hosts in ``cascade_order``, each VM (largest first) to the first
    target in ``spare_order`` with room, so that each host fills the room the cascade has open
    and a spare is opened only when the earlier ones are full."""
    order = order or cascade_order(model, info)
    room = TargetRoom(model)
    targets = spare_order(model)
    placement, errors = {}, []
    for host in order:
        for vm in sorted(model.vms_on(host), key=lambda v: (-v.cpu, -v.memory_mb, v.name)):
            candidates = [vm.destination] if vm.destination else targets
            for target in candidates:
                if (room.free_cpu[target] + 1e-9 >= vm.cpu and room.free_mem[target] + 1e-9 >= vm.memory_mb
                        and room.fits(vm, target)):
                    placement[vm.name] = target
                    room.place(vm, target)
                    break
            else:
                errors.append(f"no target has room for VM {vm.name} (cpu {vm.cpu:g}, {vm.memory_mb:g} MB)")
    if errors:
        raise PlacementError(errors)
    return placement, order


def boots_capped(model, placement):
    """True when max_online_hosts or power_budget_w let fewer spares boot at once than
    ``placement`` uses: the drain is then a cascade of boot cycles."""
    room = online_headroom(model)
    return room is not None and len({d for d in placement.values() if not model.hosts[d].on}) > room
