"""Operator constraints, one file each, every one with the same faces (see ``base.Constraint``):
parse, explain, bound, check, encode (MILP rows), tokens (lane scheduler).

The model parser, the planner, the checker, the MILP and the lane scheduler loop over
``REGISTRY``: adding a constraint is a new file here, its tests and its docs. The older
constraints (capacity, spread, online and power caps, deadline, live-only) still live in
model.py, checker.py and milp.py; they move here as they are touched.
"""

from __future__ import annotations

from .concurrency_caps import CONCURRENCY_CAPS

REGISTRY = tuple(CONCURRENCY_CAPS)


def registered_keys():
    return {key for constraint in REGISTRY for key in constraint.keys}


def parse_registered(raw, errors):
    """{key: value} of every registered constraint found in the raw ``constraints`` mapping."""
    out = {}
    for constraint in REGISTRY:
        out.update(constraint.parse(raw, errors))
    return out


def lane_tokens(model, source, destination):
    """[(token, slots)] a migration holds in the lane scheduler, from every constraint."""
    return [token for constraint in REGISTRY for token in constraint.tokens(model, source, destination)]
