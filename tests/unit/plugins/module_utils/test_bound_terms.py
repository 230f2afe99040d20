"""Each term of the proven lower bound on a small model worked out by hand; the planner's plan
(valid) never beats it. A 1 Gb NIC carries 1000 x 0.94 / 8 = 117.5 MB/s, a 10 Gb one 1,175 MB/s."""
import pytest

from ansible_collections.wavedrain.kvm.plugins.module_utils._planner.bound import bound_terms, lower_bound
from ansible_collections.wavedrain.kvm.plugins.module_utils._planner.checker import check_plan
from ansible_collections.wavedrain.kvm.plugins.module_utils._planner.milp import PlacementProblem
from ansible_collections.wavedrain.kvm.plugins.module_utils._planner.model import parse_model
from ansible_collections.wavedrain.kvm.plugins.module_utils._planner.planner import plan_drain

ROUNDING = 0.011      # predicted times are rounded to 0.01 s


def terms_of(data):
    model = parse_model(data)
    return model, {name: seconds for name, (seconds, dummy) in bound_terms(model, PlacementProblem(model)).items()}


def planned(model):
    plan = plan_drain(model, time_limit_s=5)
    assert check_plan(model, plan) == []
    assert plan.extra["lower_bound"]["completion_s"] == pytest.approx(lower_bound(model), abs=ROUNDING)
    return plan


def own_nic_model():
    """h0 (1 Gb, shuts down in 20 s) holds v0 (1,175 MB, any target) and v1 (235 MB, pinned to the
    off spare t1 that boots in 60 s); t0 is on. Both targets have 10 Gb NICs."""
    hosts = {"h0": {"cpu": 8, "memory_mb": 16384, "shutdown_s": 20},
             "t0": {"cpu": 8, "memory_mb": 16384, "nic_mbps": 10000},
             "t1": {"cpu": 8, "memory_mb": 16384, "nic_mbps": 10000, "power": "off", "boot_s": 60}}
    vms = {"v0": {"host": "h0", "memory_mb": 2048, "used_mb": 1175},
           "v1": {"host": "h0", "memory_mb": 2048, "used_mb": 235, "destination": "t1"}}
    return {"hosts": hosts, "vms": vms, "maintenance": {"drain": ["h0"], "targets": ["t0", "t1"]}}


def test_host_nic_counts_the_whole_host_through_its_nic_after_the_boot_its_vms_wait_for():
    model, terms = terms_of(own_nic_model())
    # v1 starts no earlier than t1's boot (60 s) and takes 235 / 117.5 = 2 s; all 1,410 MB take 12 s
    # from 0: the host is empty at max(60 + 2, 0 + 12) = 62 s and off 20 s later
    assert terms["host_nic"] == pytest.approx(82.0)
    plan = planned(model)
    assert plan.predicted["completion_s"] >= 82.0 - ROUNDING


def test_host_nic_uses_the_host_own_shutdown_and_set_up_time():
    data = own_nic_model()
    data["vms"]["v1"].pop("destination")
    data["hosts"]["h0"]["shutdown_s"] = 40
    data["network"] = {"migration_setup_s": 3}
    model, terms = terms_of(data)
    # both VMs may go to t0 (on): 3 s of set-up, 1,410 MB in 12 s, 40 s of shutdown
    assert terms["host_nic"] == pytest.approx(55.0)
    assert planned(model).predicted["completion_s"] >= 55.0 - ROUNDING


def late_target_model(island_with_room=False, linked=False):
    """h0 and h1 (10 Gb) hold one VM each (2 cpu, 1,175 MB); t0 is on with room for one of them
    (2 cpu free), t1 is an off spare (1 Gb, boots in 60 s). Optionally a third switch with an
    on target t2 that has room for both, linked to the others or not (another island)."""
    hosts = {"h0": {"cpu": 8, "memory_mb": 16384, "nic_mbps": 10000, "shutdown_s": 20},
             "h1": {"cpu": 8, "memory_mb": 16384, "nic_mbps": 10000, "shutdown_s": 20},
             "t0": {"cpu": 4, "memory_mb": 16384, "nic_mbps": 10000},
             "t1": {"cpu": 8, "memory_mb": 16384, "power": "off", "boot_s": 60}}
    vms = {"v0": {"host": "h0", "cpu": 2, "memory_mb": 2048, "used_mb": 1175},
           "v1": {"host": "h1", "cpu": 2, "memory_mb": 2048, "used_mb": 1175},
           "r0": {"host": "t0", "cpu": 2, "memory_mb": 2048, "used_mb": 500}}
    targets = ["t0", "t1"]
    links = []
    if island_with_room:
        hosts["t2"] = {"cpu": 16, "memory_mb": 16384, "nic_mbps": 10000, "switch": "pod2"}
        targets.append("t2")
        if linked:
            links.append({"name": "l", "ends": ["default", "pod2"], "members": 1, "member_mbps": 10000})
    return {"hosts": hosts, "vms": vms, "network": {"links": links},
            "maintenance": {"drain": ["h0", "h1"], "targets": targets}}


def test_late_targets_count_the_vms_the_targets_on_cannot_hold():
    model, terms = terms_of(late_target_model())
    # 4 cpu to place, 2 free on t0 (on): 2 cpu (one VM, 1,175 MB) must go to t1 after its 60 s
    # boot, through its 1 Gb NIC: 60 + 1175 / 117.5 = 70 s, then its source shuts down: 90 s.
    # Each host's own NIC alone says 1175 / 1175 + 20 = 21 s.
    assert terms["late_targets"] == pytest.approx(90.0)
    assert terms["host_nic"] == pytest.approx(21.0)
    assert planned(model).predicted["completion_s"] >= 90.0 - ROUNDING


def test_late_targets_count_room_island_by_island():
    # t2 has room for both VMs but no link reaches it: the bound stays 90 s
    model, terms = terms_of(late_target_model(island_with_room=True))
    assert terms["late_targets"] == pytest.approx(90.0)
    assert planned(model).predicted["completion_s"] >= 90.0 - ROUNDING
    # linked, t2 (on) takes them both at once: nothing has to wait for t1
    model, terms = terms_of(late_target_model(island_with_room=True, linked=True))
    assert terms["late_targets"] < 90.0 - 1


def cycle_model():
    """Two drained hosts (1 Gb, shut down in 20 s) with two VMs each (1 cpu, 1,175 MB); two off
    spares with room for one host's VMs each (2 cpu), booting in 60 s; the license lets one
    more host be on than at the start, so only a host's power-off makes room for a second spare."""
    hosts = {f"h{i}": {"cpu": 8, "memory_mb": 16384, "shutdown_s": 20} for i in range(2)}
    hosts.update({f"s{i}": {"cpu": 2, "memory_mb": 16384, "nic_mbps": 10000, "power": "off", "boot_s": 60}
                  for i in range(2)})
    vms = {f"v{i}{j}": {"host": f"h{i}", "cpu": 1, "memory_mb": 2048, "used_mb": 1175}
           for i in range(2) for j in range(2)}
    return {"hosts": hosts, "vms": vms, "constraints": {"max_online_hosts": 3},
            "maintenance": {"drain": ["h0", "h1"], "targets": ["s0", "s1"]}}


def test_boot_cycles_count_the_first_host_whole_data_then_one_cycle_per_slot():
    model, terms = terms_of(cycle_model())
    # first host off: a spare boots (60 s), its 2,350 MB leave through its 1 Gb NIC (20 s), it
    # shuts down (20 s): 100 s. Only then may the second spare boot: one more cycle of at least
    # 60 s boot + the shortest migration (1175 / 117.5 = 10 s) + 20 s shutdown = 90 s: 190 s.
    # (Counting every cycle as 90 s said 180 s.)
    assert terms["boot_cycles"] == pytest.approx(190.0)
    assert terms["host_nic"] == pytest.approx(100.0)
    plan = planned(model)
    assert plan.predicted["completion_s"] >= 190.0 - ROUNDING
    assert plan.predicted["max_online_hosts"] <= 3


def member_set_model():
    """h0 and h1 (10 Gb, MACs ending 01 and 05) hold two VMs of 1,175 MB each, h2 (MAC ending 00)
    one of 235 MB; the off spares t0 and t1 (10 Gb, boot in 60 s, MACs ending 01 and 03) are
    behind a layer2 bundle of 4 x 1 Gb. A flow hashes to member (source XOR spare) mod 4: h0's
    and h1's to 0 or 2, h2's to 1 or 3."""
    def host(mac, switch, **extra):
        return dict({"cpu": 32, "memory_mb": 65536, "nic_mbps": 10000, "shutdown_s": 30, "switch": switch,
                     "mac": f"02:00:00:00:00:{mac}"}, **extra)
    hosts = {"h0": host("01", "a"), "h1": host("05", "a"), "h2": host("00", "a"),
             "t0": host("01", "b", power="off", boot_s=60), "t1": host("03", "b", power="off", boot_s=60)}
    vms = {f"v{h}{i}": {"host": f"h{h}", "memory_mb": 2048, "used_mb": 1175} for h in range(2) for i in range(2)}
    vms["v20"] = {"host": "h2", "memory_mb": 2048, "used_mb": 235}
    link = {"name": "ab", "ends": ["a", "b"], "members": 4, "member_mbps": 1000, "hash": "layer2"}
    return {"hosts": hosts, "vms": vms, "network": {"links": [link]},
            "maintenance": {"drain": ["h0", "h1", "h2"], "targets": ["t0", "t1"]}}


def test_lp_counts_the_members_a_layer2_bundle_can_use():
    model, terms = terms_of(member_set_model())
    # h0's and h1's 4,700 MB through members 0 and 2 (2 x 117.5 MB/s) = 20 s after the 60 s boot,
    # then 30 s of shutdown; the whole bundle (4,935 MB over 4 members) said 60 + 10.5 + 30 s
    assert terms["lp"] == pytest.approx(110.0, abs=0.01)
    plan = planned(model)
    assert plan.predicted["completion_s"] >= 110.0 - ROUNDING
    used = {(a.source, rid[2]) for a in plan.actions if a.type == "migrate"
            for rid, dummy in model.flow_resources(a.source, a.destination) if rid[0] == "member"}
    assert {member for source, member in used if source != "h2"} <= {0, 2}
