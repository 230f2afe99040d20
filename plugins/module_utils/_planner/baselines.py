"""Yardstick strategies, exactly as domain.md describes them, as plan generators; placements
(first-fit, and balanced for the planner's own lanes candidate).

* sequential: boot the spare, migrate its VMs one by one, power the drained
  host off, next host; every action waits for the previous one.
* parallel: boot every needed spare at once and launch every migration as soon
  as its destination is up; each drained host halts once empty.
"""

from __future__ import annotations

import bisect

from .plan import Plan, migrate, power_off, power_on
from .simulator import annotate


class PlacementError(ValueError):
    def __init__(self, errors):
        self.errors = list(errors)
        super().__init__("; ".join(self.errors))


class TargetRoom:
    """Free cpu and memory of every target, and the VMs on it, as VMs are placed."""

    def __init__(self, model):
        self.model = model
        self.free_cpu = {t: model.hosts[t].cpu for t in model.targets}
        self.free_mem = {t: model.hosts[t].memory_mb for t in model.targets}
        self.residents = {t: set() for t in model.targets}
        for vm in model.vms.values():
            if vm.host in self.free_cpu:
                self.free_cpu[vm.host] -= vm.cpu
                self.free_mem[vm.host] -= vm.memory_mb
                self.residents[vm.host].add(vm.name)
        self.groups = {}
        for group in model.constraints.spread:
            for name in group:
                self.groups.setdefault(name, []).append(set(group))

    def fits(self, vm, target):
        """Room for ``vm`` on ``target`` (in its network island), and no VM of its spread groups there."""
        if not self.model.reachable(vm.host, target):
            return False
        if self.free_cpu[target] + 1e-9 < vm.cpu or self.free_mem[target] + 1e-9 < vm.memory_mb:
            return False
        return not any(self.residents[target] & (g - {vm.name}) for g in self.groups.get(vm.name, ()))

    def copy(self):
        """A room to place trial VMs in without changing this one."""
        trial = object.__new__(TargetRoom)
        trial.model, trial.groups = self.model, self.groups
        trial.free_cpu, trial.free_mem = dict(self.free_cpu), dict(self.free_mem)
        trial.residents = {t: set(names) for t, names in self.residents.items()}
        return trial

    def place(self, vm, target):
        self.free_cpu[target] -= vm.cpu
        self.free_mem[target] -= vm.memory_mb
        self.residents[target].add(vm.name)

    def remove(self, vm, target):
        """Undo ``place(vm, target)``."""
        self.free_cpu[target] += vm.cpu
        self.free_mem[target] += vm.memory_mb
        self.residents[target].discard(vm.name)

    def swap(self, vm, here, other, there):
        """``vm`` (on ``here``) and ``other`` (on ``there``), of the same cpu and memory, trade
        places: every target keeps its free room, so only the residents change."""
        for moved, old, new in ((vm, here, there), (other, there, here)):
            self.residents[old].discard(moved.name)
            self.residents[new].add(moved.name)


def first_fit_destinations(model, drain_order=None, fast_spares=False):
    """Destination of every VM on drained hosts: first target with room.

    Targets that are already on come first (no boot needed), then spares in
    the order listed (``fast_spares``: the fastest to boot first, which shortens
    every boot cycle when max_online_hosts or power_budget_w let few boot at once).
    Honours pinned destinations and spread groups.
    """
    drain_order = drain_order or model.drain
    room = TargetRoom(model)
    ordered = sorted(model.targets, key=lambda t: (not model.hosts[t].on,
                                                   model.hosts[t].boot_s if fast_spares else 0))
    placement, errors = {}, []
    for host in drain_order:
        for vm in sorted(model.vms_on(host), key=lambda v: v.name):
            candidates = [vm.destination] if vm.destination else ordered
            for target in candidates:
                # cpu and memory first: most targets a long first-fit scan passes are full
                if (room.free_cpu[target] + 1e-9 >= vm.cpu and room.free_mem[target] + 1e-9 >= vm.memory_mb
                        and room.fits(vm, target)):
                    placement[vm.name] = target
                    room.place(vm, target)
                    break
            else:
                errors.append(f"no target has room for VM {vm.name} (cpu {vm.cpu:g}, {vm.memory_mb:g} MB)"
                              + (f" on its pinned destination {vm.destination}" if vm.destination else ""))
    if errors:
        raise PlacementError(errors)
    return placement


def sequential(model, placement=None):
    placement = placement or first_fit_destinations(model)
    actions, last, booted = [], [], set()
    for wave, host in enumerate(model.drain, start=1):
        for vm in sorted(model.vms_on(host), key=lambda v: v.name):
            dest = placement[vm.name]
            if not model.hosts[dest].on and dest not in booted:
                booted.add(dest)
                actions.append(power_on(dest, wave, last))
                last = [actions[-1].id]
            actions.append(migrate(vm.name, host, dest, wave, last))
            last = [actions[-1].id]
        actions.append(power_off(host, wave, last))
        last = [actions[-1].id]
    plan = Plan(actions, strategy="sequential")
    plan.compute_waves()
    annotate(model, plan)
    return plan


def parallel(model, placement=None):
    placement = placement or first_fit_destinations(model)
    spares = sorted({d for d in placement.values() if not model.hosts[d].on})
    actions = [power_on(s, 1) for s in spares]
    for host in model.drain:
        moves = []
        for vm in sorted(model.vms_on(host), key=lambda v: v.name):
            dest = placement[vm.name]
            after = [f"boot/{dest}"] if dest in spares else []
            actions.append(migrate(vm.name, host, dest, 1, after))
            moves.append(actions[-1].id)
        actions.append(power_off(host, 1, moves))
    plan = Plan(actions, strategy="parallel")
    plan.compute_waves()
    annotate(model, plan)
    return plan


def balanced_destinations(model, info, sample=48):
    """Destination of every VM on drained hosts, spreading the data: VMs largest first, each to
    the target (with room, in its island) whose path ends least loaded, counting every resource's
    data / capacity in seconds, plus the boot of a spare not yet opened. Only the ``sample``
    targets whose receive NIC is least loaded are scored (the rest cannot do better on that NIC).
    First-fit packs the first targets and makes their NICs the bottleneck; this spreads them."""
    room = TargetRoom(model)
    drained = set(model.drain)
    load, opened, placement, errors = {}, set(), {}, []
    rx_of = {t: ("rx", t) for t in model.targets}
    # targets by (receive NIC load, name), per island and per switch (a flow that stays in its
    # rack crosses no uplink): kept sorted as loads grow, so a VM scans only the first few
    by_island, by_switch = {}, {}
    for t in sorted(model.targets):
        by_island.setdefault(model.island_of(t), []).append((0.0, t))
        by_switch.setdefault(model.hosts[t].switch, []).append((0.0, t))

    def least_loaded(vm, ordered, count):
        grouped = vm.name in room.groups     # spread groups: the full check
        found = []
        for dummy, t in ordered:
            if (room.free_cpu[t] + 1e-9 >= vm.cpu and room.free_mem[t] + 1e-9 >= vm.memory_mb
                    and (not grouped or room.fits(vm, t))):
                found.append(t)
                if len(found) == count:
                    break
        return found

    for vm in sorted((v for v in model.vms.values() if v.host in drained), key=lambda v: (-v.used_mb, v.name)):
        if vm.destination:
            pool = [vm.destination]
        else:
            pool = (least_loaded(vm, by_island.get(model.island_of(vm.host), ()), sample)
                    + least_loaded(vm, by_switch.get(model.hosts[vm.host].switch, ()), sample // 4))
        best, best_score = None, None
        for target in pool:
            if not room.fits(vm, target):
                continue
            # ties (the source's NIC ends most loaded whatever the target): the path the VM's data
            # occupies least, in seconds over its resources, so a VM stays in its rack rather than
            # crossing uplinks' 10 Gb members (scattered-1024: 67 -> 59 s)
            path = info.resources(vm.host, target)
            score = (max(load.get(rid, 0.0) + vm.used_mb / cap for rid, cap in path)
                     + (model.hosts[target].boot_s if not model.hosts[target].on and target not in opened else 0.0),
                     sum(vm.used_mb / cap for dummy, cap in path))
            if best_score is None or score[0] < best_score[0] - 1e-9 or (
                    score[0] <= best_score[0] + 1e-9 and score[1] < best_score[1] - 1e-9):
                best, best_score = target, score
        if best is None:
            errors.append(f"no target has room for VM {vm.name} (cpu {vm.cpu:g}, {vm.memory_mb:g} MB)")
            continue
        placement[vm.name] = best
        room.place(vm, best)
        opened.add(best)
        before = load.get(rx_of[best], 0.0)
        for rid, cap in info.resources(vm.host, best):
            load[rid] = load.get(rid, 0.0) + vm.used_mb / cap
        for ordered in (by_island[model.island_of(best)], by_switch[model.hosts[best].switch]):
            del ordered[bisect.bisect_left(ordered, (before, best))]
            bisect.insort(ordered, (load.get(rx_of[best], 0.0), best))
    if errors:
        raise PlacementError(errors)
    return placement
