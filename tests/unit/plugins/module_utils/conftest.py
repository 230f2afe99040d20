import copy

import pytest


def _small_dc():
    """Two switches joined by a 2-member layer2 bundle; h1, h2 drained into s1 (off), s2 (on)."""
    return {
        "hosts": {
            "h1": {"cpu": 8, "memory_mb": 16384, "power": "on", "switch": "sw1", "mac": "02:00:00:00:00:01",
                   "nic_mbps": 1000, "boot_s": 100, "shutdown_s": 20},
            "h2": {"cpu": 8, "memory_mb": 16384, "power": "on", "switch": "sw1", "mac": "02:00:00:00:00:02",
                   "nic_mbps": 1000, "boot_s": 100, "shutdown_s": 20},
            "s1": {"cpu": 8, "memory_mb": 16384, "power": "off", "switch": "sw2", "mac": "02:00:00:00:00:03",
                   "nic_mbps": 1000, "boot_s": 100, "shutdown_s": 20},
            "s2": {"cpu": 8, "memory_mb": 16384, "power": "on", "switch": "sw2", "mac": "02:00:00:00:00:04",
                   "nic_mbps": 1000, "boot_s": 100, "shutdown_s": 20},
        },
        "vms": {
            "a": {"host": "h1", "cpu": 2, "memory_mb": 4096, "used_mb": 1000, "dirty_mb_s": 1, "wws_mb": 0.1},
            "b": {"host": "h1", "cpu": 2, "memory_mb": 4096, "used_mb": 1000, "dirty_mb_s": 1, "wws_mb": 0.1},
            "c": {"host": "h2", "cpu": 2, "memory_mb": 4096, "used_mb": 1000, "dirty_mb_s": 1, "wws_mb": 0.1},
        },
        "network": {"links": [{"name": "sw1-sw2", "ends": ["sw1", "sw2"], "members": 2,
                               "member_mbps": 1000, "hash": "layer2"}]},
        "maintenance": {"drain": ["h1", "h2"], "targets": ["s1", "s2"]},
        "constraints": {"max_downtime_ms": 30, "migration_timeout_s": 600},
    }


@pytest.fixture
def small_dc():
    return copy.deepcopy(_small_dc())
