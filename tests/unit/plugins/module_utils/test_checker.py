"""Every checker rule fires on a crafted bad plan, and valid plans pass."""
import pytest

from ansible_collections.wavedrain.kvm.plugins.module_utils._planner import baselines
from ansible_collections.wavedrain.kvm.plugins.module_utils._planner.checker import check_plan
from ansible_collections.wavedrain.kvm.plugins.module_utils._planner.model import parse_model
from ansible_collections.wavedrain.kvm.plugins.module_utils._planner.plan import Plan, migrate, power_off, power_on
from ansible_collections.wavedrain.kvm.plugins.module_utils._planner.simulator import annotate


def good_actions():
    return [power_on("s1", 1), migrate("a", "h1", "s1", 1, ["boot/s1"]), migrate("b", "h1", "s2", 1),
            migrate("c", "h2", "s2", 1), power_off("h1", 1, ["migrate/a", "migrate/b"]),
            power_off("h2", 1, ["migrate/c"])]


def rules(model, actions, simulate=True):
    plan = Plan(actions)
    if simulate:
        annotate(model, plan)
    return {v.rule for v in check_plan(model, plan)}


@pytest.fixture
def model(small_dc):
    return parse_model(small_dc)


def test_valid_plan_passes(model):
    assert rules(model, good_actions()) == set()


@pytest.mark.parametrize("strategy", [baselines.sequential, baselines.parallel])
def test_baselines_pass(model, strategy):
    assert check_plan(model, strategy(model)) == []


def test_unknown_dependency_and_cycle(model):
    actions = good_actions()
    actions[1].after.append("boot/nowhere")
    assert "dependencies" in rules(model, actions, simulate=False)
    actions = good_actions()
    actions[0].after.append("halt/h1")   # boot waits for halt, which waits for the migration after boot
    assert "acyclic" in rules(model, actions, simulate=False)


def test_vm_migrated_twice_or_never(model):
    actions = good_actions()
    actions.append(migrate("a", "h1", "s2", 1))
    actions[-1].id = "migrate/a-again"
    assert "migrate-once" in rules(model, actions, simulate=False)
    actions = [a for a in good_actions() if a.id != "migrate/c"]
    actions[-1].after = []
    assert "migrate-once" in rules(model, actions)


def test_destination_must_be_an_allowed_target(model):
    actions = good_actions()
    actions[3] = migrate("c", "h2", "h1", 1)
    assert "allowed-destination" in rules(model, actions, simulate=False)


def test_migration_into_booting_host(model):
    actions = good_actions()
    actions[1].after = []
    assert "destination-online" in rules(model, actions)


def test_migration_into_host_never_booted(model):
    actions = good_actions()[1:]
    actions[0].after = []
    assert "destination-online" in rules(model, actions, simulate=False)


def test_power_off_with_vms_still_there(model):
    actions = good_actions()
    actions[4].after = ["migrate/a"]          # halt h1 while b may still be on it
    found = rules(model, actions)
    assert "no-power-off-with-vms" in found


def test_drained_host_must_end_off(model):
    actions = [a for a in good_actions() if a.id != "halt/h2"]
    assert "drained-ends-off" in rules(model, actions)


def test_power_off_of_a_target_is_refused(model):
    actions = good_actions() + [power_off("s2", 1, ["migrate/c", "migrate/b"])]
    assert "power-off-drained-only" in rules(model, actions)


def test_capacity_counts_migrating_vm_on_both_ends(small_dc):
    small_dc["hosts"]["s2"]["cpu"] = 4
    small_dc["hosts"]["s1"]["cpu"] = 4
    model = parse_model(small_dc)
    # b and c both go to s2 (4 cpu) where they fit exactly; a goes to s1
    assert rules(model, good_actions()) == set()
    small_dc["vms"]["d"] = {"host": "s2", "cpu": 1, "memory_mb": 512}
    small_dc["hosts"]["s1"]["cpu"] = 8
    model = parse_model(small_dc)
    assert "capacity" in rules(model, good_actions())


def test_max_online_hosts(small_dc):
    small_dc["constraints"]["max_online_hosts"] = 3   # 3 on, booting s1 makes 4
    model = parse_model(small_dc)
    assert "max-online-hosts" in rules(model, good_actions())


def test_power_budget(small_dc):
    small_dc["constraints"]["power_budget_w"] = 500
    model = parse_model(small_dc)
    assert "power-budget" in rules(model, good_actions())


def test_deadline(small_dc):
    small_dc["constraints"]["deadline_s"] = 50   # the boot alone takes 100 s
    model = parse_model(small_dc)
    assert "deadline" in rules(model, good_actions())


def test_pinned_destination_and_spread(small_dc):
    small_dc["vms"]["a"]["destination"] = "s2"
    small_dc["constraints"]["spread"] = [["b", "c"]]
    model = parse_model(small_dc)
    found = rules(model, good_actions())
    assert {"pinned-destination", "spread"} <= found


def test_non_live_needs_permission(small_dc):
    small_dc["vms"]["a"].update(wws_mb=50, dirty_mb_s=5)
    small_dc["constraints"]["migration_timeout_s"] = 30
    model = parse_model(small_dc)
    assert "live-only" in rules(model, good_actions())
    small_dc["constraints"]["allow_non_live"] = True
    assert "live-only" not in rules(parse_model(small_dc), good_actions())


def test_violations_carry_time_and_objects(small_dc):
    small_dc["constraints"]["max_online_hosts"] = 3
    model = parse_model(small_dc)
    plan = Plan(good_actions())
    annotate(model, plan)
    violation = next(v for v in check_plan(model, plan) if v.rule == "max-online-hosts")
    assert violation.time_s == 0.0 and "4 hosts online" in str(violation)


def test_plan_with_a_bad_wave_is_a_format_error():
    from ansible_collections.wavedrain.kvm.plugins.module_utils._planner.plan import PlanFormatError, plan_from_dict
    with pytest.raises(PlanFormatError, match="wave must be a whole number"):
        plan_from_dict({"version": 1, "actions": [{"id": "halt/h1", "type": "power_off", "host": "h1",
                                                   "wave": "first"}]})


@pytest.mark.parametrize("action, message", [
    ({"id": 7, "type": "power_off", "host": "h1"}, r"actions\[0\]: id must be a non-empty string .* got 7"),
    ({"id": "halt/h1", "type": "power_off", "host": ["h1"]},
     r"action halt/h1 \(actions\[0\]\): host must be a host name \(a string\), got \['h1'\]"),
    ({"id": "migrate/a", "type": "migrate", "vm": 1, "source": "h1", "destination": "s1"},
     r"action migrate/a \(actions\[0\]\): vm must be a VM name"),
    ({"id": "migrate/a", "type": "migrate", "vm": "a", "source": {"h": 1}, "destination": "s1"},
     r"action migrate/a \(actions\[0\]\): source must be"),
    ({"id": "migrate/a", "type": "migrate", "vm": "a", "source": "h1", "destination": 2},
     r"action migrate/a \(actions\[0\]\): destination must be"),
    ({"id": "migrate/a", "type": "migrate", "vm": "a", "source": "h1", "destination": "s1", "host": 3},
     r"action migrate/a \(actions\[0\]\): host must be"),
    ({"id": "halt/h1", "type": "power_off", "host": "h1", "start_s": "12"},
     r"action halt/h1 \(actions\[0\]\): start_s must be a number, got '12'"),
    ({"id": "halt/h1", "type": "power_off", "host": "h1", "end_s": True},
     r"action halt/h1 \(actions\[0\]\): end_s must be a number, got True"),
    ({"id": "migrate/a", "type": "migrate", "vm": "a", "source": "h1", "destination": "s1",
      "bandwidth_mbps": "800"}, r"action migrate/a \(actions\[0\]\): bandwidth_mbps must be a number"),
])
def test_plan_fields_of_the_wrong_type_are_format_errors(action, message):
    from ansible_collections.wavedrain.kvm.plugins.module_utils._planner.plan import PlanFormatError, plan_from_dict
    with pytest.raises(PlanFormatError, match=message):
        plan_from_dict({"version": 1, "actions": [action]})


def test_plan_type_errors_name_every_field_and_null_is_absent():
    from ansible_collections.wavedrain.kvm.plugins.module_utils._planner.plan import PlanFormatError, plan_from_dict
    ok = {"id": "migrate/a", "type": "migrate", "vm": "a", "source": "h1", "destination": "s1",
          "host": None, "start_s": 0, "end_s": 1.5, "bandwidth_mbps": None}
    assert plan_from_dict({"version": 1, "actions": [ok]}).actions[0].end_s == 1.5
    bad = {"id": "halt/h1", "type": "power_off", "host": "h1", "start_s": "0", "end_s": [1]}
    with pytest.raises(PlanFormatError) as err:
        plan_from_dict({"version": 1, "actions": [ok, bad]})
    assert err.value.errors == ["action halt/h1 (actions[1]): start_s must be a number, got '0'; "
                                "write it unquoted or remove it",
                                "action halt/h1 (actions[1]): end_s must be a number, got [1]; "
                                "write it unquoted or remove it"]
