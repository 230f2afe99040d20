"""Bad inventories and facts for model_from_inventory: one clear error naming the host."""
import copy

import pytest

from ansible_collections.wavedrain.kvm.plugins.filter.model_from_inventory import model_from_inventory
from ansible_collections.wavedrain.kvm.plugins.module_utils._planner.model import parse_model

from catalogue import accepted, refused

HOSTS = ["h1", "h2", "h3", "h4"]


def inventory():
    """h1, h2 with one VM each (measured), h3, h4 empty; all on, one switch."""
    hostvars = {}
    for i, name in enumerate(HOSTS, start=1):
        mac = "02:77:00:00:00:%02x" % i
        domains = [{"name": "vm%d" % i, "running": True, "vcpus": 1, "memory_mb": 512, "used_mb": 400,
                    "dirty_mb_s": 0.5}] if i <= 2 else []
        hostvars[name] = {
            "wavedrain_switch": "sw1", "wavedrain_bmc_address": "10.77.1.%d" % i, "wavedrain_bmc_user": "admin",
            "wavedrain_facts": {"reachable": True, "msg": "",
                                "hypervisor": {"hostname": name, "cpu": 4, "memory_mb": 8192},
                                "migration_interface": {"name": "eth0", "mac": mac, "speed_mbps": 1000},
                                "domains": domains}}
    return hostvars


def edited(path, value, hostvars=None):
    """A copy of ``inventory()`` with ``path`` (a tuple of keys, list indexes as ints) set to ``value``."""
    hostvars = copy.deepcopy(hostvars if hostvars is not None else inventory())
    here = hostvars
    for key in path[:-1]:
        here = here[key]
    here[path[-1]] = value
    return hostvars


FACTS = ("wavedrain_facts",)
DOMAIN0 = FACTS + ("domains", 0)

# (case id, hostvars, call options, words)
INVENTORIES = [
    ("hypervisor-list", edited(("h1",) + FACTS + ("hypervisor",), [4, 8192]), {},
     ["h1: facts hypervisor is list, not a mapping", "gather the facts again"]),
    ("interface-text", edited(("h2",) + FACTS + ("migration_interface",), "eth0"), {},
     ["h2: facts migration_interface is str"]),
    ("domains-mapping", edited(("h1",) + FACTS + ("domains",), {"vm1": {}}), {},
     ["h1: facts domains is dict, not a list"]),
    ("domain-text", edited(("h1",) + DOMAIN0, "vm1"), {}, ["h1: facts domains[0] is str, not a mapping"]),
    ("domain-without-name", edited(("h1",) + DOMAIN0 + ("name",), None), {},
     ["h1: facts domains[0]: VM name None must be a string"]),
    ("domain-name-hostile", edited(("h1",) + DOMAIN0 + ("name",), "vm1$(touch /tmp/x)"), {},
     ["h1: facts domains[0]: VM name 'vm1$(touch /tmp/x)'", "'$'"]),
    ("domain-name-number", edited(("h2",) + FACTS + ("domains", 0, "name"), 12), {},
     ["h2: facts domains[0]: VM name 12 must be a string"]),
    ("fact-cpu-text", edited(("h1",) + FACTS + ("hypervisor", "cpu"), "lots"), {},
     ["h1:", "the facts report cpu='lots', not a positive number"]),
    ("fact-memory-nan", edited(("h3",) + FACTS + ("hypervisor", "memory_mb"), float("nan")), {},
     ["h3:", "the facts report memory_mb=nan"]),
    ("cpu-var-nan", edited(("h1", "wavedrain_cpu"), "nan"), {}, ["h1: wavedrain_cpu='nan' is not a finite number"]),
    ("memory-var-inf", edited(("h2", "wavedrain_memory_mb"), float("inf")), {},
     ["h2: wavedrain_memory_mb=inf is not a finite number"]),
    ("boot-var-inf", edited(("h3", "wavedrain_boot_s"), "inf"), {},
     ["h3: wavedrain_boot_s='inf' is not a number of seconds"]),
    ("shutdown-var-negative", edited(("h3", "wavedrain_shutdown_s"), -5), {}, ["h3: wavedrain_shutdown_s=-5"]),
    ("nic-var-negative", edited(("h4", "wavedrain_nic_mbps"), -5), {}, ["h4: wavedrain_nic_mbps=-5 must be > 0"]),
    ("bmc-injection", edited(("h1", "wavedrain_bmc_address"), "10.0.0.1$(reboot)"), {},
     ["h1: wavedrain_bmc_address: BMC address '10.0.0.1$(reboot)'", "'$'"]),
    ("bmc-option", edited(("h2", "wavedrain_bmc_address"), "-oProxyCommand"), {},
     ["h2: wavedrain_bmc_address", "starts with '-'"]),
    ("override-moves-vm", {h: dict(v, wavedrain_vms={"vm1": {"host": "h4"}}) for h, v in inventory().items()}, {},
     ["wavedrain_vms.vm1.host='h4': vm1 runs on h1 (measured)", "cannot move a VM"]),
    ("override-nan-dirty", {h: dict(v, wavedrain_vms={"vm1": {"dirty_mb_s": float("nan")}})
                            for h, v in inventory().items()}, {}, ["vms.vm1.dirty_mb_s must be a finite number"]),
    ("hosts-hostile", edited(("h1$(id)",), inventory()["h3"]), {"hosts": HOSTS + ["h1$(id)"]},
     ["hosts: host name 'h1$(id)'", "'$'"]),
    ("drain-hostile", inventory(), {"drain": ["--help"]}, ["drain: host name '--help'", "starts with '-'"]),
    ("targets-nested", inventory(), {"targets": [["h3"]]}, ["targets: host name ['h3'] must be a string"]),
    ("cap-nan", inventory(), {"overrides": {"wavedrain_max_online_hosts": "nan"}},
     ["wavedrain_max_online_hosts='nan' is not an integer"]),
    ("efficiency-inf", inventory(), {"overrides": {"wavedrain_network_efficiency": "inf"}},
     ["wavedrain_network_efficiency='inf' is not a number"]),
    ("deadline-huge", inventory(), {"overrides": {"wavedrain_deadline_s": "1e999"}},
     ["wavedrain_deadline_s='1e999' is not a number"]),
    ("hostvars-list", ["h1"], {}, ["is list, not a mapping host -> its variables"]),
    ("facts-text", edited(("h1",) + FACTS, "ok"), {}, ["h1: wavedrain_facts='ok' is not a mapping"]),
    ("nic-speed-unknown", edited(("h4",) + FACTS + ("migration_interface", "speed_mbps"), -1), {},
     ["h4: no NIC speed", "set wavedrain_nic_mbps"]),
    ("vms-not-mapping", {h: dict(v, wavedrain_vms=["vm1"]) for h, v in inventory().items()}, {},
     ["wavedrain_vms=['vm1'] is not a mapping"]),
]


@pytest.mark.parametrize("hostvars, options, words", [c[1:] for c in INVENTORIES], ids=[c[0] for c in INVENTORIES])
def test_bad_inventory_is_refused(hostvars, options, words):
    kwargs = dict({"hosts": HOSTS, "drain": ["h1", "h2"]}, **options)
    refused(lambda: model_from_inventory(hostvars, **kwargs), *words)


def test_a_garbage_dirty_error_is_ignored_and_the_model_is_right():
    hostvars = edited(("h1",) + DOMAIN0 + ("dirty_error_mb_s",), "unknown")

    def build():
        model = parse_model(model_from_inventory(hostvars, HOSTS, ["h1", "h2"]))
        return {name: vm.host for name, vm in model.vms.items()}

    assert accepted(build) == {"vm1": "h1", "vm2": "h2"}


def test_an_override_for_a_vm_that_does_not_run_is_a_warning():
    hostvars = {h: dict(v, wavedrain_vms={"vm9": {"dirty_mb_s": 1}}) for h, v in inventory().items()}
    out = accepted(lambda: model_from_inventory(hostvars, HOSTS, ["h1"], details=True))
    assert any("wavedrain_vms.'vm9': no running VM of that name" in w for w in out["warnings"])
