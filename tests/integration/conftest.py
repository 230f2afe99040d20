"""Session fixture: the local test datacenter (tests/testbed, issue 6).

`testbed up` runs once per session and `testbed down` at the end, unless
WAVEDRAIN_TESTBED_KEEP=1: then a testbed already up is reused and left up.
WAVEDRAIN_TESTBED_CONFIG selects another config than tests/testbed/testbed.yml.
"""
import os
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
TESTBED_DIR = os.path.join(ROOT, "tests", "testbed")
TESTBED = os.path.join(TESTBED_DIR, "testbed")
if TESTBED_DIR not in sys.path:
    sys.path.insert(0, TESTBED_DIR)

import wdtestbed  # noqa: E402


class Testbed:
    """Paths, per-host facts and helpers of a running testbed."""

    def __init__(self, config, config_path=None):
        self.config = config
        self.config_path = config_path or config.get("config_path")
        self.inventory = config["inventory"]
        self.model = config["model"]
        self.state_dir = config["state_dir"]
        self.data_dir = config["data_dir"]
        self.ssh_key = config["ssh_key"]
        b = config["bmc"]
        self.hosts = {
            n: {"ip": h["ip"], "bmc_ip": h["bmc_ip"], "bmc_user": b["user"],
                "bmc_password": b["password"], "libvirt_uri": h["libvirt_uri"],
                "mac": h["mac"], "switch": h["switch"], "nic_mbps": h["nic_mbps"],
                "power": h["power"], "ns": h["ns"]}
            for n, h in config["hosts"].items()}
        self.guests = config["guests"]
        self.links = config["links"]

    def __getitem__(self, key):  # dict-style access: testbed["inventory"], ...
        return getattr(self, key)

    # helpers (thin wrappers over tests/testbed/wdtestbed.py)
    def ipmi(self, host, *args):
        return wdtestbed.ipmi(self.config, host, *args)

    def libvirt_answers(self, host):
        return wdtestbed.libvirt_answers(self.config, host)

    def wait_libvirt(self, host, up=True, timeout=60):
        return wdtestbed.wait_libvirt(self.config, host, up, timeout)

    def virsh(self, host, *args, **kw):
        return wdtestbed.virsh(self.config, host, *args, **kw)

    def migrate(self, vm, src, dst, timeout_s=60):
        return wdtestbed.migrate(self.config, vm, src, dst, timeout_s=timeout_s)

    def find_guest(self, vm):
        return wdtestbed.find_guest(self.config, vm)

    def guest_alive(self, vm, wait=4.0):
        return wdtestbed.guest_alive(self.config, vm, wait)

    def guest_ticks(self, vm):
        return wdtestbed.guest_ticks(self.config, vm)

    def shape(self, host, mbps):
        wdtestbed.shape_host(self.config, host, mbps)

    def flows(self, pairs, seconds=4):
        return wdtestbed.flows_throughput(self.config, pairs, seconds)

    def member_for(self, src, dst, link=0):
        return wdtestbed.member_for(self.config, self.links[link], src, dst)

    def host_running(self, host):
        return wdtestbed.host_running(self.config, host)

    def run(self, *args, **kw):
        cmd = [sys.executable, TESTBED]
        if self.config_path:
            cmd += ["--config", self.config_path]
        return subprocess.run(cmd + list(args), capture_output=True, text=True, check=False, **kw)


@pytest.fixture(scope="session")
def testbed():
    if os.geteuid() != 0:
        pytest.skip("the testbed needs root (namespaces, apt, tc)")
    cfg_path = os.environ.get("WAVEDRAIN_TESTBED_CONFIG", wdtestbed.DEFAULT_CONFIG)
    keep = os.environ.get("WAVEDRAIN_TESTBED_KEEP") == "1"
    config = wdtestbed.load_config(cfg_path)
    if not (keep and wdtestbed.healthy(config)):
        r = subprocess.run([sys.executable, TESTBED, "--config", cfg_path, "up"],
                           capture_output=True, text=True, timeout=1800, check=False)
        sys.stderr.write(r.stderr)
        if r.returncode != 0:
            subprocess.run([sys.executable, TESTBED, "--config", cfg_path, "down"],
                           capture_output=True, text=True, timeout=300, check=False)
            pytest.fail(f"testbed up failed:\n{r.stdout}\n{r.stderr}", pytrace=False)
    st = wdtestbed.load_state(config["state_dir"])
    tb = Testbed(st["config"], cfg_path)
    tb.measured = st.get("measured", {})
    try:
        yield tb
    finally:
        if not keep:
            subprocess.run([sys.executable, TESTBED, "--config", cfg_path, "down"],
                           capture_output=True, text=True, timeout=300, check=False)
