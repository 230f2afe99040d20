import pytest

from ansible_collections.wavedrain.kvm.plugins.module_utils._planner.model import parse_model
from ansible_collections.wavedrain.kvm.plugins.module_utils._planner.plan import Plan, migrate, power_off, power_on
from ansible_collections.wavedrain.kvm.plugins.module_utils._planner.simulator import (
    max_min_rates, predict_migration_s, simulate)


def test_water_filling_is_max_min_fair():
    rates = max_min_rates({"A": ["r1", "r2"], "B": ["r1"], "C": ["r2"]}, {"r1": 10.0, "r2": 4.0})
    assert rates == pytest.approx({"A": 2.0, "B": 8.0, "C": 2.0})


def test_water_filling_three_levels():
    flows = {"x": ["a"], "y": ["a", "b"], "z": ["b", "c"], "w": ["c"]}
    rates = max_min_rates(flows, {"a": 3.0, "b": 5.0, "c": 100.0})
    assert rates == pytest.approx({"x": 1.5, "y": 1.5, "z": 3.5, "w": 96.5})


def closed_form(used, dirty, rate, downtime_s):
    """Pre-copy with no hot set: rounds shrink by dirty/rate until one fits in the downtime."""
    ratio, size, total = dirty / rate, used, 0.0
    while size > rate * downtime_s:
        total += size
        size *= ratio
    return (total + size) / rate


@pytest.mark.parametrize("dirty", [0.0, 5.0, 40.0, 90.0])
def test_precopy_rounds_match_closed_form(small_dc, dirty):
    small_dc["vms"]["a"].update(used_mb=2000, dirty_mb_s=dirty, wws_mb=0.0)
    model = parse_model(small_dc)
    rate = 1000 * 0.94 / 8
    assert predict_migration_s(model, "a", "h1", "s2") == pytest.approx(closed_form(2000, dirty, rate, 0.03), rel=1e-6)


def test_hot_working_set_that_cannot_fit_times_out_non_live(small_dc):
    # 117.5 MB/s x 30 ms = 3.5 MB per stop-and-copy: a 10 MB hot set never fits
    small_dc["vms"]["a"].update(used_mb=500, dirty_mb_s=2.0, wws_mb=10.0)
    small_dc["constraints"]["migration_timeout_s"] = 60
    model = parse_model(small_dc)
    result = simulate(model, Plan([migrate("a", "h1", "s2", 1)]))
    outcome = result.migrations["migrate/a"]
    assert outcome.non_live
    assert outcome.duration_s == pytest.approx(60 + outcome.downtime_ms / 1000, rel=1e-6)
    assert outcome.downtime_ms > 30


def test_flows_on_same_layer2_member_share_it(small_dc):
    for vm in ("a", "c"):
        small_dc["vms"][vm].update(used_mb=1000, dirty_mb_s=0, wws_mb=0)
    small_dc["hosts"]["s1"]["power"] = "on"
    small_dc["hosts"]["h3"] = dict(small_dc["hosts"]["h2"], mac="02:00:00:00:00:07")
    small_dc["vms"]["d"] = dict(small_dc["vms"]["c"], host="h3")
    model = parse_model(small_dc)
    alone = predict_migration_s(model, "a", "h1", "s1")
    # h1->s1: 1^3=2 and h2->s2: 2^4=6, both member 0 of 2: they share one 1 Gb/s member
    together = simulate(model, Plan([migrate("a", "h1", "s1", 1), migrate("c", "h2", "s2", 1)]))
    assert together.migrations["migrate/a"].duration_s == pytest.approx(2 * alone, rel=1e-6)
    # h1->s1 (member 0) and h3->s2: 7^4=3 -> member 1: different members and NICs, no sharing
    apart = simulate(model, Plan([migrate("a", "h1", "s1", 1), migrate("d", "h3", "s2", 1)]))
    assert apart.migrations["migrate/a"].duration_s == pytest.approx(alone, rel=1e-6)
    assert apart.migrations["migrate/d"].duration_s == pytest.approx(alone, rel=1e-6)


def test_power_energy_and_online_hosts(small_dc):
    small_dc["hosts"]["s1"]["power_w"] = {"off": 0, "idle": 100, "boot": 150, "max": 200}
    model = parse_model(small_dc)
    plan = Plan([power_on("s1", 1), migrate("a", "h1", "s1", 1, ["boot/s1"]),
                 migrate("b", "h1", "s1", 1, ["boot/s1"]), migrate("c", "h2", "s2", 1),
                 power_off("h1", 1, ["migrate/a", "migrate/b"]), power_off("h2", 1, ["migrate/c"])])
    result = simulate(model, plan)
    figures = result.figures()
    assert result.starts["migrate/a"] == pytest.approx(100)       # after the boot
    assert result.ends["halt/h1"] == pytest.approx(result.ends["migrate/b"] + 20)
    assert figures["max_online_hosts"] == 4
    # at t=0: h1, h2, s2 fully loaded? h1 has 4 of 8 cpu -> 120 + 50 * 0.5; s1 booting at 150
    t0_power = result.power_steps[0][1]
    assert t0_power == pytest.approx((120 + 50 * 0.5) + (120 + 50 * 0.25) + 150 + (120 + 0))
    energy_j = sum(w * (t1 - t0) for (t0, w), (t1, dummy) in
                   zip(result.power_steps, result.power_steps[1:] + [(result.completion_s, 0)]))
    assert figures["energy_wh"] == pytest.approx(energy_j / 3600, abs=0.01)


def test_flows_on_identical_paths_are_filled_as_one_class():
    rates = max_min_rates({"a": ["r"], "b": ["r"], "c": ["r", "s"], "d": ["s"]}, {"r": 9.0, "s": 2.0})
    assert rates == pytest.approx({"a": 4.0, "b": 4.0, "c": 1.0, "d": 1.0})


def test_simultaneous_flows_end_together_and_parts_of_the_network_stay_independent(small_dc):
    for vm in ("a", "b", "c"):
        small_dc["vms"][vm].update(used_mb=1000, dirty_mb_s=0, wws_mb=0)
    small_dc["hosts"]["s1"]["power"] = "on"
    small_dc["hosts"]["s3"] = dict(small_dc["hosts"]["s2"], mac="02:00:00:00:00:08")
    model = parse_model(small_dc)
    alone = predict_migration_s(model, "a", "h1", "s1")
    # MAC last bytes: h1 -> s1 is 1^3 and h2 -> s3 is 2^8, both member 0 of 2: a and b (same path,
    # one class) and c share that member equally and all end at once, three times slower than alone
    plan = Plan([migrate("a", "h1", "s1", 1), migrate("b", "h1", "s1", 1), migrate("c", "h2", "s3", 1)])
    result = simulate(model, plan)
    assert result.ends["migrate/a"] == pytest.approx(result.ends["migrate/b"], abs=1e-9)
    assert result.ends["migrate/c"] == pytest.approx(3 * alone, rel=1e-6)
    # once a has ended, c runs alone at full speed: its rate is recomputed when a leaves
    after = simulate(model, Plan([migrate("a", "h1", "s1", 1), migrate("c", "h2", "s3", 1, ["migrate/a"])]))
    assert after.migrations["migrate/c"].duration_s == pytest.approx(alone, rel=1e-6)


def test_migration_setup_time_delays_the_flow(small_dc):
    small_dc["vms"]["a"].update(used_mb=1000, dirty_mb_s=0, wws_mb=0)
    without = predict_migration_s(parse_model(small_dc), "a", "h1", "s2")
    small_dc["network"]["migration_setup_s"] = 2.5
    model = parse_model(small_dc)
    assert predict_migration_s(model, "a", "h1", "s2") == pytest.approx(without + 2.5, rel=1e-9)
    # two migrations out of h1 in a chain: each pays its set-up, the NIC is idle meanwhile
    plan = Plan([migrate("a", "h1", "s2", 1), migrate("b", "h1", "s2", 1, ["migrate/a"])])
    small_dc["vms"]["b"].update(used_mb=1000, dirty_mb_s=0, wws_mb=0)
    result = simulate(parse_model(small_dc), plan)
    assert result.completion_s == pytest.approx(2 * (without + 2.5), rel=1e-9)


def test_unknown_host_in_a_plan_is_a_clear_error(small_dc):
    from ansible_collections.wavedrain.kvm.plugins.module_utils._planner.simulator import SimulationError
    with pytest.raises(SimulationError, match="migrate/a names unknown host nowhere"):
        simulate(parse_model(small_dc), Plan([migrate("a", "h1", "nowhere", 1)]))
