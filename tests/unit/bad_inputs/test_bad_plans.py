"""Bad plans (hand-edited or damaged): refused at load with the action and the fix."""
import pytest

from ansible_collections.wavedrain.kvm.plugins.module_utils._planner.checker import check_plan, graph_violations
from ansible_collections.wavedrain.kvm.plugins.module_utils._planner.model import parse_model
from ansible_collections.wavedrain.kvm.plugins.module_utils._planner.plan import plan_from_dict

from catalogue import accepted, base_model, refused

INF, NAN = float("inf"), float("nan")


def migrate(**changes):
    return dict({"id": "migrate/a", "type": "migrate", "vm": "a", "source": "h1", "destination": "s2",
                 "wave": 1, "after": []}, **changes)


def halt(**changes):
    return dict({"id": "halt/h1", "type": "power_off", "host": "h1", "wave": 1, "after": ["migrate/a"]}, **changes)


def plan(*actions, **top):
    return dict({"version": 1, "strategy": "custom", "waves": [], "actions": list(actions)}, **top)


# (case id, plan dict, words)
PLANS = [
    ("host-substitution", plan(halt(host="h1$(touch /tmp/x)")), ["action halt/h1 (actions[0]): host:", "'$'"]),
    ("vm-option", plan(migrate(vm="--help")), ["action migrate/a (actions[0]): vm:", "starts with '-'"]),
    ("source-semicolon", plan(migrate(source="; rm -rf /")), ["source:", "contains ';'"]),
    ("destination-backtick", plan(migrate(destination="`id`")), ["destination:", "backtick"]),
    ("destination-dotdot", plan(migrate(destination="../s2")), ["destination:", "'/'"]),
    ("host-list", plan(halt(host=["h1"])), ["host must be a host name (a string), got ['h1']"]),
    ("vm-number", plan(migrate(vm=7)), ["vm must be a VM name (a string), got 7"]),
    ("start-nan", plan(halt(start_s=NAN)), ["start_s must be a finite number"]),
    ("end-inf", plan(halt(end_s=INF)), ["end_s must be a finite number"]),
    ("bandwidth-nan", plan(migrate(bandwidth_mbps=NAN)), ["bandwidth_mbps must be a finite number"]),
    ("start-text", plan(halt(start_s="12")), ["start_s must be a number, got '12'"]),
    ("downtime-inf", plan(migrate(downtime_ms=INF)), ["downtime_ms must be a finite number"]),
    ("start-huge", plan(halt(start_s=1e300)), ["start_s must be a finite number of realistic size"]),
    ("id-newline", plan(halt(id="halt/h1\nrm -rf /")), ["actions[0]: id", "without spaces or control characters"]),
    ("id-huge", plan(halt(id="x" * 10000)), ["actions[0]: id", "at most 512 characters"]),
    ("id-number", plan(halt(id=5)), ["actions[0]: id must be a non-empty string"]),
    ("after-text", plan(halt(after="migrate/a")), ["after must be a list of action ids"]),
    ("after-number", plan(halt(after=[1])), ["after must be a list of action ids"]),
    ("wave-fraction", plan(halt(wave=1.5)), ["wave must be a whole number"]),
    ("wave-negative", plan(halt(wave=-1)), ["wave must be a whole number from 0"]),
    ("type-list", plan(halt(type=["power_off"])), ["actions[0]: needs an id and a type"]),
    ("action-list", plan(["halt/h1"]), ["actions[0]: needs an id and a type"]),
    ("missing-destination", plan(migrate(destination=None)), ["action migrate/a (actions[0]): missing destination"]),
    ("actions-mapping", {"version": 1, "actions": {"a": 1}}, ["actions must be a list, got dict"]),
    ("waves-number", plan(waves=5), ["waves must be a list, got int"]),
    ("predicted-list", plan(predicted=[1]), ["predicted must be a mapping, got list"]),
    ("predicted-nan", plan(predicted={"completion_s": NAN}), ["predicted.'completion_s' must be a finite"]),
    ("version-true", plan(version=True), ["version must be 1, got True"]),
    ("version-two", plan(version=2), ["version must be 1, got 2"]),
    ("strategy-list", plan(strategy=["x"]), ["strategy must be a string"]),
    ("not-a-mapping", ["actions"], ["a plan must be a mapping"]),
]


@pytest.mark.parametrize("data, words", [c[1:] for c in PLANS], ids=[c[0] for c in PLANS])
def test_bad_plan_is_refused(data, words):
    refused(lambda: plan_from_dict(data), *words)


def _chain(n, cycle=False):
    """n power_on actions, each after the previous one, listed last first."""
    actions = [{"id": "boot/n%d" % i, "type": "power_on", "host": "n%d" % i, "wave": 1,
                "after": ["boot/n%d" % (i - 1)] if i else (["boot/n%d" % (n - 1)] if cycle else [])}
               for i in range(n)]
    return plan(*reversed(actions))


def test_a_3000_action_chain_in_reverse_is_checked_without_recursion():
    data = _chain(3000)
    assert accepted(lambda: [str(v) for v in graph_violations(plan_from_dict(data).actions)]) == []


def test_a_3000_action_cycle_is_found():
    data = _chain(3000, cycle=True)
    found = accepted(lambda: [v.rule for v in graph_violations(plan_from_dict(data).actions)])
    assert found == ["acyclic"]


def test_a_hand_edited_plan_that_breaks_the_model_is_named_by_the_checker():
    """Format-valid but wrong: the checker names the action (halting h1 before its VM left)."""
    data = plan(migrate(vm="c", id="migrate/c", source="h1"), halt(after=[]))

    def check():
        return [str(v) for v in check_plan(parse_model(base_model()), plan_from_dict(data))]

    violations = accepted(check)
    assert any("migrate/c takes c from h1 but it runs on h2" in v for v in violations)
