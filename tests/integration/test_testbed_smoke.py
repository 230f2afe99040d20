"""Smoke tests: every piece of the local test datacenter is real (issue 6)."""
import json
import os
import re
import subprocess
import sys
import time

import pytest

pytestmark = pytest.mark.integration

MIGRATION_TIMEOUT_S = 90


def other_switch_host(tb, host):
    """A powered-on host on another switch than `host`."""
    sw = tb.hosts[host]["switch"]
    for n, h in tb.hosts.items():
        if h["switch"] != sw and tb.host_running(n):
            return n
    pytest.skip("no powered-on host on another switch")


def same_switch_host(tb, host):
    sw = tb.hosts[host]["switch"]
    for n, h in tb.hosts.items():
        if n != host and h["switch"] == sw and tb.host_running(n):
            return n
    pytest.skip("no powered-on peer on the same switch")


def test_up_is_idempotent(testbed):
    t0 = time.time()
    r = testbed.run("up")
    assert r.returncode == 0, r.stderr
    assert f"inventory: {testbed.inventory}" in r.stdout
    assert f"model: {testbed.model}" in r.stdout
    assert "already up" in r.stderr
    assert time.time() - t0 < 30
    st = testbed.run("status")
    assert st.returncode == 0 and "testbed: up" in st.stdout


def test_ssh_and_hostnames(testbed):
    for n, h in testbed.hosts.items():
        if not testbed.host_running(n):
            continue
        r = subprocess.run(
            ["ssh", "-i", testbed.ssh_key, "-o", "StrictHostKeyChecking=no", "-o",
             "UserKnownHostsFile=/dev/null", "-o", "LogLevel=ERROR", "-o", "BatchMode=yes",
             f"root@{h['ip']}", "hostname; /usr/bin/python3 -c 'import libvirt, lxml'"],
            capture_output=True, text=True, timeout=30, check=False)
        assert r.returncode == 0, r.stderr
        assert r.stdout.split()[0] == n


def test_inventory_for_ansible(testbed):
    ansible_inv = os.path.join(os.path.dirname(sys.executable), "ansible-inventory")
    r = subprocess.run([ansible_inv, "-i", testbed.inventory, "--list"], capture_output=True,
                       text=True, timeout=60, check=False)
    assert r.returncode == 0, r.stderr
    inv = json.loads(r.stdout)
    hv = inv["_meta"]["hostvars"]
    for n, h in testbed.hosts.items():
        assert n in inv[h["switch"]]["hosts"]
        assert hv[n]["ansible_host"] == h["ip"]
        assert hv[n]["wavedrain_bmc_address"] == h["bmc_ip"]
        assert hv[n]["wavedrain_mac"] == h["mac"]
        assert hv[n]["wavedrain_libvirt_uri"] == h["libvirt_uri"]
    ansible = os.path.join(os.path.dirname(sys.executable), "ansible")
    on = [n for n in testbed.hosts if testbed.host_running(n)]
    r = subprocess.run([ansible, "-i", testbed.inventory, ",".join(on), "-m", "ping", "-o"],
                       capture_output=True, text=True, timeout=180, check=False)
    assert r.returncode == 0, r.stdout + r.stderr
    assert r.stdout.count("SUCCESS") == len(on)


def test_ipmi_power_controls_host(testbed):
    spares = [n for n, h in testbed.hosts.items() if h["power"] == "off"]
    if not spares:
        pytest.skip("no spare host")
    host = spares[-1]
    r = testbed.ipmi(host, "chassis", "power", "status")
    assert r.returncode == 0, r.stderr
    if "is on" in r.stdout:  # left on by another test: start from off
        testbed.ipmi(host, "chassis", "power", "off")
        assert testbed.wait_libvirt(host, up=False, timeout=30)
    assert not testbed.libvirt_answers(host)
    assert "Chassis Power is off" in testbed.ipmi(host, "chassis", "power", "status").stdout

    t0 = time.time()
    r = testbed.ipmi(host, "chassis", "power", "on")
    assert r.returncode == 0, r.stderr
    assert "Chassis Power is on" in testbed.ipmi(host, "chassis", "power", "status").stdout
    assert testbed.wait_libvirt(host, up=True, timeout=60)
    boot_s = time.time() - t0
    assert "Chassis Power is on" in testbed.ipmi(host, "chassis", "power", "status").stdout

    t0 = time.time()
    r = testbed.ipmi(host, "chassis", "power", "off")
    assert r.returncode == 0, r.stderr
    assert testbed.wait_libvirt(host, up=False, timeout=60)
    end = time.time() + 30
    while "is off" not in testbed.ipmi(host, "chassis", "power", "status").stdout:
        assert time.time() < end, "BMC still says on after the host stopped"
        time.sleep(0.2)
    assert not testbed.host_running(host)
    print(f"\n{host}: IPMI power on -> libvirtd answers {boot_s:.2f} s; "
          f"off -> stopped {time.time() - t0:.2f} s")


def test_ipmi_rejects_wrong_password(testbed):
    h = testbed.hosts[next(iter(testbed.hosts))]
    r = subprocess.run(["ipmitool", "-I", "lanplus", "-C", "3", "-H", h["bmc_ip"], "-U",
                        h["bmc_user"], "-P", "wrong-password", "-R", "1", "-N", "2",
                        "chassis", "power", "status"], capture_output=True, text=True,
                       timeout=60, check=False)
    assert r.returncode != 0


def test_live_migration_across_switches(testbed):
    vm = "vm1" if "vm1" in testbed.guests else next(iter(testbed.guests))
    src = testbed.find_guest(vm)
    assert src, f"{vm} runs nowhere"
    dst = other_switch_host(testbed, src)
    assert testbed.guest_alive(vm)
    res = testbed.migrate(vm, src, dst, timeout_s=MIGRATION_TIMEOUT_S)
    print(f"\n{vm} {src}->{dst}: {res['duration_s']:.1f} s, "
          f"{res['jobinfo'].get('Memory processed')}, downtime "
          f"{res['jobinfo'].get('Total downtime')}")
    assert testbed.find_guest(vm) == dst
    assert testbed.virsh(src, "domstate", vm, check=False).returncode != 0  # undefined at source
    assert testbed.guest_alive(vm, wait=5), "guest counter stopped after migration"
    # and back, so that later tests find it where the model says
    home = testbed.guests[vm]["host"]
    testbed.migrate(vm, dst, home, timeout_s=MIGRATION_TIMEOUT_S)
    assert testbed.guest_alive(vm, wait=5)


def test_migration_time_falls_with_rate(testbed):
    vm = "vm2" if "vm2" in testbed.guests else next(iter(testbed.guests))
    src = testbed.find_guest(vm)
    dst = same_switch_host(testbed, src)
    durations = {}
    try:
        for mbps, (a, b) in ((50, (src, dst)), (200, (dst, src))):
            testbed.shape(a, mbps)
            testbed.shape(b, mbps)
            res = testbed.migrate(vm, a, b, timeout_s=MIGRATION_TIMEOUT_S)
            durations[mbps] = res["duration_s"]
            assert testbed.guest_alive(vm, wait=5)
    finally:
        for n in (src, dst):
            testbed.shape(n, testbed.hosts[n]["nic_mbps"])
    print(f"\n{vm} migration duration by NIC rate: {durations}")
    assert durations[200] < 0.5 * durations[50]


def _member_bytes(tb, link, k):
    """Bytes sent so far on member k of link (both directions)."""
    l = tb.links[link]
    total = 0
    for end, key in ((0, "if_a"), (1, "if_b")):
        ns = tb.config["switches"][l["ends"][end]]["ns"]
        dev = l["member_list"][k][key]
        out = subprocess.run(["ip", "netns", "exec", ns, "tc", "-s", "qdisc", "show", "dev",
                              dev], capture_output=True, text=True, check=False).stdout
        m = re.search(r"Sent (\d+) bytes", out)
        total += int(m.group(1)) if m else 0
    return total


def _cross_pairs(tb):
    l = tb.links[0]
    a = [n for n, h in tb.hosts.items() if h["switch"] == l["ends"][0]]
    b = [n for n, h in tb.hosts.items() if h["switch"] == l["ends"][1]]
    return [(x, y) for x in a for y in b]


def test_bundle_layer2_hashing(testbed):
    if not testbed.links or testbed.links[0]["members"] < 2:
        pytest.skip("no bundle")
    l = testbed.links[0]
    pairs = _cross_pairs(testbed)
    # two flows with disjoint hosts on the same member, and two on different members
    same = diff = None
    for i, p in enumerate(pairs):
        for q in pairs[i + 1:]:
            if len({*p, *q}) < 4:
                continue
            if testbed.member_for(*p) == testbed.member_for(*q) and not same:
                same = (p, q)
            if testbed.member_for(*p) != testbed.member_for(*q) and not diff:
                diff = (p, q)
    assert same and diff
    member_rate = l["member_mbps"]
    k = testbed.member_for(*same[0])
    before = [_member_bytes(testbed, 0, j) for j in range(l["members"])]
    r_same = testbed.flows(list(same), seconds=4)
    after = [_member_bytes(testbed, 0, j) for j in range(l["members"])]
    grown = [a - b for a, b in zip(after, before)]
    assert grown[k] == max(grown) and grown[k] > 10e6, grown  # the flows took member k
    r_diff = testbed.flows(list(diff), seconds=4)
    # reverse direction hashes the same way
    r_rev = testbed.flows([(q, p) for p, q in same], seconds=4)
    print(f"\nsame member {same} (member {k}): {[round(x, 1) for x in r_same]} Mbit/s; "
          f"reverse: {[round(x, 1) for x in r_rev]}; different members {diff}: "
          f"{[round(x, 1) for x in r_diff]} Mbit/s")
    for x in r_same + r_rev:
        assert 0.35 * member_rate < x < 0.62 * member_rate
    assert sum(r_same) < 1.1 * member_rate
    for x in r_diff:
        assert x > 0.8 * min(member_rate, testbed.hosts[diff[0][0]]["nic_mbps"])
