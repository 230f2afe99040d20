"""Small scenarios for the planner tests (kept tiny: the whole unit suite must stay fast)."""
import copy
import os

import yaml

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", "..", ".."))
_CACHE = {}


def example(name):
    if name not in _CACHE:
        with open(os.path.join(ROOT, "examples", name + ".yml")) as handle:
            _CACHE[name] = yaml.safe_load(handle)
    return copy.deepcopy(_CACHE[name])


def rack_pair(n_src=4, vms=3, members=2, spares=None, used=(1500, 800, 300), dirty=0.5, wws=0.1,
              spare_cpu=8, hash_policy="layer2", spare_on=False):
    """n_src drained hosts on sw1 (vms VMs each) -> spares on sw2, joined by a bundle."""
    spares = n_src if spares is None else spares
    hosts, vm_defs = {}, {}
    for i in range(n_src):
        hosts[f"src{i}"] = {"cpu": 8, "memory_mb": 16384, "power": "on", "switch": "sw1",
                            "mac": f"02:00:00:00:01:{i + 16:02x}", "boot_s": 60, "shutdown_s": 20}
        for j in range(vms):
            vm_defs[f"vm-{i}-{j}"] = {"host": f"src{i}", "cpu": 2, "memory_mb": 2048,
                                      "used_mb": used[j % len(used)], "dirty_mb_s": dirty, "wws_mb": wws}
    for i in range(spares):
        hosts[f"dst{i}"] = {"cpu": spare_cpu, "memory_mb": 16384, "power": "on" if spare_on else "off",
                            "switch": "sw2", "mac": f"02:00:00:00:02:{(i * 7 + 3) % 256:02x}",
                            "boot_s": 60, "shutdown_s": 20}
    return {
        "hosts": hosts, "vms": vm_defs,
        "network": {"links": [{"name": "up", "ends": ["sw1", "sw2"], "members": members,
                               "member_mbps": 1000, "hash": hash_policy}]},
        "maintenance": {"drain": [f"src{i}" for i in range(n_src)],
                        "targets": [f"dst{i}" for i in range(spares)]},
        "constraints": {"max_downtime_ms": 30, "migration_timeout_s": 600},
    }


def datacenter(hosts, drain):
    """A generated two-level datacenter (bench/gen_datacenter.py), small enough for a unit test."""
    import importlib.util
    spec = importlib.util.spec_from_file_location("gen_datacenter", os.path.join(ROOT, "bench", "gen_datacenter.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.generate(hosts, drain)
