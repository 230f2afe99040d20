import textwrap

import pytest
import yaml

from ansible_collections.wavedrain.kvm.plugins.module_utils._planner.model import ModelError, parse_model


def errors_of(data):
    with pytest.raises(ModelError) as info:
        parse_model(data)
    return info.value.errors


def test_defaults_are_filled(small_dc):
    del small_dc["hosts"]["h1"]["boot_s"]
    del small_dc["vms"]["a"]["used_mb"]
    del small_dc["maintenance"]["targets"]
    model = parse_model(small_dc)
    assert model.hosts["h1"].boot_s == 120.0
    assert model.hosts["h1"].power_w.idle == 120.0
    assert model.vms["a"].used_mb == 4096          # defaults to memory_mb
    assert sorted(model.targets) == ["s1", "s2"]   # every host not drained
    assert model.constraints.max_online_hosts is None


def test_unquoted_yaml_on_off_is_read_as_power_state():
    data = yaml.safe_load(textwrap.dedent("""
        hosts:
          a: {cpu: 4, memory_mb: 8192, power: on}
          b: {cpu: 4, memory_mb: 8192, power: off}
        maintenance: {drain: [a]}
    """))
    assert data["hosts"]["a"]["power"] is True    # YAML 1.1 made it a boolean
    model = parse_model(data)
    assert model.hosts["a"].on and not model.hosts["b"].on


def test_all_errors_are_collected_and_name_the_object(small_dc):
    small_dc["vms"]["a"]["host"] = "nowhere"
    small_dc["maintenance"]["drain"].append("ghost")
    small_dc["hosts"]["s2"]["cpu"] = 0
    small_dc["hosts"]["s1"]["nic_mbps"] = -5
    small_dc["hosts"]["h2"]["mac"] = "02:00:zz"
    errors = errors_of(small_dc)
    joined = "\n".join(errors)
    assert "vms.a.host: unknown host 'nowhere'" in joined
    assert "maintenance.drain: unknown host 'ghost'" in joined
    assert "hosts.s2.cpu must be > 0" in joined
    assert "hosts.s1.nic_mbps must be > 0" in joined
    assert "hosts.h2.mac '02:00:zz' is not a MAC address" in joined
    assert len(errors) >= 5


def test_duplicate_names(small_dc):
    small_dc["vms"]["h1"] = {"host": "h2", "cpu": 1, "memory_mb": 512}
    small_dc["maintenance"]["drain"] = ["h1", "h1"]
    joined = "\n".join(errors_of(small_dc))
    assert "vms.h1: name also used by a host" in joined
    assert "host 'h1' listed twice" in joined


def test_a_switch_without_links_is_an_island_not_an_error(small_dc):
    small_dc["hosts"]["s2"]["switch"] = "island"
    model = parse_model(small_dc)
    assert model.island_of("s2") != model.island_of("h1") and not model.reachable("h1", "s2")
    assert model.island_of("s1") == model.island_of("h1") and model.reachable("h2", "s1")


def test_vm_bigger_than_any_target(small_dc):
    small_dc["vms"]["a"]["memory_mb"] = 20000
    small_dc["vms"]["a"]["used_mb"] = 1000
    joined = "\n".join(errors_of(small_dc))
    assert "vms.a (2 cpu, 20000 MB) is bigger than any target host" in joined


def test_total_free_capacity_too_small(small_dc):
    small_dc["maintenance"]["targets"] = ["s2"]
    for name in ("a", "b", "c"):
        small_dc["vms"][name]["cpu"] = 3
    joined = "\n".join(errors_of(small_dc))
    assert "targets have 8 free cpu but the drained hosts' VMs need 9" in joined


def test_max_online_below_hosts_already_on(small_dc):
    small_dc["constraints"]["max_online_hosts"] = 2
    joined = "\n".join(errors_of(small_dc))
    assert "max_online_hosts is 2 but 3 hosts are already on; raise it to at least 3" in joined


def test_unknown_keys_warn_but_do_not_fail(small_dc):
    small_dc["hosts"]["h1"]["colour"] = "red"
    small_dc["constraints"]["speed"] = 1
    model = parse_model(small_dc)
    assert any("hosts.h1: unknown key 'colour'" in w for w in model.warnings)
    assert any("constraints: unknown key 'speed'" in w for w in model.warnings)


def test_layer2_member_follows_mac_xor(small_dc):
    model = parse_model(small_dc)
    # h1 (..:01) -> s1 (..:03): 1 ^ 3 = 2 -> member 0 of 2; h1 -> s2 (..:04): 1 ^ 4 = 5 -> member 1
    members = {dst: [r for r, dummy in model.flow_resources("h1", dst) if r[0] == "member"][0][2]
               for dst in ("s1", "s2")}
    assert members == {"s1": 0, "s2": 1}
    # full duplex: the reverse direction is a different resource
    there = [r for r, dummy in model.flow_resources("h1", "s1") if r[0] == "member"][0]
    back = [r for r, dummy in model.flow_resources("s1", "h1") if r[0] == "member"][0]
    assert there != back and there[:3] == back[:3]


def test_balanced_bundle_is_one_pipe(small_dc):
    small_dc["network"]["links"][0]["hash"] = "balanced"
    model = parse_model(small_dc)
    caps = dict(model.flow_resources("h1", "s1"))
    assert caps[("bundle", "sw1-sw2", ">")] == pytest.approx(2 * 1000 * 0.94 / 8)
