"""When a boot or a halt is probed (plugins/module_utils/_power.py): early and sparse while the
host is far from its predicted time, every poll_s near and after it."""
import itertools

from ansible_collections.wavedrain.kvm.plugins.module_utils import _power


def test_probes_grow_to_a_fifth_of_the_predicted_time_while_early():
    waits = list(itertools.islice(_power.probe_waits(400.0, 0.5), 8))
    assert waits == [4.0, 8.0, 16.0, 32.0, 64.0, 80.0, 80.0, 80.0]
    assert next(_power.probe_waits(10.0, 0.5)) == 0.5  # never below poll_s


def test_probes_every_poll_from_ninety_percent_of_the_predicted_time(monkeypatch):
    now = [1000.0]
    monkeypatch.setattr(_power.time, "monotonic", lambda: now[0])
    waits = _power.probe_waits(100.0, 0.5)
    assert next(waits) == 1.0
    now[0] += 85.0
    assert next(waits) == 2.0
    now[0] += 4.9  # 0.1 s before 90 %: never sleep past it
    assert abs(next(waits) - 0.5) < 1e-9  # floored at poll_s
    now[0] += 0.2
    assert [next(waits) for dummy in range(3)] == [0.5, 0.5, 0.5]


def test_without_a_prediction_every_poll():
    assert list(itertools.islice(_power.probe_waits(None, 0.3), 4)) == [0.3] * 4
