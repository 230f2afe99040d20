"""How the controller reaches hosts, as an AWX job does (issue 12): libvirt over qemu+ssh with the
key an AWX machine credential hands over (an ssh-agent, no key file given to virsh) and the hosts'
keys in known_hosts; a BMC on a non-default port. Same testbed instance as test_maintenance.py."""
import json
import os
import select
import socket
import subprocess
import threading

import pytest
from ansible_collections.wavedrain.kvm.plugins.module_utils._planner.plan import Plan, migrate, power_off, power_on

from test_maintenance_testbed import (  # noqa: F401  # pylint: disable=unused-import
    ansible_playbook, drain, drain_testbed, wdtestbed)

pytestmark = pytest.mark.integration
HAND = ["wavedrain.kvm.maintenance", "-e", "wavedrain_model_file="]
KNOWN_HOSTS = os.path.expanduser("~/.ssh/known_hosts")


def write(path, data):
    path.write_text(data if isinstance(data, str) else json.dumps(data))
    return str(path)


@pytest.fixture
def ssh_agent(drain):
    """An ssh-agent holding the testbed's key (what AWX does with a machine credential) and the
    hosts' keys in the user's known_hosts, removed afterwards."""
    out = subprocess.run(["ssh-agent", "-s"], capture_output=True, text=True, check=True).stdout
    env = dict(line.split(";")[0].split("=", 1) for line in out.splitlines() if line.startswith("SSH_"))
    try:
        subprocess.run(["ssh-add", drain["ssh_key"]], env=dict(os.environ, **env), capture_output=True, check=True)
        # the hosts' public keys, as an operator installs them (a scan would miss the spares, off)
        os.makedirs(os.path.dirname(KNOWN_HOSTS), mode=0o700, exist_ok=True)
        with open(KNOWN_HOSTS, "a") as f:
            for name, h in drain["hosts"].items():
                with open(os.path.join(drain["data_dir"], "hosts", name, "ssh_host_ed25519_key.pub")) as key:
                    f.write("%s %s\n" % (h["ip"], " ".join(key.read().split()[:2])))
        yield env
    finally:
        for h in drain["hosts"].values():
            subprocess.run(["ssh-keygen", "-R", h["ip"]], capture_output=True, check=False)
        subprocess.run(["ssh-agent", "-k"], env=dict(os.environ, **env), capture_output=True, check=False)


def test_drain_over_qemu_ssh_with_an_agent_key(drain, ssh_agent, tmp_path):
    inventory = open(drain["inventory"]).read()
    for name, h in drain["hosts"].items():
        inventory = inventory.replace(f"qemu+tcp://{h['ip']}/system", f"qemu+ssh://root@{h['ip']}/system")
    assert inventory.count("qemu+ssh://") == len(drain["hosts"])
    inv = write(tmp_path / "inventory.yml", inventory)
    plan = write(tmp_path / "plan.json", Plan([
        power_on("h3", 1), migrate("b1", "h2", "h3", 1, ["boot/h3"]), migrate("b2", "h2", "h3", 1, ["boot/h3"]),
        power_off("h2", 1, ["migrate/b1", "migrate/b2"])], strategy="custom").to_dict())
    r = ansible_playbook(drain, *HAND, "-e", f"wavedrain_plan_file={plan}", "-e", f"wavedrain_report_file={tmp_path}/r.json",
                         inventory=inv, env=ssh_agent)
    assert r.returncode == 0, r.stdout[-4000:]
    for vm in ("b1", "b2"):
        assert wdtestbed.find_guest(drain, vm) == "h3" and wdtestbed.guest_alive(drain, vm, wait=5)
    assert "is off" in wdtestbed.ipmi(drain, "h2", "chassis", "power", "status").stdout


class UdpRelay:
    """127.0.0.1:PORT -> a BMC's UDP 623, one upstream socket per client (an IPMI session each)."""

    def __init__(self, target):
        self.target = target
        self.front = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.front.bind(("127.0.0.1", 0))
        self.port = self.front.getsockname()[1]
        self.upstream = {}
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self):
        while not self.stop.is_set():
            socks = [self.front] + list(self.upstream.values())
            for s in select.select(socks, [], [], 0.2)[0]:
                data, addr = s.recvfrom(65535)
                if s is self.front:
                    if addr not in self.upstream:
                        self.upstream[addr] = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
                    self.upstream[addr].sendto(data, self.target)
                else:
                    client = next(a for a, u in self.upstream.items() if u is s)
                    self.front.sendto(data, client)

    def close(self):
        self.stop.set()
        self.thread.join()
        for s in [self.front] + list(self.upstream.values()):
            s.close()


def test_bmc_on_a_non_default_port_is_booted_and_halted(drain, tmp_path):
    """h3's BMC is reached at 127.0.0.1:PORT (wavedrain_bmc_port): booted by the engine, then
    halted by the power_off role (the same IPMI path), with a plan for the boot."""
    relay = UdpRelay((drain["hosts"]["h3"]["bmc_ip"], 623))
    try:
        inventory = open(drain["inventory"]).read().replace(
            f"wavedrain_bmc_address: {drain['hosts']['h3']['bmc_ip']}",
            f"wavedrain_bmc_address: 127.0.0.1\n          wavedrain_bmc_port: {relay.port}")
        assert f"wavedrain_bmc_port: {relay.port}" in inventory
        inv = write(tmp_path / "inventory.yml", inventory)
        plan = write(tmp_path / "plan.json", Plan([power_on("h3", 1)], strategy="custom").to_dict())
        r = ansible_playbook(drain, *HAND, "-e", f"wavedrain_plan_file={plan}",
                             "-e", f"wavedrain_report_file={tmp_path}/r.json", inventory=inv)
        assert r.returncode == 0, r.stdout[-4000:]
        assert wdtestbed.libvirt_answers(drain, "h3")
        play = write(tmp_path / "halt.yml", "- hosts: h3\n  gather_facts: false\n  roles:\n"
                                            "    - role: wavedrain.kvm.power_off\n      vars: {power_off_method: 'off'}\n")
        r = ansible_playbook(drain, play, inventory=inv)
        assert r.returncode == 0, r.stdout[-4000:]
    finally:
        relay.close()
    assert "is off" in wdtestbed.ipmi(drain, "h3", "chassis", "power", "status").stdout
