"""The lane scheduler: estimates where lanes share a resource, and which VM of a host goes next."""
import pytest

from ansible_collections.wavedrain.kvm.plugins.module_utils._planner.checker import check_plan
from ansible_collections.wavedrain.kvm.plugins.module_utils._planner.model import parse_model
from ansible_collections.wavedrain.kvm.plugins.module_utils._planner.schedule import (
    FlowInfo, build_lane_plan, lane_durations, lane_slots, lone_duration_s, rate_units)
from ansible_collections.wavedrain.kvm.plugins.module_utils._planner.simulator import annotate


def _host(nic, switch="s1"):
    return {"cpu": 64, "memory_mb": 262144, "nic_mbps": nic, "switch": switch, "shutdown_s": 30}


def _vm(host, used):
    return {"host": host, "cpu": 2, "memory_mb": 8192, "used_mb": used, "dirty_mb_s": 0, "wws_mb": 1}


def test_lane_durations_count_the_share_of_an_oversubscribed_bundle():
    """Two 25 Gb hosts behind a 40 Gb balanced bundle: the bundle has round(40 / 25) = 2 lanes,
    so each flow gets 20 Gb when both run, not its lone 25 Gb."""
    hosts = {"h0": _host(25000, "a"), "h1": _host(25000, "a"), "t0": _host(25000, "b"), "t1": _host(25000, "b")}
    data = {"hosts": hosts, "vms": {"v0": _vm("h0", 8000), "v1": _vm("h1", 8000)},
            "network": {"links": [{"name": "ab", "ends": ["a", "b"], "members": 4, "member_mbps": 10000,
                                   "hash": "balanced"}]},
            "maintenance": {"drain": ["h0", "h1"], "targets": ["t0", "t1"]}}
    model = parse_model(data)
    info = FlowInfo(model)
    placement = {"v0": "t0", "v1": "t1"}
    slots = lane_slots(model, placement, info)
    assert slots[("bundle", "ab", ">")] == 2
    estimate = lane_durations(model, placement, info, slots)
    shared = 40000 * model.efficiency / 8 / 2
    assert estimate["v0"] == pytest.approx(lone_duration_s(model, model.vms["v0"], shared))
    assert estimate["v0"] > info.duration("v0", "t0") * 1.2      # 25 / 20 Gb


def _head_of_line():
    """Two 1 Gb drained hosts, each with a big VM for t0 and a small one for t1 (1 Gb NICs)."""
    hosts = {"h0": _host(1000), "h1": _host(1000), "t0": _host(1000), "t1": _host(1000)}
    vms = {"a": _vm("h0", 2000), "b": _vm("h0", 500), "c": _vm("h1", 2000), "d": _vm("h1", 500)}
    model = parse_model({"hosts": hosts, "vms": vms, "maintenance": {"drain": ["h0", "h1"], "targets": ["t0", "t1"]}})
    return model, {"a": "t0", "b": "t1", "c": "t0", "d": "t1"}


def test_earliest_pick_sends_another_vm_while_the_largest_waits():
    """Largest first, h1 waits for t0 (busy with h0's big VM) and t1 idles meanwhile; picking
    the VM that can start first, h1 sends its small VM to t1 at once."""
    model, placement = _head_of_line()
    info = FlowInfo(model)
    plans = {}
    for pick in ("largest", "earliest"):
        plans[pick] = build_lane_plan(model, placement, flows_info=info, pick=pick)
        annotate(model, plans[pick])
        assert check_plan(model, plans[pick]) == []
    start = {a.vm: a.start_s for a in plans["earliest"].actions if a.type == "migrate"}
    assert start["a"] == pytest.approx(0.0) and start["d"] == pytest.approx(0.0)
    assert plans["earliest"].predicted["completion_s"] < plans["largest"].predicted["completion_s"] - 3
    # a 1 Gb NIC carries one flow at a time either way: lanes never oversubscribe it
    for plan in plans.values():
        runs = sorted((a.start_s, a.end_s) for a in plan.actions if a.type == "migrate" and a.destination == "t0")
        assert runs[0][1] <= runs[1][0] + 1e-6


def test_slowest_bundles_give_a_balanced_bundle_a_lane_per_slowest_flow():
    """A 40 Gb balanced bundle carrying a 25 Gb flow (to t0) and a 10 Gb one (to t1, 10 Gb NIC):
    sized by its fastest flow it has round(40 / 25) = 2 lanes, and two 10 Gb flows leave half
    of it idle; sized by its slowest flow, 4. Other resources keep their fastest-flow sizing."""
    hosts = {"h0": _host(25000, "a"), "h1": _host(25000, "a"), "t0": _host(25000, "b"), "t1": _host(10000, "b")}
    data = {"hosts": hosts, "vms": {"v0": _vm("h0", 8000), "v1": _vm("h1", 8000), "v2": _vm("h1", 8000)},
            "network": {"links": [{"name": "ab", "ends": ["a", "b"], "members": 4, "member_mbps": 10000,
                                   "hash": "balanced"}]},
            "maintenance": {"drain": ["h0", "h1"], "targets": ["t0", "t1"]}}
    model = parse_model(data)
    info = FlowInfo(model)
    placement = {"v0": "t0", "v1": "t1", "v2": "t1"}
    default = lane_slots(model, placement, info)
    slowest = lane_slots(model, placement, info, slowest_bundles=True)
    assert default[("bundle", "ab", ">")] == 2
    assert slowest[("bundle", "ab", ">")] == 4
    assert {k: v for k, v in slowest.items() if k[0] != "bundle"} == {k: v for k, v in default.items() if k[0] != "bundle"}


def test_work_rule_counts_a_host_s_shutdown():
    """h0 and h1 both send one VM to t0 (one lane); h0's is a little larger, but h1 takes 60 s
    to power off: it goes first (rule ``long``, the larger VM first, shows the other order), so
    h1's halt starts about 10 s earlier and the drain ends that much sooner."""
    hosts = {"h0": _host(1000), "h1": dict(_host(1000), shutdown_s=60), "t0": _host(1000)}
    vms = {"a": _vm("h0", 1200), "b": _vm("h1", 1000)}
    model = parse_model({"hosts": hosts, "vms": vms, "maintenance": {"drain": ["h0", "h1"], "targets": ["t0"]}})
    plans = {}
    for rule in ("work", "long"):
        plans[rule] = build_lane_plan(model, {"a": "t0", "b": "t0"}, rule=rule)
        annotate(model, plans[rule])
        assert check_plan(model, plans[rule]) == []
    start = {a.vm: a.start_s for a in plans["work"].actions if a.type == "migrate"}
    assert start["b"] == pytest.approx(0.0) and start["a"] > 0
    assert plans["work"].predicted["completion_s"] < plans["long"].predicted["completion_s"] - 8


def _mixed_bundle():
    """A 40 Gb balanced bundle from rack a to rack b: h0 sends a 25 Gb flow (to t0, 25 Gb NIC),
    h1-h4 each a flow held to 10 Gb by its target's NIC."""
    hosts = {f"h{i}": _host(25000, "a") for i in range(5)}
    hosts.update({"t0": _host(25000, "b"), **{f"t{i}": _host(10000, "b") for i in range(1, 5)}})
    data = {"hosts": hosts, "vms": {f"v{i}": _vm(f"h{i}", 8000) for i in range(5)},
            "network": {"links": [{"name": "ab", "ends": ["a", "b"], "members": 4, "member_mbps": 10000,
                                   "hash": "balanced"}]},
            "maintenance": {"drain": [f"h{i}" for i in range(5)], "targets": list(hosts)[5:]}}
    return parse_model(data), {f"v{i}": f"t{i}" for i in range(5)}


def test_rate_units_weigh_a_bundle_s_lanes_by_rate():
    """One slot per slowest flow (4 on the 40 Gb bundle), and the 25 Gb flow takes round(2.5) = 2
    of them; every other resource keeps its one-slot-per-flow sizing."""
    model, placement = _mixed_bundle()
    info = FlowInfo(model)
    slots, units = rate_units(model, placement, info)
    bundle = ("bundle", "ab", ">")
    assert slots[bundle] == 4
    assert units == {("h0", "t0"): {bundle: 2}}
    mean = lane_slots(model, placement, info, mean_rate=True)
    assert {k: v for k, v in slots.items() if k != bundle} == {k: v for k, v in mean.items() if k != bundle}


def test_rate_units_keep_the_bundle_full_and_never_oversubscribe_it():
    """Weighted lanes run the four 10 Gb flows at once (the bundle full) and never more slot units
    than the bundle has; one slot per flow (2 lanes, sized by the 25 Gb flow) leaves it half idle
    while two 10 Gb flows hold both lanes, and the drain ends later."""
    model, placement = _mixed_bundle()
    info = FlowInfo(model)
    slots, units = rate_units(model, placement, info)
    weighted = build_lane_plan(model, placement, flows_info=info, slots=slots, units=units, pick="earliest")
    plain = build_lane_plan(model, placement, flows_info=info, pick="earliest")
    for plan in (weighted, plain):
        annotate(model, plan)
        assert check_plan(model, plan) == []
    moves = [a for a in weighted.actions if a.type == "migrate"]
    for probe in moves:     # slot units in flight at every migration's start
        t = probe.start_s + 1e-6
        busy = sum(2 if a.vm == "v0" else 1 for a in moves if a.start_s <= t < a.end_s)
        assert busy <= 4
    slow_starts = sorted(a.start_s for a in moves if a.vm != "v0")
    assert slow_starts[-1] == pytest.approx(slow_starts[0])      # the four 10 Gb flows together
    assert weighted.predicted["completion_s"] < plain.predicted["completion_s"] - 3
