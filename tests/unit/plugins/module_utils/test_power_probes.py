"""When a boot or a halt is probed (plugins/module_utils/_power.py): a few times while the host
is far from its predicted time, every poll_s or 2 % of that time (the longer) near and after it."""
import itertools
import re

import pytest

from ansible_collections.wavedrain.kvm.plugins.module_utils import _power


def test_few_probes_while_early(monkeypatch):
    now = [1000.0]
    monkeypatch.setattr(_power.time, "monotonic", lambda: now[0])
    waits, probes = _power.probe_waits(400.0, 0.5), []
    while now[0] < 1000.0 + 420:
        now[0] += next(waits)  # the caller sleeps that long, then probes
        probes.append(round(now[0] - 1000.0, 3))
    # at 5, 15, 35 and 75 % of the prediction, at 90 %, then every 2 % of it (8 s > poll_s):
    # 5 probes from 90 % to 100 %, not 21 every 0.5 s
    assert probes[:8] == [20.0, 60.0, 140.0, 300.0, 360.0, 368.0, 376.0, 384.0]
    assert sum(1 for p in probes if 360 <= p <= 400) == 6
    assert next(_power.probe_waits(2.0, 0.5)) == 0.5  # never below poll_s


def test_probes_every_poll_from_ninety_percent_of_a_short_predicted_time(monkeypatch):
    now = [1000.0]
    monkeypatch.setattr(_power.time, "monotonic", lambda: now[0])
    waits, probes = _power.probe_waits(20.0, 0.5), []  # 2 % of 20 s is below poll_s: every poll_s
    while now[0] < 1000.0 + 20:
        now[0] += next(waits)
        probes.append(round(now[0] - 1000.0, 3))
    assert probes == [1.0, 3.0, 7.0, 15.0, 18.0, 18.5, 19.0, 19.5, 20.0]


def test_never_sleeps_past_ninety_percent(monkeypatch):
    now = [1000.0]
    monkeypatch.setattr(_power.time, "monotonic", lambda: now[0])
    waits = _power.probe_waits(100.0, 0.5)
    assert next(waits) == 5.0
    now[0] += 85.0
    assert next(waits) == 5.0  # 10.0 is past 90 %: up to it only
    now[0] += 4.9  # 0.1 s before 90 %: never sleep past it
    assert abs(next(waits) - 0.5) < 1e-9  # floored at poll_s
    now[0] += 0.2
    assert [next(waits) for dummy in range(3)] == [2.0, 2.0, 2.0]  # 2 % of 100 s


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
