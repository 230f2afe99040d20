"""Local repair of a placement for layer2 bundles (member_balance.rebalance_members)."""
from ansible_collections.wavedrain.kvm.plugins.module_utils._planner.baselines import first_fit_destinations
from ansible_collections.wavedrain.kvm.plugins.module_utils._planner.checker import check_plan
from ansible_collections.wavedrain.kvm.plugins.module_utils._planner.member_balance import rebalance_members
from ansible_collections.wavedrain.kvm.plugins.module_utils._planner.model import parse_model
from ansible_collections.wavedrain.kvm.plugins.module_utils._planner.planner import plan_drain
from ansible_collections.wavedrain.kvm.plugins.module_utils._planner.schedule import FlowInfo


def one_member_model(hash_policy="layer2"):
    """h0 (rack ra) holds 4 VMs of 1,175 MB (10 s each over a 1 Gb member); t0 and t1 (rack rt,
    on, room for all of them) hash with h0 to members 0 and 1 of the 2 x 1 Gb uplink between
    the racks. First-fit sends everything to t0, over member 0. v3 is pinned to t0."""
    hosts = {"h0": {"cpu": 8, "memory_mb": 16384, "nic_mbps": 10000, "switch": "ra", "mac": "02:00:00:00:00:00",
                    "shutdown_s": 10},
             "t0": {"cpu": 8, "memory_mb": 16384, "nic_mbps": 10000, "switch": "rt", "mac": "02:00:00:00:01:00"},
             "t1": {"cpu": 8, "memory_mb": 16384, "nic_mbps": 10000, "switch": "rt", "mac": "02:00:00:00:01:01"}}
    vms = {f"v{i}": {"host": "h0", "cpu": 1, "memory_mb": 2048, "used_mb": 1175} for i in range(4)}
    vms["v3"]["destination"] = "t0"
    links = [{"name": "up", "ends": ["ra", "rt"], "members": 2, "member_mbps": 1000, "hash": hash_policy}]
    return parse_model({"hosts": hosts, "vms": vms, "network": {"links": links},
                        "maintenance": {"drain": ["h0"], "targets": ["t0", "t1"]}})


def member_seconds(model, placement):
    info, load = FlowInfo(model), {}
    for name, target in placement.items():
        for rid, cap in info.resources(model.vms[name].host, target):
            if rid[0] == "member":
                load[rid[2]] = load.get(rid[2], 0.0) + model.vms[name].used_mb / cap
    return load


def test_vms_move_off_the_busiest_member_to_targets_that_hash_to_another():
    model = one_member_model()
    first_fit = first_fit_destinations(model)
    assert set(first_fit.values()) == {"t0"}
    assert member_seconds(model, first_fit) == {0: 40.0}
    balanced = rebalance_members(model, FlowInfo(model), first_fit)
    assert member_seconds(model, balanced) == {0: 20.0, 1: 20.0}
    assert balanced["v3"] == "t0"                       # pinned: never moved
    assert first_fit == {f"v{i}": "t0" for i in range(4)}  # the input is not changed
    plan = plan_drain(model, time_limit_s=5)
    assert check_plan(model, plan) == []
    # two members at once: 20 s of data each, then the 10 s halt (one member alone: 40 s + 10 s)
    assert plan.predicted["completion_s"] < 40.0


def test_without_layer2_bundles_the_placement_is_returned_as_is():
    model = one_member_model("balanced")
    first_fit = first_fit_destinations(model)
    assert rebalance_members(model, FlowInfo(model), first_fit) is first_fit
