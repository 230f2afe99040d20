"""playbooks/plan.yml against the local test datacenter: the model is the real layout."""
import json
import os
import shutil
import subprocess
import sys

import pytest
import yaml

import wdtestbed  # tests/testbed, put on sys.path by tests/integration/conftest.py

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
EXAMPLE = os.path.join(ROOT, "examples", "inventory", "testbed")
PLAYBOOK = os.path.join(ROOT, "playbooks", "plan.yml")
ANSIBLE_PLAYBOOK = os.path.join(os.path.dirname(sys.executable), "ansible-playbook")


def test_example_inventory_matches_the_default_testbed():
    """examples/inventory/testbed is the testbed of tests/testbed/testbed.yml (no testbed needed)."""
    c = wdtestbed.load_config(wdtestbed.DEFAULT_CONFIG)
    with open(os.path.join(EXAMPLE, "hosts.yml")) as handle:
        inv = yaml.safe_load(handle)
    switches = inv["all"]["children"]["hypervisors"]["children"]
    seen = {}
    for switch, group in switches.items():
        for host, hv in group["hosts"].items():
            seen[host] = dict(hv, wavedrain_switch=group["vars"]["wavedrain_switch"])
    assert sorted(seen) == sorted(c["hosts"])
    for name, h in c["hosts"].items():
        assert seen[name]["ansible_host"] == h["ip"]
        assert seen[name]["wavedrain_bmc_address"] == h["bmc_ip"]
        assert seen[name]["wavedrain_mac"] == h["mac"]
        assert seen[name]["wavedrain_switch"] == h["switch"]
    with open(os.path.join(EXAMPLE, "group_vars", "hypervisors.yml")) as handle:
        site = yaml.safe_load(handle)
    assert site["wavedrain_links"] == [{k: l[k] for k in ("name", "ends", "members", "member_mbps", "hash")}
                                       for l in c["links"]]
    assert site["wavedrain_nic_mbps"] == c["host_defaults"]["nic_mbps"]
    assert site["wavedrain_cpu"] == c["host_defaults"]["cpu"]


@pytest.mark.integration
def test_plan_playbook_models_the_real_testbed(testbed, tmp_path):
    # The testbed's inventory (connection, per-host facts) + the example's site settings.
    inv = tmp_path / "inventory"
    (inv / "group_vars").mkdir(parents=True)
    shutil.copy(testbed.inventory, inv / "hosts.yml")
    shutil.copy(os.path.join(EXAMPLE, "group_vars", "hypervisors.yml"), inv / "group_vars")
    # a hypervisor that never answers and has no BMC: reported, not fatal
    with open(inv / "ghost.yml", "w") as handle:
        yaml.safe_dump({"all": {"children": {"hypervisors": {"hosts": {"ghost": {
            "ansible_host": "127.0.0.1", "ansible_port": 1, "wavedrain_switch": "sw1"}}}}}}, handle)
    where = {vm: testbed.find_guest(vm) for vm in testbed.guests}
    drain = sorted({h for h in where.values() if h})
    assert drain, "no guest runs on the testbed"
    running = {h for h in testbed.hosts if testbed.host_running(h)}
    out = tmp_path / "out"
    proc = subprocess.run(
        [ANSIBLE_PLAYBOOK, "-i", str(inv), PLAYBOOK, "--check",
         "-e", f"wavedrain_drain={':'.join(drain)}", "-e", f"wavedrain_output_dir={out}",
         "-e", "wavedrain_time_limit_s=10", "-e", "plan_dirty_rate_s=1", "-e", "plan_connect_timeout_s=3"],
        capture_output=True, text=True, timeout=300, cwd=str(tmp_path), check=False)
    assert proc.returncode == 0, proc.stdout[-6000:] + proc.stderr[-3000:]
    # nothing changed on any hypervisor
    for line in proc.stdout.splitlines():
        if line.split(":")[0].strip() in testbed.hosts:
            assert "changed=0" in line and "failed=0" in line, line
    assert "ghost: does not answer" in proc.stdout
    assert "wave 1/" in proc.stdout and "ETA" in proc.stdout

    with open(out / "model.yml") as handle:
        model = yaml.safe_load(handle)
    # the silent ghost counts as on (power, licenses: the safe side) but receives nothing
    assert sorted(model["hosts"]) == sorted(list(testbed.hosts) + ["ghost"])
    assert model["hosts"]["ghost"]["power"] == "on" and "ghost" not in model["maintenance"]["targets"]
    for name, h in testbed.hosts.items():
        m = model["hosts"][name]
        assert m["switch"] == h["switch"] and m["mac"] == h["mac"]
        assert m["power"] == ("on" if name in running else "off")
        assert m["nic_mbps"] == h["nic_mbps"]
        assert m["bmc"]["address"] == h["bmc_ip"] and "password" not in m["bmc"]
    assert {vm: v["host"] for vm, v in model["vms"].items()} == {vm: h for vm, h in where.items() if h}
    assert model["network"]["links"][0]["members"] == testbed.links[0]["members"]
    assert model["maintenance"]["drain"] == drain

    with open(out / "plan.json") as handle:
        plan = json.load(handle)
    moved = {a["vm"] for a in plan["actions"] if a["type"] == "migrate"}
    assert moved == set(model["vms"])
    assert {a["host"] for a in plan["actions"] if a["type"] == "power_off"} == set(drain)
    html = (out / "plan.html").read_text()
    assert '<svg class="gantt"' in html and '<svg class="steps"' in html
