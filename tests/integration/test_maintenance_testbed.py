"""A testbed instance of its own for the plan-execution tests (issue 4); no tests here.

The shared `testbed` fixture (conftest.py) runs one guest per host; the drain tests need two
drained hosts with two guests each (one dirtying memory fast) and two spares that are off, so
they bring up their own instance with another prefix, subnet and directories: it never
disturbs the shared one. Configuration: DRAIN_CONFIG below, or a file named by
WAVEDRAIN_DRAIN_TESTBED_CONFIG. WAVEDRAIN_TESTBED_KEEP=1 reuses an instance that is up and
leaves it up (as for the shared fixture).

`reset()` puts the instance back in its initial state between tests: guests back on their
first host (migrated unshaped), every host powered as configured, NICs shaped as configured.
"""
import json
import os
import subprocess
import sys
import time

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
TESTBED_DIR = os.path.join(ROOT, "tests", "testbed")
TESTBED = os.path.join(TESTBED_DIR, "testbed")
if TESTBED_DIR not in sys.path:
    sys.path.insert(0, TESTBED_DIR)

import wdtestbed  # noqa: E402

VENV_BIN = os.path.dirname(sys.executable)
COLLECTIONS = os.path.join(ROOT, "build", "collections")

DRAIN_CONFIG = {
    "prefix": "wdrl",
    "state_dir": "/run/wdrl-testbed",
    "data_dir": "/var/lib/wdrl-testbed",
    "net": "10.78",
    "domain_type": "auto",
    "bmc": {"user": "admin", "password": "wavedrain"},
    "switches": ["sw1", "sw2"],
    "links": [{"name": "sw1-sw2", "ends": ["sw1", "sw2"], "members": 2, "member_mbps": 100,
               "hash": "layer2"}],
    "host_defaults": {"cpu": 2, "memory_mb": 1024, "nic_mbps": 50,
                      "power_w": {"off": 0, "idle": 120, "boot": 130, "max": 170}},
    "hosts": {
        "h1": {"switch": "sw1", "mac": "02:78:00:00:00:01", "power": "on"},
        "h2": {"switch": "sw1", "mac": "02:78:00:00:00:02", "power": "on"},
        "h3": {"switch": "sw2", "mac": "02:78:00:00:00:03", "power": "off"},
        "h4": {"switch": "sw2", "mac": "02:78:00:00:00:04", "power": "off"},
    },
    "guests": {
        "a1": {"host": "h1", "cpu": 1, "memory_mb": 128, "touch_mb": 16, "dirty_mb_s": 0.5},
        "a2": {"host": "h1", "cpu": 1, "memory_mb": 128, "touch_mb": 48, "dirty_mb_s": 3},
        "b1": {"host": "h2", "cpu": 1, "memory_mb": 128, "touch_mb": 16, "dirty_mb_s": 0.5},
        "b2": {"host": "h2", "cpu": 1, "memory_mb": 128, "touch_mb": 16, "dirty_mb_s": 1},
    },
    "maintenance": {"drain": ["h1", "h2"], "targets": ["h3", "h4"]},
    "constraints": {"max_online_hosts": 4, "max_downtime_ms": 300, "migration_timeout_s": 90},
}


def config_path(tmpdir):
    path = os.environ.get("WAVEDRAIN_DRAIN_TESTBED_CONFIG")
    if path:
        return path
    path = os.path.join(tmpdir, "drain-testbed.json")  # JSON is YAML
    with open(path, "w") as f:
        json.dump(DRAIN_CONFIG, f, indent=1)
    return path


def up(cfg_path):
    """Bring the instance up, or reuse it when it is up with the same config."""
    config = wdtestbed.load_config(cfg_path)
    if not wdtestbed.healthy(config):
        r = subprocess.run([sys.executable, TESTBED, "--config", cfg_path, "up"],
                           capture_output=True, text=True, timeout=1800, check=False)
        if r.returncode != 0:
            down(cfg_path)
            raise RuntimeError(f"drain testbed up failed:\n{r.stdout}\n{r.stderr}")
    return wdtestbed.load_state(config["state_dir"])["config"]


def down(cfg_path):
    if os.environ.get("WAVEDRAIN_TESTBED_KEEP") == "1":
        return
    subprocess.run([sys.executable, TESTBED, "--config", cfg_path, "down"],
                   capture_output=True, text=True, timeout=300, check=False)


def bmc_power(c, host, on):
    r = wdtestbed.ipmi(c, host, "chassis", "power", "on" if on else "off")
    end = time.time() + 60
    while time.time() < end:
        if on and wdtestbed.libvirt_answers(c, host, timeout=3):
            return
        if not on and not wdtestbed.host_running(c, host):
            st = wdtestbed.ipmi(c, host, "chassis", "power", "status")
            if "is off" in st.stdout:
                return
        time.sleep(0.2)
    raise RuntimeError(f"{host} did not power {'on' if on else 'off'}: {r.stdout} {r.stderr}")


def _fast(c, fast):
    """Unshaped network (to move guests back quickly) or the configured shaping."""
    for name, h in c["hosts"].items():
        wdtestbed.shape_host(c, name, 10000 if fast else h["nic_mbps"])
    for link in c["links"]:
        wdtestbed.shape_link(c, link["name"], 10000 if fast else link["member_mbps"])


def _restart_stopped(c, vm):
    """A guest that is defined but not running (its kernel panicked, and panic=-1 with
    on_reboot=destroy stops it) is started where it is defined, so that one crash fails one
    test and not every test after it. Returns that host, or None."""
    for name in c["hosts"]:
        if wdtestbed.host_running(c, name) and wdtestbed.virsh(
                c, name, "domstate", vm, check=False, timeout=10).stdout.strip() == "shut off":
            wdtestbed.virsh(c, name, "start", vm, timeout=60)
            return name
    return None


def reset(c):
    """Initial state: guests on their first host, hosts powered as configured."""
    for name, h in c["hosts"].items():
        wdtestbed.shape_host(c, name, h["nic_mbps"])
    for vm, g in c["guests"].items():
        home = g["host"]
        if not wdtestbed.host_running(c, home) or not wdtestbed.libvirt_answers(c, home):
            bmc_power(c, home, True)
        where = wdtestbed.find_guest(c, vm)
        end = time.time() + 120
        while where and where != home and "Unbounded" in wdtestbed.virsh(
                c, where, "domjobinfo", vm, check=False).stdout and time.time() < end:
            time.sleep(2)  # a migration still running (e.g. from a killed controller)
        where = wdtestbed.find_guest(c, vm) or where or _restart_stopped(c, vm)
        if where and where != home:
            _fast(c, True)
            try:
                wdtestbed.migrate(c, vm, where, home, timeout_s=60)
            finally:
                _fast(c, False)
        if wdtestbed.find_guest(c, vm) != home:
            raise RuntimeError(f"cannot bring {vm} back to {home}")
    for name, h in c["hosts"].items():
        want_on = h["power"] == "on"
        if want_on != wdtestbed.host_running(c, name):
            bmc_power(c, name, want_on)


def ansible_playbook(c, *args, timeout=600, env=None, inventory=None, **kw):
    e = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=COLLECTIONS, ANSIBLE_FORCE_COLOR="0",
             ANSIBLE_NOCOLOR="1", ANSIBLE_HOST_KEY_CHECKING="False")
    e.update(env or {})
    cmd = [os.path.join(VENV_BIN, "ansible-playbook"), "-i", inventory or c["inventory"]] + list(args)
    return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=e, check=False, **kw)


@pytest.fixture(scope="session")
def drain_testbed(tmp_path_factory):
    """The drain instance (config dict of tests/testbed), reset to its initial state."""
    if os.geteuid() != 0:
        pytest.skip("the testbed needs root (namespaces, apt, tc)")
    cfg_path = config_path(str(tmp_path_factory.mktemp("drain-testbed")))
    c = up(cfg_path)
    try:
        yield c
    finally:
        down(cfg_path)


@pytest.fixture
def drain(drain_testbed):
    """drain_testbed reset to its initial state before the test."""
    reset(drain_testbed)
    return drain_testbed
