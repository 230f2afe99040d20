"""wavedrain.kvm.hypervisor_facts on the local test datacenter (real libvirt, real guests)."""
import json
import os
import subprocess
import sys
import time

import pytest

pytestmark = pytest.mark.integration

ANSIBLE = os.path.join(os.path.dirname(sys.executable), "ansible")


def facts(testbed, pattern, *args, check=False):
    cmd = [ANSIBLE, "-i", testbed.inventory, pattern, "-m", "wavedrain.kvm.hypervisor_facts",
           "-a", "migration_address={{ wavedrain_migration_address }} dirty_rate_s=1 dirty_rate_rounds=2 timeout_s=20",
           "-T", "5"] + list(args)
    if check:
        cmd.append("--check")
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=120,
                          env=dict(os.environ, ANSIBLE_LOAD_CALLBACK_PLUGINS="1",
                                   ANSIBLE_STDOUT_CALLBACK="ansible.builtin.json"), check=False)
    data = json.loads(proc.stdout)
    return dict(data["plays"][0]["tasks"][0]["hosts"])


def test_facts_match_the_testbed(testbed):
    running = [h for h in testbed.hosts if testbed.host_running(h)]
    where = {vm: testbed.find_guest(vm) for vm in testbed.guests}
    t0 = time.time()
    out = facts(testbed, ":".join(running), check=True)
    assert time.time() - t0 < 30, "facts of all hosts must come in one bounded round"
    for host in running:
        res = out[host]
        assert not res.get("failed") and not res.get("unreachable"), res
        assert res["changed"] is False
        assert res["hypervisor"]["hostname"] == host and res["hypervisor"]["cpu"] >= 1
        iface = res["migration_interface"]
        assert iface["mac"] == testbed.hosts[host]["mac"] and iface["address"] == testbed.hosts[host]["ip"]
        running_here = sorted(d["name"] for d in res["domains"] if d["running"])
        assert running_here == sorted(vm for vm, h in where.items() if h == host)
        for dom in res["domains"]:
            if dom["running"]:
                g = testbed.guests[dom["name"]]
                assert dom["vcpus"] == g.get("cpu", 1)
                assert dom["memory_mb"] == pytest.approx(g["memory_mb"] * 1.048576, rel=0.01)
                assert 0 < dom["used_mb"] <= dom["memory_mb"]
                # measured with page sampling (TCG-safe): a number, not a crash
                assert dom["dirty_source"] == "page-sampling" and dom["dirty_mb_s"] >= 0
                # with its error: at least one 2 MiB/s sample over two 1 s rounds
                assert dom["dirty_error_mb_s"] >= round(2 ** 0.5 * 1.048576 / 2, 2)
                assert 0 <= dom["cpu_load"] <= 1
        assert res["elapsed_s"] < 10


def test_host_that_is_off_is_reported_not_fatal(testbed):
    off = [h for h in testbed.hosts if not testbed.host_running(h)]
    if not off:
        pytest.skip("every testbed host is on: no host to find silent")
    out = facts(testbed, off[0])
    assert out[off[0]].get("unreachable") is True
