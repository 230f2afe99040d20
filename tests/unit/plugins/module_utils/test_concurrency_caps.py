"""Concurrency caps (constraints/concurrency_caps.py): parsed, planned by the dependency graph,
checked on the graph whatever the executor's timing, bounded and explained."""
import itertools
import random

import pytest

from ansible_collections.wavedrain.kvm.plugins.module_utils._planner import baselines
from ansible_collections.wavedrain.kvm.plugins.module_utils._planner.checker import _ancestors, check_plan
from ansible_collections.wavedrain.kvm.plugins.module_utils._planner.constraints import REGISTRY
from ansible_collections.wavedrain.kvm.plugins.module_utils._planner.constraints.concurrency_caps import (
    most_unordered, widest_unordered)
from ansible_collections.wavedrain.kvm.plugins.module_utils._planner.model import ModelError, parse_model
from ansible_collections.wavedrain.kvm.plugins.module_utils._planner.planner import PlanningError, plan_drain

from planner_scenarios import example, rack_pair

CAPS = {"max_migrations_per_source": 1, "max_migrations_per_destination": 1,
        "max_migrations_per_switch": 3, "max_migrations_total": 2}


def _groups(model, action):
    return {(c.key, g) for c in REGISTRY for g in c.groups(model, action.source, action.destination)}


def _widest_by_graph(model, plan):
    """Per (cap, group): most migrations the dependency graph lets run at once (exact)."""
    ancestors = _ancestors(plan.actions)
    members = {}
    for a in plan.actions:
        if a.type == "migrate":
            for key in _groups(model, a):
                members.setdefault(key, []).append(a.id)
    return {key: widest_unordered(ids, ancestors) for key, ids in members.items()}


def _widest_by_time(model, plan):
    """Per (cap, group): most migrations running at once in the replay."""
    events = []
    for a in plan.actions:
        if a.type == "migrate":
            for key in _groups(model, a):
                events += [(a.end_s, -1, key), (a.start_s, 1, key)]
    now, most = {}, {}
    for dummy, step, key in sorted(events):
        now[key] = now.get(key, 0) + step
        most[key] = max(most.get(key, 0), now[key])
    return most


def test_caps_are_parsed_and_bad_values_named():
    data = rack_pair()
    data["constraints"].update(CAPS)
    assert parse_model(data).constraints.registered == CAPS
    data["constraints"].update(max_migrations_per_source=0, max_migrations_per_destination=1.5,
                               max_migrations_per_switch=True, max_migrations_total="two")
    with pytest.raises(ModelError) as err:
        parse_model(data)
    for key, got in (("per_source", "0"), ("per_destination", "1.5"), ("per_switch", "True"),
                     ("total", "'two'")):
        assert (f"constraints.max_migrations_{key} must be a whole number >= 1 (migrations at once), "
                f"got {got}; remove it for no cap") in err.value.errors


def test_a_capped_plan_keeps_every_cap_by_its_graph():
    shape = dict(n_src=4, vms=3, spares=4, members=4, hash_policy="balanced")   # 4 flows fit at once
    data = rack_pair(**shape)
    data["constraints"].update(CAPS)
    model = parse_model(data)
    free = plan_drain(parse_model(rack_pair(**shape)), time_limit_s=5)
    plan = plan_drain(model, time_limit_s=5)
    assert check_plan(model, plan) == []
    by_graph, by_time = _widest_by_graph(model, plan), _widest_by_time(model, plan)
    for (key, group), widest in by_graph.items():
        assert by_time[key, group] <= widest <= CAPS[key], (key, group)
    # the caps bind: uncapped, the plan runs more at once (and so finishes sooner)
    assert max(_widest_by_time(model, free)[key] for key in by_time if key[0] == "max_migrations_total") > 2
    assert plan.predicted["completion_s"] > free.predicted["completion_s"]
    bound = plan.extra["lower_bound"]["completion_s"]
    assert bound <= plan.predicted["completion_s"] + 0.011
    # the parallel yardstick ignores the caps: reported as breaking them
    assert set(plan.extra["yardsticks"]["parallel"]["breaks"]) >= {
        "max-migrations-per-source", "max-migrations-total"}


def test_the_checker_judges_the_graph_not_the_predicted_times():
    """A sequential plan keeps any cap; drop its migrations' dependencies and the executor
    could run them all at once, although the (stale) predicted times do not overlap."""
    data = rack_pair(n_src=1, vms=3, spares=1, spare_on=True)
    data["constraints"]["max_migrations_total"] = 2
    model = parse_model(data)
    plan = baselines.sequential(model)
    assert check_plan(model, plan) == []
    for a in plan.actions:
        if a.type == "migrate":
            a.after = []
    rules = {v.rule: v.message for v in check_plan(model, plan)}
    assert rules["max-migrations-total"] == ("3 migrations in total may run at once (nothing in their "
                                             "dependencies orders them); constraints.max_migrations_total is 2")


def test_a_deadline_under_the_cap_bound_is_explained_with_the_cap():
    data = example("bladecenter")
    data["constraints"].update(max_migrations_total=1, deadline_s=600)
    with pytest.raises(PlanningError) as err:
        plan_drain(parse_model(data), time_limit_s=5)
    message = err.value.errors[0]
    assert message.startswith("constraints.deadline_s: 600 s is below the lower bound: the drain cannot finish")
    assert "constraints.max_migrations_total: 1 lets at most 1 migrations in total run at once" in message


def test_widest_unordered_is_the_widest_antichain_and_most_unordered_decides_the_cap():
    """Checked by brute force on random small dependency graphs."""
    rng = random.Random(7)
    for dummy in range(200):
        n = rng.randint(1, 7)
        ancestors = {j: set() for j in range(n)}
        for j in range(n):
            for i in range(j):
                if rng.random() < 0.3:
                    ancestors[j] |= ancestors[i] | {i}
        widest = max(k for k in range(1, n + 1) for combo in itertools.combinations(range(n), k)
                     if all(a not in ancestors[b] for a in combo for b in combo))
        ids = list(range(n))
        rng.shuffle(ids)
        assert widest_unordered(ids, ancestors) == widest
        cap = rng.randint(1, n)
        got = most_unordered(ids, ancestors, cap)
        assert (got > cap) == (widest > cap) and got <= widest
