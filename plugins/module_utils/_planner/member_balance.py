"""Local repair of a placement for layer2 bundles (docs/planner.md, "Member balance").

On a ``layer2`` bundle a flow rides the member its (source MAC, destination MAC) pair hashes
to, so a placement that sends a host's VMs to one or two targets loads the members of its
rack's uplink unevenly: on spares-2048 (first-fit) the busiest member of a drained rack's
uplink carried 469 s of data at line rate where the rack's mean was 315 s, and the plan cannot
end before it. The repair moves VMs off the busiest member, one at a time, to a target with
room whose path is less loaded, until no VM on the busiest member can improve it.
"""

from __future__ import annotations

import heapq

from .baselines import TargetRoom

MAX_CANDIDATES = 64        # targets tried per VM: its target's rack, its host's other targets, roomy ones
MAX_TRIED = 16             # VMs (largest first) tried per relief of a member
ROOMY_REFRESH = 32         # moves between two rankings of the targets by free cpu


def rebalance_members(model, info, placement):
    """A copy of ``placement`` ({vm: target}) with the busiest layer2 members relieved.

    A VM moves only to a target that is on or already used by the placement (no new boot),
    that has room and keeps its spread groups and island (``TargetRoom.fits``), and only when
    its new path's busiest resource (data / capacity, counting what is placed) ends below the
    member it leaves. Pinned VMs stay. Returns the same dict object when nothing moves."""
    if not any(link.hash == "layer2" for link in model.links):
        return placement
    placed = dict(placement)
    room = TargetRoom(model)
    load, crossing = {}, {}
    for name, target in placed.items():
        vm = model.vms[name]
        room.place(vm, target)
        _add(info, load, crossing, vm, target, 1)
    usable = {t for t in model.targets if model.hosts[t].on} | set(placed.values())
    by_switch = {}
    for t in sorted(usable):
        by_switch.setdefault(model.hosts[t].switch, []).append(t)
    # a balanced bundle's load is its rack's data: members below the busiest of them gain nothing
    floor = max((seconds for rid, seconds in load.items() if rid[0] == "bundle"), default=0.0)
    heap = [(-seconds, rid) for rid, seconds in load.items() if rid[0] == "member"]
    heapq.heapify(heap)
    moved, roomy = 0, []
    while heap and moved < len(placed):
        seconds, rid = heapq.heappop(heap)
        if -seconds != load[rid]:          # stale entry: the member's load changed since
            heapq.heappush(heap, (-load[rid], rid))
            continue
        if load[rid] <= floor + 1e-6:
            break
        if moved % ROOMY_REFRESH == 0:     # targets with most free cpu: room outside full racks
            roomy = sorted(usable, key=lambda t: (-room.free_cpu[t], t))[:MAX_CANDIDATES // 2]
        changed = _relieve(model, info, placed, room, load, crossing, by_switch, roomy, rid, load[rid])
        if changed:                        # a stuck member (None) leaves the heap
            moved += 1
            for other in changed:
                heapq.heappush(heap, (-load[other], other))
    return placed if moved else placement


def _add(info, load, crossing, vm, target, sign):
    for rid, cap in info.resources(vm.host, target):
        load[rid] = load.get(rid, 0.0) + sign * vm.used_mb / cap
        if sign > 0:
            crossing.setdefault(rid, set()).add(vm.name)
        else:
            crossing[rid].discard(vm.name)


def _relieve(model, info, placed, room, load, crossing, by_switch, roomy, rid, busiest):
    """Move one VM off member ``rid`` (largest first) to the target whose path's busiest resource
    stays lowest, if below ``busiest``; the members whose load changed (None: none moved)."""
    for name in sorted(crossing.get(rid, ()), key=lambda n: (-model.vms[n].used_mb, n))[:MAX_TRIED]:
        vm = model.vms[name]
        if vm.destination:
            continue
        current = placed[name]
        old = {r: vm.used_mb / cap for r, cap in info.resources(vm.host, current)}
        mates = [placed[n] for n in crossing.get(("tx", vm.host), ())]
        candidates = list(dict.fromkeys(roomy + mates + by_switch.get(model.hosts[current].switch, [])))
        best, best_score = None, busiest - 1e-6
        for target in candidates[:MAX_CANDIDATES * 2]:
            if target == current or not (room.free_cpu[target] + 1e-9 >= vm.cpu
                                         and room.free_mem[target] + 1e-9 >= vm.memory_mb and room.fits(vm, target)):
                continue
            score = max(load.get(r, 0.0) - old.get(r, 0.0) + vm.used_mb / cap
                        for r, cap in info.resources(vm.host, target))
            if score < best_score:
                best, best_score = target, score
        if best is not None:
            _add(info, load, crossing, vm, current, -1)
            room.remove(vm, current)
            room.place(vm, best)
            placed[name] = best
            _add(info, load, crossing, vm, best, 1)
            return [r for r, dummy in info.resources(vm.host, current) + info.resources(vm.host, best)
                    if r[0] == "member"]
    return None
