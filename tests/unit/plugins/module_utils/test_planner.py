"""The MILP planner: every constraint binds somewhere and the plan obeys it; plans always check."""
import pytest

from ansible_collections.wavedrain.kvm.plugins.module_utils._planner import baselines
from ansible_collections.wavedrain.kvm.plugins.module_utils._planner.bound import boot_cycle_bound
from ansible_collections.wavedrain.kvm.plugins.module_utils._planner.checker import check_plan
from ansible_collections.wavedrain.kvm.plugins.module_utils._planner.hand_tuned import hand_tuned
from ansible_collections.wavedrain.kvm.plugins.module_utils._planner.milp import PlacementProblem, SolverUnavailable
from ansible_collections.wavedrain.kvm.plugins.module_utils._planner.model import parse_model
from ansible_collections.wavedrain.kvm.plugins.module_utils._planner.planner import PlanningError, plan_drain
from ansible_collections.wavedrain.kvm.plugins.module_utils._planner.schedule import build_lane_plan
from ansible_collections.wavedrain.kvm.plugins.module_utils._planner.simulator import annotate

from planner_scenarios import datacenter, example, rack_pair

LIMIT = 5


def solved(data, **kwargs):
    model = parse_model(data)
    plan = plan_drain(model, time_limit_s=kwargs.pop("time_limit_s", LIMIT), **kwargs)
    assert check_plan(model, plan) == []
    return model, plan


def destinations(plan):
    return {a.vm: a.destination for a in plan.actions if a.type == "migrate"}


@pytest.mark.parametrize("name", ["bladecenter", "refresh"])
def test_examples_beat_hand_tuned_and_keep_migrations_short(name):
    # the MILP stops when optimal (1-4 s); the long limit only matters on a loaded CI machine,
    # where the yardsticks used most of 5 s and the MILP stopped at its time limit
    model, plan = solved(example(name), time_limit_s=30)
    seq = baselines.sequential(model)
    best_hand = hand_tuned(model)
    assert plan.predicted["completion_s"] <= best_hand.predicted["completion_s"] + 1e-6
    assert plan.predicted["mean_migration_s"] <= 1.25 * seq.predicted["mean_migration_s"]
    assert plan.predicted["non_live_migrations"] == 0
    lb = plan.extra["lower_bound"]["completion_s"]
    assert 0 < lb <= plan.predicted["completion_s"]
    # close to the bound on the paper's scenarios: lanes saturate the 3 x 1 Gb bundle
    assert plan.predicted["completion_s"] <= 1.10 * lb
    solver = plan.extra["solver"]
    assert set(solver) >= {"name", "status", "gap", "time_s"}
    # the yardsticks are candidates too, so the comparison above holds by construction: the
    # planner's own MILP plan must be the one chosen here
    assert solver["name"] == "highs"
    assert solver["chosen"] == "milp" and solver["status"] == "optimal"


# chosen: the MILP's own plan wins, except on the 3-member bundle where the hand-tuned plan
# replays faster (119.3 s vs 126.2 s) and is returned with a status that says so
@pytest.mark.parametrize("kwargs, chosen", [(dict(), "milp"), (dict(members=3, n_src=6, vms=2), "hand_tuned"),
                                            (dict(hash_policy="balanced"), "milp")])
def test_test_scenarios_beat_yardsticks(kwargs, chosen):
    model, plan = solved(rack_pair(**kwargs), time_limit_s=30)  # optimal in 1-2 s; a loaded machine needs more
    assert plan.extra["solver"]["chosen"] == chosen
    if chosen != "milp":
        assert plan.extra["solver"]["status"].endswith(f"fallback: the {chosen} plan is better after replay")
    seq = baselines.sequential(model)
    hand = hand_tuned(model)
    par = baselines.parallel(model)
    best_yardstick = min(hand.predicted["completion_s"], par.predicted["completion_s"])
    assert plan.predicted["completion_s"] <= best_yardstick + 1e-6
    assert plan.predicted["mean_migration_s"] <= 1.25 * seq.predicted["mean_migration_s"]


def test_max_online_hosts_binds_and_is_obeyed():
    data = example("bladecenter")
    free = parse_model(data)
    unconstrained = plan_drain(free, time_limit_s=LIMIT)
    assert unconstrained.predicted["max_online_hosts"] > 18
    data["constraints"]["max_online_hosts"] = 18
    model, plan = solved(data)
    assert plan.predicted["max_online_hosts"] <= 18


def test_power_budget_binds_and_is_obeyed():
    data = example("bladecenter")
    data["constraints"]["power_budget_w"] = 3300
    model, plan = solved(data)
    assert plan.predicted["peak_power_w"] <= 3300
    assert baselines.parallel(model).predicted["peak_power_w"] > 3300


def test_deadline_obeyed_and_explained_when_impossible():
    data = example("bladecenter")
    data["constraints"]["deadline_s"] = 400
    model, plan = solved(data)
    assert plan.predicted["completion_s"] <= 400
    data["constraints"]["deadline_s"] = 300
    with pytest.raises(PlanningError) as err:
        plan_drain(parse_model(data), time_limit_s=LIMIT)
    assert "cannot finish before 368 s" in err.value.errors[0]


def test_capacity_binds():
    # two spares that hold 2 VMs each (cpu 4) for 4 VMs of 2 cores: each must get exactly two
    data = rack_pair(n_src=2, vms=2, spares=2, spare_cpu=4)
    model, plan = solved(data)
    per_target = {}
    for dest in destinations(plan).values():
        per_target[dest] = per_target.get(dest, 0) + 1
    assert per_target == {"dst0": 2, "dst1": 2}
    # one core less and the 4 VMs no longer fit: refused, not overcommitted
    data["hosts"]["dst1"]["cpu"] = 3
    with pytest.raises(ValueError, match="cpu"):
        plan_drain(parse_model(data), time_limit_s=LIMIT)


def test_pinned_destination_is_honoured():
    data = rack_pair()
    data["vms"]["vm-0-0"]["destination"] = "dst3"
    data["vms"]["vm-1-1"]["destination"] = "dst3"
    model, plan = solved(data)
    dest = destinations(plan)
    assert dest["vm-0-0"] == "dst3" and dest["vm-1-1"] == "dst3"


def test_spread_group_lands_on_distinct_hosts():
    data = rack_pair(n_src=2, vms=3, spares=3)
    group = ["vm-0-0", "vm-0-1", "vm-0-2"]
    data["constraints"]["spread"] = [group]
    model, plan = solved(data)
    dest = destinations(plan)
    assert len({dest[v] for v in group}) == 3
    # the group binds: without it, first-fit packs them together
    free = parse_model(rack_pair(n_src=2, vms=3, spares=3))
    packed = baselines.first_fit_destinations(free)
    assert len({packed[v] for v in group}) < 3


def test_convergence_bandwidth_keeps_every_migration_live():
    # a dirty working set: needs 80 MB/s; two flows sharing one 117 MB/s member do not converge
    data = rack_pair(n_src=4, vms=2, members=1, dirty=20, wws=1.8)
    model, plan = solved(data)
    assert plan.predicted["non_live_migrations"] == 0
    assert all(not a.extra.get("non_live") for a in plan.actions if a.type == "migrate")
    par = baselines.parallel(model)
    assert par.predicted["non_live_migrations"] > 0    # the constraint binds


def test_layer2_pairing_gain():
    data = example("bladecenter")
    model, plan = solved(data, time_limit_s=30)  # optimal in 1-4 s; 5 s ran out on a loaded machine
    naive = build_lane_plan(model, baselines.first_fit_destinations(model))
    annotate(model, naive)
    assert plan.predicted["completion_s"] < naive.predicted["completion_s"] - 30
    # flows spread over the three members: each carries about a third of the data
    load = {}
    for a in plan.actions:
        if a.type == "migrate":
            rid = [r for r, dummy in model.flow_resources(a.source, a.destination) if r[0] == "member"][0]
            load[rid[2]] = load.get(rid[2], 0) + model.vms[a.vm].used_mb
    assert len(load) == 3 and max(load.values()) <= 1.1 * min(load.values())


def test_online_cap_too_low_is_explained():
    data = example("bladecenter")
    data["constraints"]["max_online_hosts"] = 15
    with pytest.raises(PlanningError) as err:
        plan_drain(parse_model(data), time_limit_s=LIMIT)
    assert "max_online_hosts: 15 while 15 hosts are on and a spare must boot" in err.value.errors[0]
    assert "needs at least 16" in err.value.errors[0]


def test_vm_that_cannot_converge_is_explained_unless_non_live_allowed():
    data = rack_pair(n_src=1, vms=1, members=1)
    data["vms"]["vm-0-0"].update(dirty_mb_s=60, wws_mb=1.5)    # needs 60 + 50 = 110 MB/s
    data["network"]["links"][0]["member_mbps"] = 400
    with pytest.raises(PlanningError) as err:
        plan_drain(parse_model(data), time_limit_s=LIMIT)
    assert "vm-0-0 needs 880 Mbit/s" in err.value.errors[0]
    assert "the best path offers 376 Mbit/s" in err.value.errors[0]
    data["constraints"]["allow_non_live"] = True
    model, plan = solved(data)
    assert plan.predicted["non_live_migrations"] == 1


def test_vm_too_slow_for_the_timeout_is_explained_unless_non_live_allowed():
    """Converging (needs 41 of 47 MB/s) but even alone slower than migration_timeout_s."""
    data = rack_pair(n_src=1, vms=1, members=1)
    data["vms"]["vm-0-0"].update(dirty_mb_s=40, wws_mb=0.03)
    data["network"]["links"][0]["member_mbps"] = 400
    data["constraints"]["migration_timeout_s"] = 60
    with pytest.raises(PlanningError) as err:
        plan_drain(parse_model(data), time_limit_s=LIMIT)
    assert len(err.value.errors) == 1
    assert err.value.errors[0].startswith("vm-0-0 takes ")
    assert "even alone on its best path (376 Mbit/s), beyond constraints.migration_timeout_s 60 s" \
        in err.value.errors[0]
    data["constraints"]["migration_timeout_s"] = 600
    model, plan = solved(data)
    assert plan.predicted["non_live_migrations"] == 0


@pytest.mark.parametrize("cap, cycles, rule", [
    ({"max_online_hosts": 17}, 8, "max-online-hosts"),
    # 2,800 W: the 15 drained hosts draw at least 15 x 120 W idle plus their VMs' load; a spare
    # adds at least 120 W, so one spare fits, and each host off (120 W saved) makes room for one more
    ({"power_budget_w": 2800}, 15, "power-budget"),
])
def test_boot_cycle_bound_counts_boot_cycles(cap, cycles, rule):
    """bladecenter under a license or power cap: each spare takes one drained host (8 of 8 cores),
    and room for another spare comes back only when a drained host is off, so the drain takes at
    least ``cycles`` cycles of boot + shortest migration (data at its lone rate) + shutdown, the
    first of them a whole host's data through its NIC. The plan obeys the bound, the
    parallel yardstick (which ignores caps) is reported as breaking the cap, and a deadline under
    the bound is explained with it."""
    data = example("bladecenter")
    data["constraints"].pop("max_online_hosts", None)
    data["constraints"].update(cap)
    model = parse_model(data)
    problem = PlacementProblem(model)
    shortest = min(v.used_mb / problem.info.rate(v.host, t) for v in problem.moving for t in problem.candidates[v.name])
    # the first host can be off only once a spare has booted (113 s), its four VMs' 5,290 MB have
    # left through its 1 Gb NIC (117.5 MB/s: 45.0 s) and it has shut down (29.5 s); each later
    # cycle needs a boot, at least the shortest migration and a shutdown
    first = 113 + 5290 / (1000 * 0.94 / 8) + 29.5
    bound = first + (cycles - 1) * (113 + shortest + 29.5)
    assert boot_cycle_bound(model, problem) == pytest.approx(bound)
    model, plan = solved(data)
    assert plan.extra["lower_bound"]["completion_s"] == pytest.approx(bound, abs=0.01)
    assert plan.predicted["completion_s"] >= bound
    assert rule in plan.extra["yardsticks"]["parallel"]["breaks"]
    assert plan.extra["yardsticks"]["sequential"]["breaks"] == []
    data["constraints"]["deadline_s"] = bound - 100
    with pytest.raises(PlanningError) as err:
        plan_drain(parse_model(data), time_limit_s=LIMIT)
    assert f"cannot finish before {bound:.0f} s" in err.value.errors[0]


def test_power_budget_refused_only_when_no_spare_can_boot():
    """bladecenter: the 15 drained hosts draw at least 2,580 W (idle plus their VMs' load) and a
    spare adds at least 120 W. 2,690 W is refused with the figure to reach; 2,750 W used to be
    refused too (a spare was charged its 172 W maximum) though the sequential plan peaks at
    2,706 W: it is now planned."""
    data = example("bladecenter")
    data["constraints"].pop("max_online_hosts", None)
    data["constraints"]["power_budget_w"] = 2690
    with pytest.raises(PlanningError) as err:
        plan_drain(parse_model(data), time_limit_s=LIMIT)
    assert err.value.errors == ["constraints.power_budget_w: 2690 W leaves no room to boot a spare: the hosts "
                                "draw at least 2580 W and a spare adds at least 120 W; raise it to at least "
                                "2700 W or drain fewer hosts"]
    data["constraints"]["power_budget_w"] = 2750
    model, plan = solved(data)
    assert plan.predicted["peak_power_w"] <= 2750


def test_boot_cycle_bound_is_zero_when_no_cap_binds():
    data = example("bladecenter")
    data["constraints"].update(max_online_hosts=30, power_budget_w=10000)
    model = parse_model(data)
    assert boot_cycle_bound(model, PlacementProblem(model)) == 0


def test_spread_group_larger_than_targets_is_explained():
    data = rack_pair(n_src=2, vms=3, spares=2)
    data["constraints"]["spread"] = [["vm-0-0", "vm-0-1", "vm-0-2"]]
    with pytest.raises(ValueError) as err:      # ModelError (from parse_model) or PlanningError
        plan_drain(parse_model(data), time_limit_s=LIMIT)
    assert "has 3 VMs but only 2" in str(err.value)


def test_missing_solver_is_a_clear_error():
    model = parse_model(rack_pair(n_src=1, vms=1))
    with pytest.raises(SolverUnavailable) as err:
        plan_drain(model, solver="nosuchsolver", time_limit_s=LIMIT)
    assert "HiGHS" in str(err.value)


def test_energy_and_migration_objectives_within_deadline():
    data = example("bladecenter")
    data["constraints"]["deadline_s"] = 600
    model, by_energy = solved(data, objective="energy")
    dummy, by_time = solved(data)
    assert by_energy.predicted["energy_wh"] <= by_time.predicted["energy_wh"] + 1e-6
    assert by_energy.predicted["completion_s"] <= 600
    dummy, by_migration = solved(data, objective="migration")
    assert by_migration.predicted["mean_migration_s"] <= by_time.predicted["mean_migration_s"] + 1e-6
    assert by_migration.predicted["completion_s"] <= 600


@pytest.mark.parametrize("strategy", ["sequential", "parallel", "hand_tuned"])
def test_yardstick_strategies(strategy):
    model, plan = solved(rack_pair(), strategy=strategy)
    assert plan.strategy == strategy


def test_rack_classes_at_scale_reach_the_lower_bound():
    # 720 VMs x 52 spares: above the VM-level MILP size, so racks become classes; the plan
    # spreads each rack's VMs over the uplink members and stays within 10 % of the proven bound
    model, plan = solved(datacenter(256, 48), compare=False)
    assert plan.extra["solver"]["chosen"] == "milp"
    lb = plan.extra["lower_bound"]["completion_s"]
    assert lb <= plan.predicted["completion_s"] <= 1.10 * lb
    assert plan.predicted["non_live_migrations"] == 0
    assert lb <= baselines.sequential(model).predicted["completion_s"]


def test_parallel_yardstick_not_replayed_above_its_cap(monkeypatch):
    from ansible_collections.wavedrain.kvm.plugins.module_utils._planner import planner
    model = parse_model(rack_pair(n_src=2, vms=2))
    assert planner.yardsticks(model)["parallel"] is not None
    monkeypatch.setattr(planner, "PARALLEL_REPLAY_MAX", 3)      # 4 VMs to move
    refs = planner.yardsticks(model)
    assert refs["parallel"] is None
    assert refs["sequential"] is not None and refs["hand_tuned"] is not None
    plan = plan_drain(model, time_limit_s=5)
    assert plan.extra["yardsticks"]["parallel"] is None and check_plan(model, plan) == []
