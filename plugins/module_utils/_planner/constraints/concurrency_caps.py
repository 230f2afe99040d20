"""Concurrency caps: at most N migrations at once per source host, per destination host, per
switch (a migration counts on its source's and its destination's switch) and in total.

vSphere, oVirt, KubeVirt and OpenStack Watcher all cap concurrent migrations; operators keep
the same policy when wavedrain drives the drain. The executor starts an action as soon as its
``after`` actions are done, so a cap must hold by the plan's dependency graph, not only by the
predicted times: the lane scheduler gives each capped group N token slots (each slot a chain of
dependencies) and the checker verifies that no N + 1 migrations of a group are unordered.
"""

from __future__ import annotations

from ..violation import Violation
from .base import Constraint


class ConcurrencyCap(Constraint):
    """``constraints.<key>``: at most N migrations of the same group running at once."""

    def __init__(self, key, rule, groups_of, what):
        self.key = key
        self.keys = (key,)
        self.rule = rule
        self._groups_of = groups_of       # (model, source, destination) -> group names
        self.what = what                  # e.g. "from host {group}"

    def cap(self, model):
        return model.constraints.registered.get(self.key)

    def groups(self, model, source, destination):
        return self._groups_of(model, source, destination)

    # -- parse -----------------------------------------------------------------
    def parse(self, raw, errors):
        value = raw.get(self.key)
        if value is None:
            return {}
        if isinstance(value, bool) or not isinstance(value, (int, float)) or value != int(value) or value < 1:
            errors.append(f"constraints.{self.key} must be a whole number >= 1 (migrations at once), "
                          f"got {value!r}; remove it for no cap")
            return {}
        return {self.key: int(value)}

    # -- bound: each migration lasts at least its data at its path's lone rate --------
    def bound(self, model, problem):
        """Groups every placement fills alike (source host, source switch, total): their
        migrations' shortest durations / N, after the first possible start (the shortest boot
        when every target is off), plus the shortest shutdown."""
        cap = self.cap(model)
        if cap is None or not problem.moving or self.key == "max_migrations_per_destination":
            return None
        work = {}
        for vm in problem.moving:
            shortest = min((vm.used_mb / problem.info.rate(vm.host, t) for t in problem.candidates[vm.name]),
                           default=0.0)
            for group in self._certain_groups(model, vm.host):
                work[group] = work.get(group, 0.0) + shortest
        if not work:
            return None
        group, total = max(work.items(), key=lambda item: item[1])
        seconds = problem.first_start + total / cap + problem.min_shutdown
        return seconds, (f"constraints.{self.key}: {cap} lets at most {cap} migrations "
                         f"{self.what.format(group=group)} run at once, and they carry at least "
                         f"{total:.0f} s of transfer at their paths' full rate")

    def _certain_groups(self, model, source):
        if self.key == "max_migrations_per_switch":
            return [model.hosts[source].switch]
        return self._groups_of(model, source, None)

    # -- encode: the same rows for any placement (LP bound: data / rate; MILP: durations) ----
    def encode(self, rows):
        cap = self.cap(rows.model)
        if cap is None:
            return
        by_group = {}
        for (vm_name, target), var in rows.x.items():
            vm = rows.model.vms[vm_name]
            for group in set(self.groups(rows.model, vm.host, target)):
                by_group.setdefault(group, []).append((rows.migration_s(vm_name, target), var))
        for group, items in by_group.items():
            rows.at_most_per_lane(f"{self.key}_{group}", items, cap)

    # -- tokens: N chains per group ------------------------------------------------
    def tokens(self, model, source, destination):
        cap = self.cap(model)
        if cap is None:
            return []
        return [(("cap", self.key, group), cap) for group in set(self.groups(model, source, destination))]

    # -- check: the graph lets at most N of a group run at once --------------------------
    def check(self, model, actions, ancestors):
        cap = self.cap(model)
        if cap is None:
            return []
        members = {}
        for a in actions:
            if a.type == "migrate" and a.source in model.hosts and a.destination in model.hosts:
                for group in set(self.groups(model, a.source, a.destination)):
                    members.setdefault(group, []).append(a.id)
        out = []
        for group, ids in sorted(members.items()):
            if len(ids) <= cap:
                continue
            widest = most_unordered(ids, ancestors, cap)
            if widest > cap:
                out.append(Violation(self.rule, f"{widest} migrations {self.what.format(group=group)} may run "
                                     f"at once (nothing in their dependencies orders them); "
                                     f"constraints.{self.key} is {cap}", objects=(group,)))
        return out


class _GroupAncestors:
    """Every action's ancestors restricted to one group: works on the checker's bitmask view
    (``mask``/``index``: fast) and on plain sets."""

    def __init__(self, ids, ancestors):
        self.ancestors = ancestors
        sample = ancestors[ids[0]]
        self.fast = hasattr(sample, "mask")
        if self.fast:
            self.id_of = {sample.index[a]: a for a in ids}
            self.group = 0
            for bit in self.id_of:
                self.group |= 1 << bit
        else:
            self.members = set(ids)

    def count(self, a):
        if self.fast:
            return bin(self.ancestors[a].mask & self.group).count("1")
        return len(self.ancestors[a] & self.members)

    def before(self, a):
        if not self.fast:
            return list(self.ancestors[a] & self.members)
        mask, out = self.ancestors[a].mask & self.group, []
        while mask:
            low = mask & -mask
            out.append(self.id_of[low.bit_length() - 1])
            mask ^= low
        return out


def most_unordered(ids, ancestors, cap):
    """How many of these actions the dependency graph lets run at once, as far as ``cap`` is
    concerned: a number > cap (that many provably may run at once) when the widest such set
    exceeds cap, else a number <= cap. A greedy chain cover in topological order (the count of
    group ancestors grows along every path) proves the cap for the plans that keep it; when it
    does not, the group's sources (no group ancestor: pairwise unordered) or the exact width
    (Dilworth: fewest chains, by a bipartite matching) show the excess."""
    group = _GroupAncestors(ids, ancestors)
    count = {a: group.count(a) for a in ids}
    tails = []
    for a in sorted(ids, key=count.get):
        before = ancestors[a]
        best = max((i for i, tail in enumerate(tails) if tail in before),
                   key=lambda i: count[tails[i]], default=None)
        if best is None:
            tails.append(a)
            if len(tails) > max(cap, 1):
                break
        else:
            tails[best] = a
    else:
        return len(tails)
    sources = sum(1 for a in ids if count[a] == 0)
    return sources if sources > cap else widest_unordered(ids, ancestors, group, count)


def widest_unordered(ids, ancestors, group=None, count=None):
    """Exact size of the largest set of these actions no dependency path orders (Dilworth)."""
    group = group or _GroupAncestors(ids, ancestors)
    count = count or {a: group.count(a) for a in ids}
    order = sorted(ids, key=count.get)
    succ = {a: [] for a in order}
    for v in order:
        for u in group.before(v):
            succ[u].append(v)
    owner = {}      # v -> the u it is matched from
    return len(ids) - sum(1 for root in order if _augment(root, succ, owner))


def _augment(root, succ, owner):
    """Find an augmenting path from ``root`` and flip it (depth-first, no recursion)."""
    seen, stack, path = set(), [(root, iter(succ[root]))], []
    while stack:
        u, candidates = stack[-1]
        for v in candidates:
            if v in seen:
                continue
            seen.add(v)
            path.append((u, v))
            if v not in owner:
                for left, right in path:
                    owner[right] = left
                return True
            stack.append((owner[v], iter(succ[owner[v]])))
            break
        else:
            stack.pop()
            if path:
                path.pop()
    return False


def _source(model, source, destination):
    return [source]


def _destination(model, source, destination):
    return [destination] if destination is not None else []


def _switches(model, source, destination):
    ends = [model.hosts[source].switch]
    if destination is not None:
        ends.append(model.hosts[destination].switch)
    return ends


def _total(model, source, destination):
    return ["all"]


CONCURRENCY_CAPS = (
    ConcurrencyCap("max_migrations_per_source", "max-migrations-per-source", _source, "from host {group}"),
    ConcurrencyCap("max_migrations_per_destination", "max-migrations-per-destination", _destination,
                   "into host {group}"),
    ConcurrencyCap("max_migrations_per_switch", "max-migrations-per-switch", _switches,
                   "to or from switch {group}"),
    ConcurrencyCap("max_migrations_total", "max-migrations-total", _total, "in total"),
)
