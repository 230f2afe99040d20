"""The faces every registered constraint has (each a no-op unless the constraint needs it)."""

from __future__ import annotations


class Constraint:
    """One operator constraint: its model keys and every place it acts, side by side.

    * ``keys``: the keys it reads under ``constraints`` in the model (docs/model.md);
    * ``parse(raw, errors)``: {key: value} from the raw ``constraints`` mapping, appending an
      error (naming the key and the fix) for each bad value; stored in
      ``model.constraints.registered``;
    * ``explain(model)``: why no plan can exist (messages; empty: go ahead);
    * ``bound(model, problem)``: (seconds, why) a proven lower bound on completion, or None;
    * ``check(model, actions, ancestors)``: the checker's violations (``ancestors``: the
      transitive ``after`` of every action, so rules can hold whatever the executor's timing);
    * ``encode(rows)``: rows of the placement MILP / LP (``rows`` is milp.RowSink);
    * ``tokens(model, source, destination)``: [(token, slots)] the lane scheduler must hold
      for a migration: each slot is a chain of the plan's dependencies.
    """

    keys = ()

    def parse(self, raw, errors):
        return {}

    def explain(self, model):
        return []

    def bound(self, model, problem):
        return None

    def check(self, model, actions, ancestors):
        return []

    def encode(self, rows):
        return None

    def tokens(self, model, source, destination):
        return []
