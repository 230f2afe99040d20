"""Faults of the libvirt daemons during a migration, on the local test datacenter (issue 11): the
source's libvirtd restarts, and the source's network drops for a few seconds. Each ends with every
VM alive on its planned host, no host powered off with a VM, and the retry named in the report."""
import json
import os
import signal
import subprocess
import threading
import time

import pytest
from ansible_collections.wavedrain.kvm.plugins.module_utils._planner.plan import Plan, migrate, power_off, power_on

from test_maintenance_testbed import (  # noqa: F401  # pylint: disable=unused-import
    ansible_playbook, drain, drain_testbed, wdtestbed)

pytestmark = pytest.mark.integration
HAND = ["wavedrain.kvm.maintenance", "-e", "wavedrain_model_file="]


def restart_libvirtd(c, host):
    """End the host's libvirtd and start it again in the host's namespaces (its guests live on)."""
    d = wdtestbed.host_dir(c, host)
    with open(os.path.join(d, "libvirtd.pid")) as f:
        pid = int(f.read().strip())
    neighbour = next(p for p in wdtestbed.ns_pids(c["hosts"][host]["ns"]) if p != pid)
    os.kill(pid, signal.SIGTERM)
    end = time.time() + 30
    while os.path.exists(f"/proc/{pid}") and time.time() < end:
        time.sleep(0.1)
    subprocess.run(["nsenter", "-t", str(neighbour), "--mount", "--uts", "--net", "/usr/sbin/libvirtd", "-d",
                    "--listen", "-p", os.path.join(d, "libvirtd.pid")], check=True, timeout=60)
    assert wdtestbed.wait_libvirt(c, host, up=True, timeout=60)


def drop_network(c, host, seconds):
    """The host's link goes down for ``seconds`` (its routes go with it and come back after)."""
    ns = c["hosts"][host]["ns"]
    routes = subprocess.run(["ip", "-n", ns, "route", "show"], capture_output=True, text=True, check=True).stdout
    subprocess.run(["ip", "-n", ns, "link", "set", "eth0", "down"], check=True)
    time.sleep(seconds)
    subprocess.run(["ip", "-n", ns, "link", "set", "eth0", "up"], check=True)
    for route in routes.splitlines():
        subprocess.run(["ip", "-n", ns, "route", "replace"] + route.split(), check=False)


def run_with_fault(c, tmp_path, fault):
    """a2 (3 MiB/s) crosses h1's NIC held at 40 Mbit/s to h3; ``fault`` strikes while it runs."""
    plan = tmp_path / "plan.json"
    plan.write_text(json.dumps(Plan([
        power_on("h3", 1),
        migrate("a2", "h1", "h3", 1, ["boot/h3"]),
        migrate("a1", "h1", "h3", 1, ["migrate/a2"]),
        power_off("h1", 1, ["migrate/a1"]),
    ], strategy="custom").to_dict()))
    wdtestbed.shape_host(c, "h1", 40)

    def strike():
        end = time.time() + 180
        while time.time() < end:
            if "Unbounded" in wdtestbed.virsh(c, "h1", "domjobinfo", "a2", check=False).stdout:
                time.sleep(2)
                fault()
                return
            time.sleep(0.2)

    striker = threading.Thread(target=strike)
    striker.start()
    try:
        r = ansible_playbook(c, *HAND, "-e", f"wavedrain_plan_file={plan}", "-e", f"wavedrain_report_file={tmp_path}/r.json",
                             "-e", "wavedrain_migration_retries=2", "-e", "wavedrain_migration_retry_delay_s=2")
    finally:
        striker.join()
        wdtestbed.shape_host(c, "h1", c["hosts"]["h1"]["nic_mbps"])
    return r


def assert_drained(c, r, tmp_path):
    assert r.returncode == 0, r.stdout[-4000:]
    with open(tmp_path / "r.json") as f:
        rows = {a["id"]: a for a in json.load(f)["actions"]}
    assert rows["migrate/a2"]["outcome"] in ("migrated", "non_live"), rows["migrate/a2"]
    for vm in ("a1", "a2"):
        assert wdtestbed.find_guest(c, vm) == "h3" and wdtestbed.guest_alive(c, vm, wait=5), vm
    assert "is off" in wdtestbed.ipmi(c, "h1", "chassis", "power", "status").stdout
    return rows


def test_source_libvirtd_restarts_mid_migration(drain, tmp_path):
    r = run_with_fault(drain, tmp_path, lambda: restart_libvirtd(drain, "h1"))
    rows = assert_drained(drain, r, tmp_path)
    assert rows["migrate/a2"]["attempts"] >= 2 and "a2" in rows["migrate/a2"]["errors"][0], rows["migrate/a2"]


def test_source_network_drops_for_a_few_seconds(drain, tmp_path):
    r = run_with_fault(drain, tmp_path, lambda: drop_network(drain, "h1", 5))
    assert_drained(drain, r, tmp_path)
