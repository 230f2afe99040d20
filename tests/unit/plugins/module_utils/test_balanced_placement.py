"""The balanced placement spreads data over the targets' NICs where first-fit packs them."""
from ansible_collections.wavedrain.kvm.plugins.module_utils._planner.baselines import (
    balanced_destinations, first_fit_destinations)
from ansible_collections.wavedrain.kvm.plugins.module_utils._planner.checker import check_plan
from ansible_collections.wavedrain.kvm.plugins.module_utils._planner.model import parse_model
from ansible_collections.wavedrain.kvm.plugins.module_utils._planner.planner import plan_drain
from ansible_collections.wavedrain.kvm.plugins.module_utils._planner.schedule import FlowInfo, build_lane_plan
from ansible_collections.wavedrain.kvm.plugins.module_utils._planner.simulator import annotate


def scattered():
    """Four drained hosts with 10 Gb NICs, four targets on with 1 Gb NICs and room for all:
    first-fit sends everything to t0, whose receive NIC then carries all the data."""
    hosts = {f"h{i}": {"cpu": 16, "memory_mb": 65536, "nic_mbps": 10000} for i in range(4)}
    hosts.update({f"t{i}": {"cpu": 64, "memory_mb": 262144, "nic_mbps": 1000} for i in range(4)})
    vms = {f"v{i}{j}": {"host": f"h{i}", "cpu": 2, "memory_mb": 4096, "used_mb": 2000} for i in range(4) for j in range(3)}
    return {"hosts": hosts, "vms": vms, "maintenance": {"drain": [f"h{i}" for i in range(4)]}}


def test_balanced_placement_spreads_where_first_fit_packs():
    model = parse_model(scattered())
    info = FlowInfo(model)
    packed, spread = first_fit_destinations(model), balanced_destinations(model, info)
    assert set(packed.values()) == {"t0"}
    per_target = {t: sum(1 for d in spread.values() if d == t) for t in model.targets}
    assert per_target == {"t0": 3, "t1": 3, "t2": 3, "t3": 3}
    plans = {}
    for name, placement in (("first_fit", packed), ("balanced", spread)):
        plans[name] = build_lane_plan(model, placement, flows_info=info)
        annotate(model, plans[name])
        assert check_plan(model, plans[name]) == []
    # 12 x 2,000 MB through one 1 Gb NIC vs through four
    assert plans["balanced"].predicted["completion_s"] < 0.4 * plans["first_fit"].predicted["completion_s"]
    plan = plan_drain(model, time_limit_s=5)
    assert plan.predicted["completion_s"] <= plans["balanced"].predicted["completion_s"] + 1e-6


def test_balanced_placement_keeps_flows_in_their_rack():
    """Two racks on a narrow 1 Gb uplink, a drained host and a target in each, and enough other
    targets in the far rack to crowd the least-loaded sample: each VM stays in its own rack."""
    hosts, vms = {}, {}
    for rack in ("a", "b"):
        hosts[f"{rack}-drained"] = {"cpu": 16, "memory_mb": 65536, "nic_mbps": 10000, "switch": f"s{rack}"}
        hosts[f"{rack}-target"] = {"cpu": 64, "memory_mb": 262144, "nic_mbps": 10000, "switch": f"s{rack}"}
        for j in range(3):
            vms[f"{rack}{j}"] = {"host": f"{rack}-drained", "cpu": 2, "memory_mb": 4096, "used_mb": 2000}
    for i in range(8):
        hosts[f"b-extra{i}"] = {"cpu": 64, "memory_mb": 262144, "nic_mbps": 10000, "switch": "sb"}
    data = {"hosts": hosts, "vms": vms, "maintenance": {"drain": ["a-drained", "b-drained"]},
            "network": {"links": [{"name": "up", "ends": ["sa", "sb"], "member_mbps": 1000}]}}
    model = parse_model(data)
    placement = balanced_destinations(model, FlowInfo(model), sample=4)
    for vm, dest in placement.items():
        assert model.hosts[dest].switch == model.hosts[model.vms[vm].host].switch, (vm, dest)


def test_balanced_placement_breaks_ties_by_the_least_loaded_path():
    """h0 (25 Gb, rack s1) sends a 10 GB VM and a 4 GB one; "far" (rack s2, behind a layer2
    uplink of 10 Gb members) comes first among the least-loaded receive NICs once "near" (its
    own rack) holds the first VM. For the second VM both paths end at h0's NIC (14 GB at 25 Gb
    > 4 GB at 10 Gb): a tie, where the far path crosses two members for nothing. It stays near,
    and h0 is empty when its NIC has sent 14 GB."""
    host = {"cpu": 64, "memory_mb": 262144, "nic_mbps": 25000}
    data = {"hosts": {"h0": dict(host, switch="s1"), "near": dict(host, switch="s1"), "far": dict(host, switch="s2")},
            "vms": {"big": {"host": "h0", "cpu": 2, "memory_mb": 16384, "used_mb": 10000},
                    "small": {"host": "h0", "cpu": 2, "memory_mb": 8192, "used_mb": 4000}},
            "network": {"links": [{"name": "up", "ends": ["s1", "s2"], "members": 4, "member_mbps": 10000,
                                   "hash": "layer2"}]},
            "maintenance": {"drain": ["h0"]}}
    model = parse_model(data)
    assert balanced_destinations(model, FlowInfo(model)) == {"big": "near", "small": "near"}
