"""Boot cascades under max_online_hosts / power_budget_w (planner cascade placement, the lane
scheduler's ``order`` rule, the power headroom of the first boots)."""
import pytest

from ansible_collections.wavedrain.kvm.plugins.module_utils._planner.baselines import TargetRoom, first_fit_destinations
from ansible_collections.wavedrain.kvm.plugins.module_utils._planner.cascade import (
    _balance_links, _late_vms, _longest_first, _place_tail, _tail_placement, boots_capped, cascade_destinations, cascade_order, spare_order)
from ansible_collections.wavedrain.kvm.plugins.module_utils._planner.checker import check_plan
from ansible_collections.wavedrain.kvm.plugins.module_utils._planner.model import parse_model
from ansible_collections.wavedrain.kvm.plugins.module_utils._planner.planner import plan_drain
from ansible_collections.wavedrain.kvm.plugins.module_utils._planner.schedule import (
    FlowInfo, build_lane_plan, moving_load_w, online_headroom)
from ansible_collections.wavedrain.kvm.plugins.module_utils._planner.simulator import annotate


def two_rack_model(online_extra=1):
    """Racks ra and rb hold 4 drained hosts each (one VM of 2 cpu and 1,175 MB: 10 s over their
    rack's 1 Gb uplink); rack rs holds two off spares of 8 cpu (4 VMs each, boot 60 s) behind a
    10 Gb uplink. max_online_hosts lets ``online_extra`` spares boot before a drained host is off."""
    hosts, vms = {}, {}
    for rack in ("ra", "rb"):
        for i in range(4):
            name = f"{rack}{i}"
            hosts[name] = {"cpu": 8, "memory_mb": 16384, "nic_mbps": 10000, "switch": rack, "shutdown_s": 10}
            vms[f"{name}-vm"] = {"host": name, "cpu": 2, "memory_mb": 2048, "used_mb": 1175}
    for i in range(2):
        hosts[f"s{i}"] = {"cpu": 8, "memory_mb": 16384, "nic_mbps": 10000, "switch": "rs", "power": "off",
                          "boot_s": 60}
    links = [{"name": "up-ra", "ends": ["ra", "core"], "members": 1, "member_mbps": 1000},
             {"name": "up-rb", "ends": ["rb", "core"], "members": 1, "member_mbps": 1000},
             {"name": "up-rs", "ends": ["rs", "core"], "members": 1, "member_mbps": 10000}]
    drain = [f"ra{i}" for i in range(4)] + [f"rb{i}" for i in range(4)]
    return {"hosts": hosts, "vms": vms, "network": {"links": links},
            "maintenance": {"drain": drain, "targets": ["s0", "s1"]},
            "constraints": {"max_online_hosts": len(drain) + online_extra}}


def two_hosts_into_three_spares(vms, spares, spare_cpu):
    """ra0 and ra1 of ``two_rack_model`` drained, with ``vms`` ({name: (host, cpu, used_mb)},
    1,024 MB each) into ``spares`` (off, ``spare_cpu`` cpu, 16 GB, boot 60 s, rack rs)."""
    data = two_rack_model()
    data["hosts"] = {"ra0": data["hosts"]["ra0"], "ra1": data["hosts"]["ra1"]}
    data["vms"] = {name: {"host": host, "cpu": cpu, "memory_mb": 1024, "used_mb": used_mb}
                   for name, (host, cpu, used_mb) in vms.items()}
    for spare in spares:
        data["hosts"][spare] = {"cpu": spare_cpu, "memory_mb": 16384, "switch": "rs", "power": "off", "boot_s": 60}
    data["maintenance"] = {"drain": ["ra0", "ra1"], "targets": list(spares)}
    return parse_model(data)


def lane_plan(model, placement, **kwargs):
    plan = build_lane_plan(model, placement, flows_info=FlowInfo(model), **kwargs)
    annotate(model, plan)
    assert check_plan(model, plan) == []
    return plan


def test_cascade_order_alternates_racks_and_takes_the_lightest_hosts_first():
    data = two_rack_model()
    data["vms"]["ra0-vm"]["cpu"] = 3          # heaviest of rack ra: last of it
    data["vms"]["rb1-vm"]["cpu"] = 1          # lightest of rack rb: first of it
    model = parse_model(data)
    assert cascade_order(model) == ["ra1", "rb1", "ra2", "rb0", "ra3", "rb2", "ra0", "rb3"]


def test_spare_order_puts_targets_on_first_then_fastest_boots_with_racks_alternating():
    data = two_rack_model()
    data["hosts"].update({"t": {"cpu": 8, "memory_mb": 16384, "switch": "rt"},
                          "s2": {"cpu": 8, "memory_mb": 16384, "switch": "rt", "power": "off", "boot_s": 60},
                          "s3": {"cpu": 8, "memory_mb": 16384, "switch": "rs", "power": "off", "boot_s": 30}})
    data["maintenance"]["targets"] = ["s0", "s1", "s2", "s3", "t"]
    assert spare_order(parse_model(data)) == ["t", "s3", "s0", "s2", "s1"]


def test_a_capped_cascade_sends_each_cycle_through_both_drained_racks():
    model = parse_model(two_rack_model())
    placement = first_fit_destinations(model, fast_spares=True)
    assert boots_capped(model, placement)
    listed = lane_plan(model, placement)
    cascade, order = cascade_destinations(model, FlowInfo(model))
    cascaded = lane_plan(model, cascade, rule="order", order=order)
    # both: boot 60 s, the first host empty 10 s later and off 10 s after, s1 booted at 140 s.
    # Listed order: the last 4 hosts queue on rack rb's 1 Gb uplink (40 s, off at 190 s);
    # alternating racks: 2 hosts at a time on both uplinks (20 s, off at 170 s)
    assert {model.vms[v].host for v, d in cascade.items() if d == "s0"} == {"ra0", "ra1", "rb0", "rb1"}
    assert listed.predicted["completion_s"] == pytest.approx(190.0)
    assert cascaded.predicted["completion_s"] == pytest.approx(170.0)
    boot_s1 = next(a for a in cascaded.actions if a.type == "power_on" and a.host == "s1")
    assert len(boot_s1.after) == 1 and boot_s1.after[0].startswith("halt/")
    plan = plan_drain(model, time_limit_s=5)
    assert plan.predicted["completion_s"] <= cascaded.predicted["completion_s"] + 0.01


def test_without_a_binding_cap_no_cascade_is_needed():
    model = parse_model(two_rack_model(online_extra=2))
    assert not boots_capped(model, first_fit_destinations(model))


def power_model(budget_margin_w, spare_max_w=600.0):
    """One drained host (idle 100 W, 1 VM of 2 cpu at full load on 8 cpu: 150 W) and three off
    spares (off 10, boot 200, idle 100, max ``spare_max_w``). The budget is the present draw plus
    ``budget_margin_w``."""
    data = two_rack_model(online_extra=3)
    data["hosts"] = {name: spec for name, spec in data["hosts"].items() if name in ("ra0", "s0", "s1")}
    data["hosts"]["s2"] = dict(data["hosts"]["s1"])
    data["hosts"]["ra0"]["power_w"] = {"off": 10, "idle": 100, "boot": 200, "max": 300}
    for spare in ("s0", "s1", "s2"):
        data["hosts"][spare]["power_w"] = {"off": 10, "idle": 100, "boot": 200, "max": spare_max_w}
    data["vms"] = {"ra0-vm": data["vms"]["ra0-vm"]}
    data["maintenance"] = {"drain": ["ra0"], "targets": ["s0", "s1", "s2"]}
    data["constraints"] = {"power_budget_w": 150 + 30 + budget_margin_w}
    return parse_model(data)


def test_a_spare_costs_its_boot_power_not_its_full_load_when_slopes_match():
    # slopes: drained (300 - 100) / 8 = 25 W/cpu, spares (600 - 100) / 8 = 62.5 W/cpu: the VM's
    # 2 cpu may cost 2 x 37.5 = 75 W more on a spare; each spare costs max(boot, idle) - off = 190 W
    model = power_model(0)
    assert moving_load_w(model) == pytest.approx(75.0)
    assert online_headroom(power_model(75 + 2 * 190)) == 2
    assert online_headroom(power_model(75 + 2 * 190 - 1)) == 1
    assert moving_load_w(power_model(0, spare_max_w=300)) == 0.0
    assert online_headroom(power_model(3 * 190, spare_max_w=300)) == 3


def test_the_last_spare_receives_the_vms_with_least_data():
    """Four drained hosts each hold a dense VM (1 cpu, 1,000 MB to send) and a light one (1 cpu,
    100 MB); two spares of 4 cpu, one may boot before a host is off. The first host goes whole
    into s0 and its halt lets s1 boot; the other hosts' dense VMs fill s0's room first, so s1,
    which boots a cycle later, receives 1 dense and 3 light VMs (1,300 MB), where a first-fit in
    the listed order sends it 2 of each (2,200 MB)."""
    data = two_rack_model()
    data["hosts"] = {name: spec for name, spec in data["hosts"].items() if name in ("ra0", "ra1", "ra2", "ra3")}
    data["vms"] = {}
    for host in data["hosts"]:
        data["vms"][f"{host}-dense"] = {"host": host, "cpu": 1, "memory_mb": 2048, "used_mb": 1000}
        data["vms"][f"{host}-light"] = {"host": host, "cpu": 1, "memory_mb": 2048, "used_mb": 100}
    for spare in ("s0", "s1"):
        data["hosts"][spare] = {"cpu": 4, "memory_mb": 16384, "switch": "rs", "power": "off", "boot_s": 60}
    data["maintenance"] = {"drain": ["ra0", "ra1", "ra2", "ra3"], "targets": ["s0", "s1"]}
    data["constraints"] = {"max_online_hosts": 5}
    model = parse_model(data)
    placement, order = cascade_destinations(model, FlowInfo(model))
    late = sum(model.vms[v].used_mb for v, d in placement.items() if d == "s1")
    listed = first_fit_destinations(model)
    assert late == 1300
    assert sum(model.vms[v].used_mb for v, d in listed.items() if d == "s1") == 2200
    plan = lane_plan(model, placement, rule="order", order=order)
    boots = [a for a in plan.actions if a.type == "power_on"]
    assert [a.host for a in boots] == ["s0", "s1"] and boots[1].after == [f"halt/{order[0]}"]


def test_the_late_spares_take_only_the_least_data_the_early_room_cannot_hold():
    """Two early spares with 2 cpu free each; the tail holds two dense 1-cpu VMs and two 2-cpu
    VMs of 600 and 200 MB: one 2-cpu VM must wait for the late spare. Set aside by least data
    per cpu, only the 200 MB VM waits (the others fit, the 2-cpu one first); when all fit, none
    waits."""
    model = two_hosts_into_three_spares({"a": ("ra0", 1, 1000), "b": ("ra0", 1, 900), "c": ("ra1", 2, 600),
                                         "d": ("ra1", 2, 200)}, ("s0", "s1", "s2"), spare_cpu=2)
    room = TargetRoom(model)
    vms, rank = list(model.vms.values()), {"ra0": 0, "ra1": 1}
    assert _late_vms(room, vms, ["s0", "s1"], rank) == {"d"}
    assert _late_vms(room, [v for v in vms if v.name != "d"], ["s0", "s1"], rank) == set()
    assert room.free_cpu == {"s0": 2, "s1": 2, "s2": 2}     # the trials leave the room as it was


def test_a_cascade_boots_its_spares_in_its_own_order():
    """The lane scheduler boots spares in order of first use unless given the cascade's order:
    with room for one spare, s1 first, and s0 only after the first halt."""
    model = parse_model(two_rack_model())
    placement = {f"{h}-vm": ("s1" if h in ("ra0", "rb0", "ra1", "rb1") else "s0") for h in model.drain}
    order = ["ra0", "rb0", "ra1", "rb1", "ra2", "rb2", "ra3", "rb3"]
    default = lane_plan(model, placement, rule="order", order=list(reversed(order)))
    assert [a.host for a in default.actions if a.type == "power_on"] == ["s0", "s1"]
    plan = lane_plan(model, placement, rule="order", order=list(reversed(order)), boot_order=["s1", "s0"])
    boots = [a for a in plan.actions if a.type == "power_on"]
    assert [a.host for a in boots] == ["s1", "s0"]
    assert boots[0].after == [] and boots[1].after[0].startswith("halt/")


def test_spares_of_one_rack_and_boot_time_cover_the_layer2_members_in_turn():
    """A flow rides member (source MAC xor spare MAC) mod 4 of a layer2 uplink: spares whose
    MACs agree there send a host's flows to one member. Listed by name, the first two spares
    (MACs ending 01 and 05) would both be class 1; in turn over the classes they are 01, 02,
    03, then 05."""
    data = two_rack_model()
    data["network"]["links"] = [{"name": "up-ra", "ends": ["ra", "core"], "members": 4, "member_mbps": 1000,
                                 "hash": "layer2"},
                                {"name": "up-rb", "ends": ["rb", "core"], "members": 1, "member_mbps": 1000},
                                {"name": "up-rs", "ends": ["rs", "core"], "members": 1, "member_mbps": 10000}]
    for name, last in (("s0", "01"), ("s1", "05"), ("s2", "02"), ("s3", "03")):
        data["hosts"][name] = {"cpu": 8, "memory_mb": 16384, "switch": "rs", "power": "off", "boot_s": 60,
                               "mac": f"02:00:00:00:01:{last}"}
    data["maintenance"]["targets"] = ["s0", "s1", "s2", "s3"]
    data["constraints"] = {"max_online_hosts": 8 + 4}      # every spare at once: the listed order
    assert spare_order(parse_model(data)) == ["s0", "s2", "s3", "s1"]


def test_the_spare_booted_by_the_last_cycle_is_the_fastest_of_the_later_ones():
    """Eight drained hosts with one 2-cpu VM each, spares of 4 cpu (two VMs), one may boot at
    first: the first cycle empties two hosts into s0, whose halts boot two spares; the second
    cycle empties one host, whose halt boots the last spare. Fastest first, that last spare
    would be the 90 s one (d): it boots after the second cycle's halt, on the drain's critical
    path, so it trades places with the 60 s spare of the cycle before (c)."""
    data = two_rack_model()
    spares = {"a": 30, "b": 60, "c": 60, "d": 90}
    for name, boot in spares.items():
        data["hosts"][name] = {"cpu": 4, "memory_mb": 16384, "switch": "rs", "power": "off", "boot_s": boot}
    data["hosts"] = {h: spec for h, spec in data["hosts"].items() if h not in ("s0", "s1")}
    data["maintenance"]["targets"] = list(spares)
    model = parse_model(data)
    assert spare_order(model) == ["a", "b", "d", "c"]
    placement, order = cascade_destinations(model, FlowInfo(model))
    plan = lane_plan(model, placement, rule="order", order=order, boot_order=spare_order(model))
    boots = {a.host: a for a in plan.actions if a.type == "power_on"}
    halts = {a.id: a for a in plan.actions if a.type == "power_off"}
    # c boots last, after the halt of the host the second cycle emptied
    assert boots["c"].end_s == pytest.approx(halts[boots["c"].after[0]].end_s + 60)
    assert boots["c"].start_s == max(b.start_s for b in boots.values())


def test_the_tail_balance_swaps_same_size_vms_off_the_busiest_member():
    """Two hosts behind a 2-member layer2 uplink; spare t0 is reached over member 0, t1 over
    member 1. Both 1,000 MB VMs go to t0 and a 100 MB one of the same size to t1: member 0
    carries 2,000 MB. Swapping one large VM with the small one (same cpu and memory: the
    spares' room is unchanged) leaves 1,100 and 1,000 MB."""
    data = two_rack_model()
    data["hosts"] = {"ra0": dict(data["hosts"]["ra0"], mac="02:00:00:00:00:00"),
                     "ra1": dict(data["hosts"]["ra1"], mac="02:00:00:00:00:02")}
    for name, last in (("t0", "00"), ("t1", "01")):
        data["hosts"][name] = {"cpu": 8, "memory_mb": 16384, "switch": "rs", "power": "off", "boot_s": 60,
                               "mac": f"02:00:00:00:01:{last}"}
    data["network"]["links"] = [{"name": "up-ra", "ends": ["ra", "core"], "members": 2, "member_mbps": 1000,
                                 "hash": "layer2"},
                                {"name": "up-rs", "ends": ["rs", "core"], "members": 1, "member_mbps": 10000}]
    data["vms"] = {"big0": {"host": "ra0", "cpu": 2, "memory_mb": 2048, "used_mb": 1000},
                   "big1": {"host": "ra1", "cpu": 2, "memory_mb": 2048, "used_mb": 1000},
                   "small": {"host": "ra1", "cpu": 2, "memory_mb": 2048, "used_mb": 100}}
    data["maintenance"] = {"drain": ["ra0", "ra1"], "targets": ["t0", "t1"]}
    model = parse_model(data)
    info = FlowInfo(model)
    room = TargetRoom(model)
    placement = {"big0": "t0", "big1": "t0", "small": "t1"}
    for name, target in placement.items():
        room.place(model.vms[name], target)

    def member_mb():
        out = {}
        for name, target in placement.items():
            rid = next(r for r, dummy in info.resources(model.vms[name].host, target) if r[0] == "member")
            out[rid[2]] = out.get(rid[2], 0) + model.vms[name].used_mb
        return out
    assert member_mb() == {0: 2000, 1: 100}
    _balance_links(info, room, placement, list(model.vms.values()), lambda t: 0)
    assert sorted(member_mb().values()) == [1000, 1100]
    assert room.free_cpu == {"t0": 4, "t1": 6}
    assert room.residents["t1"] | room.residents["t0"] == {"big0", "big1", "small"}


def test_a_room_takes_back_a_removed_vm_and_swapped_vms_keep_its_free_room():
    """``remove`` undoes ``place`` (room and residents); ``swap`` trades two same-size VMs'
    targets: the residents change (a spread group sees it), the free room does not."""
    data = two_rack_model()
    data["constraints"]["spread"] = [["ra0-vm", "ra1-vm"]]
    model = parse_model(data)
    room, a, b, c = TargetRoom(model), model.vms["ra0-vm"], model.vms["ra1-vm"], model.vms["ra2-vm"]
    room.place(a, "s0")
    room.place(c, "s1")
    assert not room.fits(b, "s0") and room.fits(b, "s1")
    room.swap(a, "s0", c, "s1")
    assert room.residents == {"s0": {"ra2-vm"}, "s1": {"ra0-vm"}}
    assert room.free_cpu == {"s0": 6, "s1": 6} and room.free_mem == {"s0": 14336, "s1": 14336}
    assert room.fits(b, "s0") and not room.fits(b, "s1")
    room.remove(a, "s1")
    assert room.residents == {"s0": {"ra2-vm"}, "s1": set()}
    assert room.free_cpu == {"s0": 6, "s1": 8} and room.free_mem == {"s0": 14336, "s1": 16384}
    assert room.fits(b, "s1")


def test_the_tail_hosts_go_most_work_first_their_shutdown_included():
    """Work = data through the host's own NIC (10 Gb at 94 %: 1,175 MB/s) + shutdown. rb0 sends
    14,100 MB (12 s) and halts in 30 s: 42 s; ra0 sends 1,175 MB (1 s) and halts in 40 s: 41 s;
    ra1 holds no VM and halts in 10 s. By shutdown alone ra0 would go first."""
    data = two_rack_model()
    data["hosts"]["ra0"]["shutdown_s"] = 40
    data["hosts"]["rb0"]["shutdown_s"] = 30
    data["vms"]["rb0-vm"].update(memory_mb=14336, used_mb=14100)
    del data["vms"]["ra1-vm"]
    model = parse_model(data)
    assert _longest_first(model, ["ra1", "ra0", "rb0"]) == ["rb0", "ra0", "ra1"]


def test_a_tail_that_spills_beyond_the_needed_spares_is_packed_instead():
    """Two needed spares of 4 cpu (t0, t1) and one more (t2) that would need another halt. The
    tail (1-cpu VMs of 1,000 and 900 MB, 3-cpu VMs of 300 and 200 MB) placed densest first puts
    both 1-cpu VMs on t0 (their paths tie on the source's uplink), then one 3-cpu VM fits only
    t1 and the other only t2. Packed, largest first into the first spare with room, all four fit
    t0 and t1."""
    model = two_hosts_into_three_spares({"x1": ("ra0", 1, 1000), "y1": ("ra0", 3, 300), "x2": ("ra1", 1, 900),
                                         "y2": ("ra1", 3, 200)}, ("t0", "t1", "t2"), spare_cpu=4)
    info, tiers = FlowInfo(model), [[], ["t0", "t1"], ["t2"]]
    densest = {}
    _place_tail(model, info, TargetRoom(model), densest, ["ra0", "ra1"], tiers)
    assert "t2" in densest.values()
    room, placement = _tail_placement(model, info, TargetRoom(model), {}, ["ra0", "ra1"], tiers)
    assert set(placement.values()) == {"t0", "t1"} and len(placement) == 4
    assert room.free_cpu == {"t0": 0, "t1": 0, "t2": 4}
