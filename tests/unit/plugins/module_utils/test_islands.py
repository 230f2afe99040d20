"""Network islands (pods with no links between them): one plan, each VM inside its own island."""
import pytest

from ansible_collections.wavedrain.kvm.plugins.module_utils._planner import baselines
from ansible_collections.wavedrain.kvm.plugins.module_utils._planner.checker import check_plan
from ansible_collections.wavedrain.kvm.plugins.module_utils._planner.model import parse_model
from ansible_collections.wavedrain.kvm.plugins.module_utils._planner.plan import Plan, migrate, power_off
from ansible_collections.wavedrain.kvm.plugins.module_utils._planner.planner import PlanningError, plan_drain


def two_pods(spare_in_b=True):
    """Pod a: racks a1, a2 joined by a bundle; pod b: rack b1 alone. No link between the pods.
    Drained: a-src (3 VMs), b-src (2 VMs). Targets: a-dst (off spare, other rack of pod a),
    a-big (on, room for everything, same rack as a-src), b-dst (off spare, pod b)."""
    hosts = {}
    for name, switch, power, cpu in (("a-src", "a1", "on", 8), ("a-big", "a1", "on", 32), ("a-dst", "a2", "off", 8),
                                     ("b-src", "b1", "on", 8), ("b-dst", "b1", "off", 8)):
        hosts[name] = {"cpu": cpu, "memory_mb": 32768, "power": power, "switch": switch, "boot_s": 60,
                       "shutdown_s": 20}
    vms = {f"va{i}": {"host": "a-src", "cpu": 2, "memory_mb": 2048, "used_mb": 1500} for i in range(3)}
    vms.update({f"vb{i}": {"host": "b-src", "cpu": 2, "memory_mb": 2048, "used_mb": 1500} for i in range(2)})
    targets = ["a-big", "a-dst", "b-dst"] if spare_in_b else ["a-big", "a-dst"]
    return {"hosts": hosts, "vms": vms,
            "network": {"links": [{"name": "a1-a2", "ends": ["a1", "a2"], "members": 2, "member_mbps": 1000}]},
            "maintenance": {"drain": ["a-src", "b-src"], "targets": targets}}


def test_islands_are_planned_into_one_plan_each_vm_inside_its_island():
    model = parse_model(two_pods())
    plan = plan_drain(model, time_limit_s=5)
    assert check_plan(model, plan) == []
    moves = {a.vm: a.destination for a in plan.actions if a.type == "migrate"}
    assert set(moves) == {"va0", "va1", "va2", "vb0", "vb1"}
    assert {moves["vb0"], moves["vb1"]} == {"b-dst"}                # the only target of pod b
    assert {moves[f"va{i}"] for i in range(3)} <= {"a-big", "a-dst"}
    assert {a.host for a in plan.actions if a.type == "power_off"} == {"a-src", "b-src"}
    island = {a.id: a.to_dict()["island"] for a in plan.actions}      # named by their first switch
    assert island["halt/a-src"] == "a1" and island["halt/b-src"] == "b1" and island["migrate/vb0"] == "b1"
    assert {island[f"migrate/va{i}"] for i in range(3)} == {"a1"}
    assert 0 < plan.extra["lower_bound"]["completion_s"] <= plan.predicted["completion_s"] + 0.011


def test_a_vm_with_no_target_in_its_island_is_named():
    with pytest.raises(PlanningError) as err:
        plan_drain(parse_model(two_pods(spare_in_b=False)), time_limit_s=5)
    assert ("vms.vb0 on b-src (2 cpu, 2048 MB) has no target with room in its network island (switches b1): "
            "add a target there or link the island to the others") in err.value.errors
    assert any(e.startswith("the VMs drained in the network island of switches b1 need 4 cpu and 4096 MB but "
                            "its targets have 0 cpu and 0 MB free") for e in err.value.errors)
    assert not any("va0" in e for e in err.value.errors)


def test_a_pin_into_another_island_is_refused():
    data = two_pods()
    data["vms"]["va0"]["destination"] = "b-dst"
    with pytest.raises(PlanningError) as err:
        plan_drain(parse_model(data), time_limit_s=5)
    assert err.value.errors[0].startswith("vms.va0.destination b-dst is outside its network island (switches a1, a2)")


def test_the_checker_refuses_a_migration_across_islands():
    model = parse_model(two_pods())
    plan = baselines.sequential(model)
    assert check_plan(model, plan) == []
    bad = Plan([migrate("vb0", "b-src", "a-big", 1), migrate("vb1", "b-src", "a-big", 1),
                power_off("b-src", 1, ["migrate/vb0", "migrate/vb1"])]
               + [a for a in plan.actions if a.type != "power_on" and a.host != "b-src"
                  and (a.type != "migrate" or a.source != "b-src")])
    rules = {v.rule for v in check_plan(model, bad)}
    assert "reachable-destination" in rules
