"""Real faults during a drain on the local test datacenter (issue 11): each ends with no VM lost, no
host powered off while it holds a VM, a message naming the host or VM, and a run that completes
once the cause is gone. Same testbed instance as test_maintenance.py (two drained hosts h1, h2
with two guests each, spares h3, h4 off, 50 Mbit/s NICs)."""
import json
import os
import subprocess
import time

import pytest
from ansible_collections.wavedrain.kvm.plugins.module_utils._planner.plan import Plan, migrate, power_off, power_on

from test_maintenance_testbed import (  # noqa: F401  # pylint: disable=unused-import
    COLLECTIONS, VENV_BIN, ansible_playbook, bmc_power, drain, drain_testbed, wdtestbed)

pytestmark = pytest.mark.integration
RUN = ["wavedrain.kvm.maintenance"]
# hand-written plans drain part of the testbed: the inventory's model (both drained hosts) would
# refuse them, rightly, so they run without it
HAND = RUN + ["-e", "wavedrain_model_file="]


def plan_file(tmp_path, actions, name="plan.json"):
    path = tmp_path / name
    path.write_text(json.dumps(Plan(actions, strategy="custom").to_dict()))
    return str(path)


def rows_of(path):
    with open(path) as f:
        return {a["id"]: a for a in json.load(f)["actions"]}


def bmc_says(c, host):
    return wdtestbed.ipmi(c, host, "chassis", "power", "status").stdout


def b1_b2_into_h3(tmp_path):
    return plan_file(tmp_path, [
        power_on("h3", 1),
        migrate("b1", "h2", "h3", 1, ["boot/h3"]),
        migrate("b2", "h2", "h3", 1, ["migrate/b1"]),
        power_off("h2", 1, ["migrate/b2"]),
    ])


def assert_b1_b2_drained(c):
    for vm in ("b1", "b2"):
        assert wdtestbed.find_guest(c, vm) == "h3"
        assert wdtestbed.guest_alive(c, vm, wait=5), vm
    assert "is off" in bmc_says(c, "h2")


def wait_for_job(c, host, vm, timeout=120):
    end = time.time() + timeout
    while time.time() < end:
        if "Unbounded" in wdtestbed.virsh(c, host, "domjobinfo", vm, check=False).stdout:
            return
        time.sleep(0.2)
    pytest.fail(f"the migration of {vm} never started")


def test_destination_dies_mid_migration(drain, tmp_path):
    """h3 loses power while a2 (3 MiB/s through a 30 Mbit/s NIC) is being copied to it: the
    migration fails, a2 keeps running on h1, h1 stays on. Once h3 is back the same command
    boots it again and finishes."""
    pf = plan_file(tmp_path, [
        power_on("h3", 1),
        migrate("a2", "h1", "h3", 1, ["boot/h3"]),
        migrate("a1", "h1", "h3", 1, ["migrate/a2"]),
        power_off("h1", 1, ["migrate/a1"]),
    ])
    wdtestbed.shape_host(drain, "h1", 30)
    args = HAND + ["-e", f"wavedrain_plan_file={pf}", "-e", f"wavedrain_report_file={tmp_path}/r1.json",
                   "-e", "wavedrain_migration_retries=0"]
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=COLLECTIONS)
    p = subprocess.Popen([os.path.join(VENV_BIN, "ansible-playbook"), "-i", drain["inventory"]] + args,
                         stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env)
    try:
        wait_for_job(drain, "h1", "a2")
        wdtestbed.host_stop(drain, "h3")          # the destination dies (its processes end)
        out, dummy = p.communicate(timeout=300)
    finally:
        wdtestbed.shape_host(drain, "h1", drain["hosts"]["h1"]["nic_mbps"])
        if p.poll() is None:
            p.kill()
    assert p.returncode != 0
    rows = rows_of(tmp_path / "r1.json")
    assert rows["migrate/a2"]["outcome"] == "failed" and "a2" in rows["migrate/a2"]["message"], rows["migrate/a2"]
    assert rows["halt/h1"]["outcome"] == "not_run"
    assert wdtestbed.find_guest(drain, "a2") == "h1" and wdtestbed.guest_alive(drain, "a2", wait=5)
    assert "is on" in bmc_says(drain, "h1")
    wdtestbed.ipmi(drain, "h3", "chassis", "power", "off")   # the BMC sees the dead host as off
    r = ansible_playbook(drain, *HAND, "-e", f"wavedrain_plan_file={pf}", "-e", f"wavedrain_report_file={tmp_path}/r2.json")
    assert r.returncode == 0, r.stdout[-4000:]
    rows = rows_of(tmp_path / "r2.json")
    assert rows["boot/h3"]["outcome"] == "booted" and rows["migrate/a2"]["outcome"] == "migrated"
    for vm in ("a1", "a2"):
        assert wdtestbed.find_guest(drain, vm) == "h3" and wdtestbed.guest_alive(drain, vm, wait=5)


def test_wrong_bmc_credentials(drain, tmp_path):
    """h3's BMC refuses the password: its boot fails naming h3, nothing after it runs, b1 and b2
    stay on h2; with the right password the same command completes."""
    pf = b1_b2_into_h3(tmp_path)
    bmc_ip = drain["hosts"]["h3"]["bmc_ip"]
    inv = tmp_path / "inventory.yml"
    text = open(drain["inventory"]).read()
    at = text.index(f"wavedrain_bmc_address: {bmc_ip}")
    start, end = text.index("wavedrain_bmc_password:", at), text.index("\n", text.index("wavedrain_bmc_password:", at))
    inv.write_text(text[:start] + "wavedrain_bmc_password: not-the-password" + text[end:])
    r = ansible_playbook(drain, *HAND, "-e", f"wavedrain_plan_file={pf}", "-e", f"wavedrain_report_file={tmp_path}/r1.json",
                         inventory=str(inv))
    assert r.returncode != 0
    assert "boot/h3: BMC of h3 at" in r.stdout and "not-the-password" not in r.stdout + r.stderr, r.stdout[-3000:]
    assert wdtestbed.find_guest(drain, "b1") == "h2" and "is on" in bmc_says(drain, "h2")
    r = ansible_playbook(drain, *HAND, "-e", f"wavedrain_plan_file={pf}", "-e", f"wavedrain_report_file={tmp_path}/r2.json")
    assert r.returncode == 0, r.stdout[-4000:]
    assert_b1_b2_drained(drain)


def test_report_path_unwritable(drain, tmp_path):
    """The work is done, the run fails naming the report path and the journal; a run with a
    writable path redoes nothing."""
    pf = b1_b2_into_h3(tmp_path)
    r = ansible_playbook(drain, *HAND, "-e", f"wavedrain_plan_file={pf}",
                         "-e", "wavedrain_report_file=/proc/wavedrain/report.json")
    assert r.returncode != 0 and "cannot write the run report /proc/wavedrain/report.json" in r.stdout
    assert_b1_b2_drained(drain)
    r = ansible_playbook(drain, *HAND, "-e", f"wavedrain_plan_file={pf}", "-e", f"wavedrain_report_file={tmp_path}/r.json")
    assert r.returncode == 0, r.stdout[-4000:]
    assert {row["outcome"] for row in rows_of(tmp_path / "r.json").values()} <= {"done_before", "already_off"}


def test_live_state_differs_from_the_plan(drain, tmp_path):
    """Someone moved b1 to h1 and booted h3 before the run: refused before anything acts, naming
    b1 and where it is; a plan made for the live state then runs (the spare already on counts as
    booted)."""
    wdtestbed.migrate(drain, "b1", "h2", "h1", timeout_s=120)
    bmc_power(drain, "h3", True)
    pf = b1_b2_into_h3(tmp_path)
    r = ansible_playbook(drain, *HAND, "-e", f"wavedrain_plan_file={pf}", "-e", f"wavedrain_report_file={tmp_path}/r1.json")
    assert r.returncode != 0 and "refusing to start, nothing was touched" in r.stdout, r.stdout[-3000:]
    assert "migrate/b1: b1 is not on h2 but on no host of the plan" in r.stdout, r.stdout[-3000:]
    assert wdtestbed.find_guest(drain, "b1") == "h1" and wdtestbed.find_guest(drain, "b2") == "h2"
    assert not os.path.exists(tmp_path / "r1.json")
    pf = plan_file(tmp_path, [
        power_on("h3", 1),
        migrate("b2", "h2", "h3", 1, ["boot/h3"]),
        power_off("h2", 1, ["migrate/b2"]),
    ], name="replanned.json")
    r = ansible_playbook(drain, *HAND, "-e", f"wavedrain_plan_file={pf}", "-e", f"wavedrain_report_file={tmp_path}/r2.json")
    assert r.returncode == 0, r.stdout[-4000:]
    rows = rows_of(tmp_path / "r2.json")
    assert rows["boot/h3"]["outcome"] == "done_before" and rows["halt/h2"]["outcome"] == "halted"
    assert wdtestbed.find_guest(drain, "b2") == "h3" and wdtestbed.guest_alive(drain, "b2", wait=5)


def test_two_runs_at_once(drain, tmp_path):
    """A second run of the same plan while the first one works is refused with the first one's pid;
    the first one completes."""
    pf = b1_b2_into_h3(tmp_path)
    args = HAND + ["-e", f"wavedrain_plan_file={pf}", "-e", f"wavedrain_report_file={tmp_path}/r1.json"]
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=COLLECTIONS)
    first = subprocess.Popen([os.path.join(VENV_BIN, "ansible-playbook"), "-i", drain["inventory"]] + args,
                             stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env)
    try:
        end = time.time() + 120
        while not os.path.exists(pf + ".journal") and time.time() < end:
            time.sleep(0.1)
        r = ansible_playbook(drain, *HAND, "-e", f"wavedrain_plan_file={pf}",
                             "-e", f"wavedrain_report_file={tmp_path}/r2.json")
        out, dummy = first.communicate(timeout=600)
    finally:
        if first.poll() is None:
            first.kill()
    assert r.returncode != 0 and "another run of this plan is in progress (pid" in r.stdout, r.stdout[-3000:]
    assert first.returncode == 0, out[-4000:]
    assert_b1_b2_drained(drain)
