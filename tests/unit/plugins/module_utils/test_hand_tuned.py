"""The hand-tuned yardstick: valid, better than sequential, and LACP pairing helps."""
from ansible_collections.wavedrain.kvm.plugins.module_utils._planner import baselines
from ansible_collections.wavedrain.kvm.plugins.module_utils._planner.checker import check_plan
from ansible_collections.wavedrain.kvm.plugins.module_utils._planner.hand_tuned import hand_tuned, hand_tuned_plans, hybrid
from ansible_collections.wavedrain.kvm.plugins.module_utils._planner.model import parse_model
from ansible_collections.wavedrain.kvm.plugins.module_utils._planner.schedule import FlowInfo, critical_path_s
from ansible_collections.wavedrain.kvm.plugins.module_utils._planner.simulator import annotate

from planner_scenarios import example, rack_pair


def test_best_hand_tuned_is_valid_and_beats_both_naive_strategies():
    model = parse_model(example("bladecenter"))
    plan = hand_tuned(model)
    assert check_plan(model, plan) == []
    assert plan.strategy == "hand_tuned"
    seq, par = baselines.sequential(model), baselines.parallel(model)
    assert plan.predicted["completion_s"] < par.predicted["completion_s"]
    assert plan.predicted["completion_s"] < seq.predicted["completion_s"] / 5
    assert plan.predicted["mean_migration_s"] < par.predicted["mean_migration_s"] / 5
    assert set(plan.extra["hand_tuned"]) == {"lanes", "vms_at_once", "boot_ahead", "lacp_pairing"}


def test_lacp_pairing_is_a_gain_on_layer2():
    model = parse_model(example("bladecenter"))
    with_pairing = hand_tuned(model, pairings=(True,))
    without = hand_tuned(model, pairings=(False,))
    assert with_pairing.predicted["completion_s"] < without.predicted["completion_s"]


def test_hybrid_shape_one_lane_is_sequential_like():
    model = parse_model(rack_pair(n_src=3, vms=2))
    plan = hybrid(model, k=1, m=1, b=0)
    annotate(model, plan)
    assert check_plan(model, plan) == []
    moves = sorted((a for a in plan.actions if a.type == "migrate"), key=lambda a: a.start_s)
    for first, second in zip(moves, moves[1:]):
        assert second.start_s >= first.end_s - 1e-6      # one migration at a time


def test_hand_tuned_respects_online_cap():
    data = rack_pair(n_src=4, vms=2)
    data["constraints"]["max_online_hosts"] = 5
    model = parse_model(data)
    plan = hand_tuned(model)
    assert plan is not None and check_plan(model, plan) == []
    assert plan.predicted["max_online_hosts"] <= 5


def test_critical_path_never_exceeds_the_replayed_completion():
    for data in (example("bladecenter"), rack_pair(n_src=3, vms=3)):
        model = parse_model(data)
        info = FlowInfo(model)
        for k, m, b in ((1, 1, 0), (2, 2, None), (3, 1, 1)):
            plan = hybrid(model, k=k, m=m, b=b)
            bound = critical_path_s(model, plan, info)
            annotate(model, plan)
            assert 0 < bound <= plan.predicted["completion_s"] + 1e-6
    one_lane = hybrid(parse_model(rack_pair(n_src=3, vms=2)), k=1, m=1, b=0)
    three_lanes = hybrid(parse_model(rack_pair(n_src=3, vms=2)), k=3, m=1, b=None)
    model = parse_model(rack_pair(n_src=3, vms=2))
    assert critical_path_s(model, one_lane) > critical_path_s(model, three_lanes)


def test_pruned_search_finds_the_exhaustive_best():
    model = parse_model(example("bladecenter"))
    exhaustive = None
    for plan in hand_tuned_plans(model, ks=(1, 2, 4), ms=(1, 2), bs=(0, None)):
        if check_plan(model, plan):
            continue
        if exhaustive is None or (plan.predicted["completion_s"], plan.predicted["mean_migration_s"]) < (
                exhaustive.predicted["completion_s"], exhaustive.predicted["mean_migration_s"]):
            exhaustive = plan
    pruned = hand_tuned(model, ks=(1, 2, 4), ms=(1, 2), bs=(0, None))
    assert pruned.extra["hand_tuned"] == exhaustive.extra["hand_tuned"]
    assert pruned.predicted == exhaustive.predicted
