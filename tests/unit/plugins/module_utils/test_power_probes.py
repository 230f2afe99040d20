"""When a boot or a halt is probed (plugins/module_utils/_power.py): a few times while the host
is far from its predicted time, then right after it, more and more sparsely while it is late."""
import itertools
import re

import pytest

from ansible_collections.wavedrain.kvm.plugins.module_utils import _power


def _probes(monkeypatch, expected_s, poll_s, until_s):
    """When each probe happens (s from the start), the caller sleeping each wait then probing."""
    now = [1000.0]
    monkeypatch.setattr(_power.time, "monotonic", lambda: now[0])
    waits, probes = _power.probe_waits(expected_s, poll_s), []
    while now[0] < 1000.0 + until_s:
        now[0] += next(waits)
        probes.append(round(now[0] - 1000.0, 3))
    return probes


def test_few_probes_before_the_predicted_time_and_one_right_after_it(monkeypatch):
    probes = _probes(monkeypatch, 400.0, 0.5, 440)
    # 25, 50, 75, 90 and 100 %, then 0.5 s later, the waits doubling up to 2 % of 400 s (8 s)
    assert probes[:10] == [100.0, 200.0, 300.0, 360.0, 400.0, 400.5, 401.5, 403.5, 407.5, 415.5]
    assert probes[10] - probes[9] == 8.0
    assert sum(1 for p in probes if p <= 400) == 5  # not every poll_s, not every 2 % from 90 %


def test_a_short_predicted_time_is_probed_every_poll_once_reached(monkeypatch):
    # 2 % of 20 s is below poll_s: every poll_s after the predicted time
    assert _probes(monkeypatch, 20.0, 0.5, 21.5) == [5.0, 10.0, 15.0, 18.0, 20.0, 20.5, 21.0, 21.5]
    assert next(_power.probe_waits(1.0, 0.5)) == 0.5  # never below poll_s


def test_a_slow_probe_skips_the_fractions_it_passed(monkeypatch):
    now = [1000.0]
    monkeypatch.setattr(_power.time, "monotonic", lambda: now[0])
    waits = _power.probe_waits(100.0, 0.5)
    assert next(waits) == 25.0
    now[0] += 25.0 + 30.0  # the probe at 25 % took 30 s: 50 % is past
    assert next(waits) == 20.0  # up to 75 %
    now[0] += 20.0 + 14.9  # 0.1 s before 90 %
    assert abs(next(waits) - 0.5) < 1e-9  # floored at poll_s
    now[0] += 0.5
    assert abs(next(waits) - 9.6) < 1e-9  # up to 100 %
    now[0] += 9.6
    assert [next(waits) for dummy in range(4)] == [0.5, 1.0, 2.0, 2.0]  # 2 % of 100 s at most


def test_without_a_prediction_every_poll():
    assert list(itertools.islice(_power.probe_waits(None, 0.3), 4)) == [0.3] * 4


class Host:
    """A BMC and a libvirt in memory, recording the calls in order."""

    def __init__(self, power, domains):
        self.host, self.calls, self.power_state, self.doms = "h1", [], power, domains

    def power_status(self):
        self.calls.append("bmc status")
        return self.power_state

    def power(self, method):
        self.calls.append("bmc " + method)
        self.power_state = "off"

    def domains(self, uri, timeout=10):
        self.calls.append("virsh list")
        return self.doms


SETTINGS = _power.PowerSettings(poll_s=0.01, soft_timeout_s=1)


def test_halt_asks_libvirt_first_and_the_bmc_only_when_libvirt_is_silent():
    on_and_empty = Host("on", {})
    assert _power.halt(on_and_empty, on_and_empty, "qemu:///h1", SETTINGS, expected_s=0.01) == "halted"
    assert on_and_empty.calls[:3] == ["virsh list", "bmc soft", "bmc status"]  # no status before the soft-off
    off = Host("off", None)
    assert _power.halt(off, off, "qemu:///h1", SETTINGS) == "already_off"
    assert off.calls == ["virsh list", "bmc status"]


def test_halt_refuses_a_host_with_a_domain_or_whose_libvirt_is_silent():
    for host, why in ((Host("on", {"vm1": "running"}), "still holds domains: vm1 (running)"),
                      (Host("on", None), "does not answer")):
        with pytest.raises(_power.PowerError, match=re.escape(why)):
            _power.halt(host, host, "qemu:///h1", SETTINGS)
        assert "bmc soft" not in host.calls
