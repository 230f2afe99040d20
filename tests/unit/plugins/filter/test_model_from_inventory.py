"""wavedrain.kvm.model_from_inventory: inventory variables + facts -> a valid planner model."""
import copy

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.wavedrain.kvm.plugins.filter.model_from_inventory import model_from_inventory
from ansible_collections.wavedrain.kvm.plugins.module_utils._planner.model import parse_model

SITE = {
    "wavedrain_links": [{"name": "sw1-sw2", "ends": ["sw1", "sw2"], "members": 3, "member_mbps": 100,
                         "hash": "layer2"}],
    "wavedrain_max_online_hosts": 6, "wavedrain_max_downtime_ms": 300,
    "wavedrain_power_w": {"off": 0, "idle": 120, "boot": 130, "max": 170},
    "wavedrain_boot_s": 1, "wavedrain_shutdown_s": 1,
}


def facts(name, mac, domains=(), cpu=2, memory_mb=8000, speed=10000):
    return {"reachable": True, "msg": "",
            "hypervisor": {"hostname": name, "cpu": cpu, "memory_mb": memory_mb},
            "migration_interface": {"name": "eth0", "mac": mac, "speed_mbps": speed},
            "domains": [dict({"running": True, "vcpus": 1, "memory_mb": 134.2, "used_mb": 120.0,
                              "dirty_mb_s": 0.0}, **d) for d in domains]}


@pytest.fixture
def hostvars():
    hv = {}
    for i, (name, switch) in enumerate([("h1", "sw1"), ("h2", "sw1"), ("h3", "sw1"), ("h4", "sw2"),
                                        ("h5", "sw2"), ("h6", "sw2")], start=1):
        mac = "02:77:00:00:00:%02x" % i
        hv[name] = dict(SITE, wavedrain_switch=switch, wavedrain_mac=mac, wavedrain_nic_mbps=100,
                        wavedrain_cpu=2, wavedrain_memory_mb=1024, wavedrain_bmc_address="10.77.1.%d" % (100 + i),
                        wavedrain_bmc_user="admin", wavedrain_bmc_password="secret")
        if name not in ("h5", "h6"):
            doms = [{"name": "vm%d" % i}] if name in ("h1", "h2") else []
            hv[name]["wavedrain_facts"] = facts(name, mac, doms)
        else:
            hv[name]["wavedrain_facts"] = {"reachable": False, "msg": "Connection refused"}
    return hv


HOSTS = ["h1", "h2", "h3", "h4", "h5", "h6"]
POWER = {"h5": "off", "h6": "off"}


def test_builds_a_valid_model(hostvars):
    model = model_from_inventory(hostvars, HOSTS, ["h1", "h2"], ["h4", "h5"], power=POWER)
    parsed = parse_model(model)
    assert sorted(parsed.hosts) == HOSTS
    assert {n: h.on for n, h in parsed.hosts.items()} == {"h1": True, "h2": True, "h3": True, "h4": True,
                                                          "h5": False, "h6": False}
    assert {n: v.host for n, v in parsed.vms.items()} == {"vm1": "h1", "vm2": "h2"}
    assert parsed.hosts["h4"].switch == "sw2" and parsed.hosts["h4"].mac == "02:77:00:00:00:04"
    assert parsed.hosts["h1"].memory_mb == 1024      # the inventory caps the measured 8000
    assert parsed.hosts["h1"].nic_mbps == 100        # the inventory wins over the veth's 10000
    assert parsed.drain == ["h1", "h2"] and parsed.targets == ["h4", "h5"]
    assert parsed.constraints.max_online_hosts == 6 and parsed.links[0].members == 3
    assert model["hosts"]["h1"]["bmc"] == {"address": "10.77.1.101", "user": "admin"}
    assert "secret" not in repr(model)


def test_targets_default_to_every_other_host(hostvars):
    model = model_from_inventory(hostvars, HOSTS, ["h1"], power=POWER)
    assert model["maintenance"]["targets"] == ["h2", "h3", "h4", "h5", "h6"]


def test_measured_values_when_the_inventory_is_silent(hostvars):
    for hv in hostvars.values():
        for var in ("wavedrain_cpu", "wavedrain_memory_mb", "wavedrain_nic_mbps", "wavedrain_mac"):
            hv.pop(var)
    out = model_from_inventory(hostvars, HOSTS[:4], ["h1"], details=True)
    assert out["model"]["hosts"]["h1"]["memory_mb"] == 8000
    assert out["model"]["hosts"]["h1"]["nic_mbps"] == 10000
    assert out["model"]["hosts"]["h1"]["mac"] == "02:77:00:00:00:01"


def test_vm_overrides_and_defaults(hostvars):
    for hv in hostvars.values():
        hv["wavedrain_vms"] = {"vm1": {"dirty_mb_s": 1.05}}
        hv["wavedrain_vm_defaults"] = {"wws_mb": 0.25}
    model = model_from_inventory(hostvars, HOSTS, ["h1", "h2"], power=POWER)
    assert model["vms"]["vm1"]["dirty_mb_s"] == 1.05 and model["vms"]["vm2"]["dirty_mb_s"] == 0.0
    assert model["vms"]["vm1"]["wws_mb"] == 0.25


def test_a_noisy_dirty_rate_is_doubted_unless_overridden(hostvars):
    """A reading whose page-sampling error exceeds a quarter of it (and 1 MB/s) is warned about,
    naming the VM and the two fixes; a precise reading, or an overridden VM, is not."""
    hostvars["h1"]["wavedrain_facts"]["domains"][0].update(dirty_mb_s=6.29, dirty_error_mb_s=2.57)
    hostvars["h2"]["wavedrain_facts"]["domains"][0].update(dirty_mb_s=52.4, dirty_error_mb_s=3.2)
    out = model_from_inventory(hostvars, HOSTS, ["h1", "h2"], power=POWER, details=True)
    doubts = [w for w in out["warnings"] if "page sampling" in w]
    assert doubts == ["vm1 on h1: dirty rate measured 6.29 +- 2.57 MB/s (page sampling): the plan may be off "
                      "by that much; measure more rounds (plan_dirty_rate_rounds) or set "
                      "wavedrain_vms.vm1.dirty_mb_s"]
    for hv in hostvars.values():
        hv["wavedrain_vms"] = {"vm1": {"dirty_mb_s": 3.15}}
    out = model_from_inventory(hostvars, HOSTS, ["h1", "h2"], power=POWER, details=True)
    assert not [w for w in out["warnings"] if "page sampling" in w]
    assert out["model"]["vms"]["vm1"]["dirty_mb_s"] == 3.15


def test_overrides_win_and_empty_survey_answers_are_unset(hostvars):
    model = model_from_inventory(hostvars, HOSTS, ["h1"], power=POWER,
                                 overrides={"wavedrain_max_online_hosts": 5, "wavedrain_power_budget_w": "",
                                            "wavedrain_deadline_s": 600})
    assert model["constraints"]["max_online_hosts"] == 5
    assert model["constraints"]["deadline_s"] == 600 and "power_budget_w" not in model["constraints"]


def test_extra_vars_strings_are_converted(hostvars):
    """-e wavedrain_max_online_hosts=5 arrives as a string."""
    model = model_from_inventory(hostvars, HOSTS, ["h1"], power=POWER,
                                 overrides={"wavedrain_max_online_hosts": "5", "wavedrain_deadline_s": "600",
                                            "wavedrain_allow_non_live": "yes"})
    assert model["constraints"]["max_online_hosts"] == 5
    assert model["constraints"]["deadline_s"] == 600.0 and model["constraints"]["allow_non_live"] is True
    with pytest.raises(AnsibleFilterError, match="wavedrain_max_online_hosts='five' is not an integer"):
        model_from_inventory(hostvars, HOSTS, ["h1"], power=POWER, overrides={"wavedrain_max_online_hosts": "five"})


def test_one_error_line_per_host(hostvars):
    del hostvars["h5"]["wavedrain_cpu"]
    del hostvars["h5"]["wavedrain_mac"]
    hostvars["h3"]["wavedrain_mac"] = "02:77:00:00:00:99"          # contradicts the measured MAC
    hostvars["h4"]["wavedrain_memory_mb"] = 9000                    # more than the host has
    del hostvars["h6"]["wavedrain_switch"]
    with pytest.raises(AnsibleFilterError) as err:
        model_from_inventory(hostvars, HOSTS, ["h1"], power=POWER)
    lines = [l for l in str(err.value).splitlines() if l.strip().startswith("- ")]
    assert len(lines) == 4, str(err.value)
    text = str(err.value)
    assert "h5: missing wavedrain_cpu" in text and "missing wavedrain_mac" in text
    assert "h3: wavedrain_mac=02:77:00:00:00:99 but the migration interface eth0 has MAC 02:77:00:00:00:03" in text
    assert "h4: wavedrain_memory_mb=9000" in text and "h6: missing wavedrain_switch" in text


def test_site_wide_variables_must_agree(hostvars):
    hostvars["h2"]["wavedrain_max_online_hosts"] = 4
    with pytest.raises(AnsibleFilterError, match="wavedrain_max_online_hosts differs between hosts"):
        model_from_inventory(hostvars, HOSTS, ["h1"], power=POWER)


def test_silent_host_to_drain_is_fatal(hostvars):
    hostvars["h2"]["wavedrain_facts"] = {"reachable": False, "msg": "timed out"}
    with pytest.raises(AnsibleFilterError, match="h2: must be drained but does not answer"):
        model_from_inventory(hostvars, HOSTS, ["h1", "h2"], power=dict(POWER, h2="on"))


def test_silent_host_elsewhere_is_reported(hostvars):
    hostvars["h3"]["wavedrain_facts"] = {"reachable": False, "msg": "timed out"}
    out = model_from_inventory(hostvars, HOSTS, ["h1"], power=POWER, details=True)
    assert out["excluded"] == {"h3": "timed out"}
    assert "h3" not in out["model"]["maintenance"]["targets"]
    assert out["model"]["hosts"]["h3"]["power"] == "on"          # still counts for power and licenses
    assert any("h3: does not answer" in w for w in out["warnings"])


def test_off_host_from_inventory_power_without_bmc(hostvars):
    hostvars["h5"]["wavedrain_power"] = "off"
    model = model_from_inventory(hostvars, HOSTS, ["h1"], power={"h6": "off"})
    assert model["hosts"]["h5"]["power"] == "off"


def test_drain_outside_scope_and_empty_drain(hostvars):
    with pytest.raises(AnsibleFilterError) as err:
        model_from_inventory(hostvars, HOSTS, ["h9"], power=POWER)
    assert "h9: in wavedrain_drain but not among the hypervisors" in str(err.value)
    with pytest.raises(AnsibleFilterError, match="selects no host"):
        model_from_inventory(hostvars, HOSTS, [], power=POWER)


def test_planner_errors_are_reported(hostvars):
    hv = copy.deepcopy(hostvars)
    for h in hv.values():
        # a link of zero speed: only the model parser knows (switches without links are islands now)
        h["wavedrain_links"] = [{"name": "sw1-sw2", "ends": ["sw1", "sw2"], "members": 3, "member_mbps": 0}]
    with pytest.raises(AnsibleFilterError, match="the model built from the inventory is invalid"):
        model_from_inventory(hv, HOSTS, ["h1"], power=POWER)


def test_vm_seen_twice(hostvars):
    hostvars["h3"]["wavedrain_facts"]["domains"] = [dict(hostvars["h1"]["wavedrain_facts"]["domains"][0])]
    with pytest.raises(AnsibleFilterError, match="VM vm1 runs on h1 and on h3"):
        model_from_inventory(hostvars, HOSTS, ["h1"], power=POWER)


def error_lines(err):
    return [l.strip()[2:] for l in str(err.value).splitlines() if l.strip().startswith("- ")]


def test_vm_variables_that_are_not_mappings_are_errors(hostvars):
    for hv in hostvars.values():
        hv["wavedrain_vms"] = ["vm1"]
        hv["wavedrain_vm_defaults"] = "wws_mb=0.5"
    with pytest.raises(AnsibleFilterError) as err:
        model_from_inventory(hostvars, HOSTS, ["h1"], power=POWER)
    assert error_lines(err) == [
        "wavedrain_vm_defaults='wws_mb=0.5' is not a mapping: it must be a mapping of VM keys the facts "
        "cannot measure, e.g. {wws_mb: 0.5, cpu_load: 1.0} (docs/inventory.md)",
        "wavedrain_vms=['vm1'] is not a mapping: it must be a mapping VM name -> its overrides, "
        "e.g. {web-01: {dirty_mb_s: 3}} (docs/inventory.md)"]


def test_a_vm_override_that_is_not_a_mapping_is_an_error(hostvars):
    for hv in hostvars.values():
        hv["wavedrain_vms"] = {"vm1": 5, "vm2": {"dirty_mb_s": 1.0}}
    with pytest.raises(AnsibleFilterError) as err:
        model_from_inventory(hostvars, HOSTS, ["h1"], power=POWER)
    assert error_lines(err) == ["wavedrain_vms.vm1=5 is not a mapping: write the VM's overrides as "
                                "{dirty_mb_s: 3, wws_mb: 2, ...}"]


def test_power_and_overrides_must_be_mappings(hostvars):
    with pytest.raises(AnsibleFilterError) as err:
        model_from_inventory(hostvars, HOSTS, ["h1"], power="h5=off", overrides=["wavedrain_deadline_s"])
    lines = error_lines(err)
    assert "overrides=['wavedrain_deadline_s'] is not a mapping: give a dict, e.g. " \
           "overrides={'wavedrain_deadline_s': 600}" in lines
    assert "power='h5=off' is not a mapping: give a dict, e.g. power={'h5': 'off'}" in lines


def test_a_host_missing_from_hostvars_is_an_error(hostvars):
    with pytest.raises(AnsibleFilterError) as err:
        model_from_inventory(hostvars, HOSTS + ["h9"], ["h1", "h9"], ["h4", "h9"], power=POWER)
    assert error_lines(err) == ["h9: in hosts but not in hostvars: fix the host name or add it to the inventory"]


def test_facts_that_are_not_a_mapping_are_an_error(hostvars):
    hostvars["h3"]["wavedrain_facts"] = "ok"
    hostvars["h4"]["wavedrain_facts"] = ["reachable"]
    del hostvars["h4"]["wavedrain_switch"]
    with pytest.raises(AnsibleFilterError) as err:
        model_from_inventory(hostvars, HOSTS, ["h1"], power=POWER)
    assert error_lines(err) == [
        "h3: wavedrain_facts='ok' is not a mapping: it must hold the result of wavedrain.kvm.hypervisor_info "
        "(register it, or gather the facts again)",
        "h4: missing wavedrain_switch (the switch its migration NIC is plugged into); wavedrain_facts=['reachable'] "
        "is not a mapping: it must hold the result of wavedrain.kvm.hypervisor_info (register it, or gather "
        "the facts again)"]


def test_a_single_string_is_one_host_name(hostvars):
    model = model_from_inventory(hostvars, HOSTS, "h1", "h4", power=POWER)
    assert model["maintenance"] == {"drain": ["h1"], "targets": ["h4"]}
    with pytest.raises(AnsibleFilterError) as err:
        model_from_inventory(hostvars, HOSTS, "h1:h2", power=POWER)
    assert error_lines(err) == ["h1:h2: in wavedrain_drain but not among the hypervisors in scope (it looks "
                                "like a pattern: resolve it first with query('ansible.builtin.inventory_hostnames', "
                                "wavedrain_drain))"]


def test_host_lists_of_the_wrong_type_and_input_that_is_not_hostvars(hostvars):
    with pytest.raises(AnsibleFilterError) as err:
        model_from_inventory(hostvars, HOSTS, ["h1"], {"h4": True}, power=POWER)
    assert error_lines(err) == ["targets={'h4': True} is not a list of host names: give a list, "
                                "e.g. targets=['h1', 'h2']"]
    with pytest.raises(AnsibleFilterError, match="the input is list, not a mapping host -> its variables"):
        model_from_inventory(list(hostvars), HOSTS, ["h1"], power=POWER)


def test_concurrency_caps_from_inventory(hostvars):
    """wavedrain_max_migrations_* (group vars, or -e strings) become constraints.max_migrations_*."""
    for hv in hostvars.values():
        hv["wavedrain_max_migrations_per_source"] = 2
    model = model_from_inventory(hostvars, HOSTS, ["h1"], power=POWER,
                                 overrides={"wavedrain_max_migrations_total": "4"})
    assert model["constraints"]["max_migrations_per_source"] == 2
    assert model["constraints"]["max_migrations_total"] == 4
    assert "max_migrations_per_switch" not in model["constraints"]
    assert parse_model(model).constraints.registered == {"max_migrations_per_source": 2,
                                                         "max_migrations_total": 4}
