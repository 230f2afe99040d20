"""Calibration: the simulator's predicted migration durations, from the model file the
testbed wrote, against durations measured on the testbed (virsh domjobinfo --completed).

Figures are printed (pytest -s) and written to $WAVEDRAIN_CALIBRATION_REPORT
(default /tmp/wavedrain-testbed-calibration.json).
"""
import copy
import json
import os

import pytest
import yaml

pytestmark = pytest.mark.integration

TOLERANCE = 0.30
MIGRATION_TIMEOUT_S = 120
REPORT = os.environ.get("WAVEDRAIN_CALIBRATION_REPORT",
                        "/tmp/wavedrain-testbed-calibration.json")


def _planner():
    from ansible_collections.wavedrain.kvm.plugins.module_utils._planner import model as m
    from ansible_collections.wavedrain.kvm.plugins.module_utils._planner.simulator import (
        predict_migration_s)
    return m.parse_model, predict_migration_s


def _predict(load, predict, raw, vm, src, dst, nic_mbps=None):
    data = copy.deepcopy(raw)
    if nic_mbps:
        for h in (src, dst):
            data["hosts"][h]["nic_mbps"] = nic_mbps
    return predict(load(data), vm, src, dst)


def test_simulator_matches_testbed(testbed):
    load, predict = _planner()
    with open(testbed.model) as f:
        raw = yaml.safe_load(f)
    vms = list(testbed.guests)
    vm_a, vm_b = vms[0], vms[-1]
    home_a, home_b = testbed.guests[vm_a]["host"], testbed.guests[vm_b]["host"]
    assert testbed.find_guest(vm_a) == home_a and testbed.find_guest(vm_b) == home_b
    sw_a = testbed.hosts[home_a]["switch"]
    far = next(n for n, h in testbed.hosts.items()
               if h["switch"] != sw_a and testbed.host_running(n))
    near = next(n for n, h in testbed.hosts.items()
                if n != home_b and h["switch"] == testbed.hosts[home_b]["switch"]
                and testbed.host_running(n) and n != home_a)
    cases = [  # (vm, src, dst, NIC rate for both ends or None = as configured)
        (vm_a, home_a, far, None),     # across the bundle (NIC and member 100 Mbit/s)
        (vm_a, far, home_a, 50),       # back, NICs shaped to 50 Mbit/s
        (vm_b, home_b, near, None),    # same switch
        (vm_b, near, home_b, 200),     # back at 200 Mbit/s
    ]
    rows = []
    for vm, src, dst, mbps in cases:
        try:
            if mbps:
                testbed.shape(src, mbps)
                testbed.shape(dst, mbps)
            res = testbed.migrate(vm, src, dst, timeout_s=MIGRATION_TIMEOUT_S)
        finally:
            if mbps:
                testbed.shape(src, testbed.hosts[src]["nic_mbps"])
                testbed.shape(dst, testbed.hosts[dst]["nic_mbps"])
        assert testbed.guest_alive(vm, wait=5)
        predicted = _predict(load, predict, raw, vm, src, dst, mbps)
        # the whole `virsh migrate` call, as an executor sees it: the model's
        # network.migration_setup_s covers what precedes libvirt's job
        measured = res["wall_s"]
        rows.append({
            "vm": vm, "src": src, "dst": dst,
            "nic_mbps": mbps or testbed.hosts[src]["nic_mbps"],
            "measured_s": round(measured, 2), "predicted_s": round(predicted, 2),
            "error": round((predicted - measured) / measured, 3),
            "libvirt_job_s": round(res["duration_s"], 2),
            "memory_processed": res["jobinfo"].get("Memory processed"),
            "iterations": res["jobinfo"].get("Iteration"),
            "downtime": res["jobinfo"].get("Total downtime"),
        })
    with open(REPORT, "w") as f:
        json.dump({"model": raw.get("vms"), "migrations": rows}, f, indent=1)
    print("\nmigration              rate  measured  predicted  error")
    for r in rows:
        print(f"{r['vm']} {r['src']}->{r['dst']:4} {r['nic_mbps']:>9} {r['measured_s']:>9} "
              f"{r['predicted_s']:>10} {r['error']:>+6.0%}")
    bad = [r for r in rows if abs(r["error"]) > TOLERANCE]
    assert not bad, f"predictions off by more than {TOLERANCE:.0%}: {bad}"
