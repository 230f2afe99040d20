# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Which actions of a plan one run covers: some waves ("1", "2-", "1-2", "1,3") and some
network islands (an action's optional ``island`` key, else the hosts linked by migrations)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re


class SelectionError(ValueError):
    pass


def parse_waves(text, last_wave):
    """'1' / '2-' / '-2' / '1-2' / '1,3' / '' (all) -> set of wave numbers."""
    if text is None or str(text).strip() in ("", "all"):
        return set(range(1, last_wave + 1))
    waves = set()
    for part in str(text).split(","):
        m = re.fullmatch(r"\s*(\d*)\s*(-?)\s*(\d*)\s*", part)
        if not m or not (m.group(1) or m.group(3)):
            raise SelectionError("wavedrain_waves=%r: write waves as 1, 2-, -2, 1-2 or 1,3" % text)
        low = int(m.group(1)) if m.group(1) else 1
        high = int(m.group(3)) if m.group(3) else (last_wave if m.group(2) else low)
        if low < 1 or high < low:
            raise SelectionError("wavedrain_waves=%r: %r is not a range of waves 1-%d" % (text, part.strip(), last_wave))
        waves |= set(range(low, high + 1))
    if not waves & set(range(1, last_wave + 1)):
        raise SelectionError("wavedrain_waves=%r selects no wave: the plan has waves 1-%d" % (text, last_wave))
    return waves


def _host_islands(actions):
    """{host: island name}: hosts linked by a migration share an island, named after its first host."""
    parent = {}

    def find(h):
        parent.setdefault(h, h)
        while parent[h] != h:
            parent[h] = parent[parent[h]]
            h = parent[h]
        return h

    for a in actions:
        for h in (a.get("host"), a.get("source"), a.get("destination")):
            if h:
                find(h)
        if a.get("type") == "migrate":
            parent[find(a["source"])] = find(a["destination"])
    members = {}
    for h in parent:
        members.setdefault(find(h), []).append(h)
    return {h: min(group) for group in members.values() for h in group}


def islands_of(actions):
    """{action id: island}: the action's ``island`` key when the planner set it."""
    by_host = _host_islands(actions)
    return {a["id"]: a.get("island") or by_host[a.get("host") or a.get("source")] for a in actions}


def select(actions, waves=None, islands=None):
    """The ids of the actions this run covers (a set), or raises SelectionError."""
    last = max([a.get("wave") or 1 for a in actions] or [1])
    wanted_waves = parse_waves(waves, last)
    chosen = {a["id"] for a in actions if (a.get("wave") or 1) in wanted_waves}
    if islands:
        names = [islands] if isinstance(islands, str) else list(islands)
        names = [n.strip() for name in names for n in str(name).split(",") if n.strip()]
        island_of = islands_of(actions)
        known = set(island_of.values())
        # an island is named by its planner name, or by any host in it
        by_host = {h: island_of[a["id"]] for a in actions
                   for h in (a.get("host"), a.get("source"), a.get("destination")) if h}
        resolved = set()
        for n in names:
            if n not in known and n not in by_host:
                raise SelectionError("wavedrain_islands: %r is neither an island nor a host of the plan "
                                     "(islands: %s)" % (n, ", ".join(sorted(known))))
            resolved.add(n if n in known else by_host[n])
        chosen = {aid for aid in chosen if island_of[aid] in resolved}
    return chosen
