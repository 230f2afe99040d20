"""When a boot or a halt is probed (plugins/module_utils/_power.py): a few times while the host
is far from its predicted time, every poll_s near and after it."""
import itertools

from ansible_collections.wavedrain.kvm.plugins.module_utils import _power


def test_few_probes_while_early(monkeypatch):
    now = [1000.0]
    monkeypatch.setattr(_power.time, "monotonic", lambda: now[0])
    waits, probes = _power.probe_waits(400.0, 0.5), []
    while now[0] < 1000.0 + 362:
        now[0] += next(waits)  # the caller sleeps that long, then probes
        probes.append(round(now[0] - 1000.0, 3))
    # at 5, 15, 35 and 75 % of the prediction, at 90 %, then every poll_s
    assert probes[:7] == [20.0, 60.0, 140.0, 300.0, 360.0, 360.5, 361.0]
    assert next(_power.probe_waits(2.0, 0.5)) == 0.5  # never below poll_s


def test_probes_every_poll_from_ninety_percent_of_the_predicted_time(monkeypatch):
    now = [1000.0]
    monkeypatch.setattr(_power.time, "monotonic", lambda: now[0])
    waits = _power.probe_waits(100.0, 0.5)
    assert next(waits) == 5.0
    now[0] += 85.0
    assert next(waits) == 5.0  # 10.0 is past 90 %: up to it only
    now[0] += 4.9  # 0.1 s before 90 %: never sleep past it
    assert abs(next(waits) - 0.5) < 1e-9  # floored at poll_s
    now[0] += 0.2
    assert [next(waits) for dummy in range(3)] == [0.5, 0.5, 0.5]


def test_without_a_prediction_every_poll():
    assert list(itertools.islice(_power.probe_waits(None, 0.3), 4)) == [0.3] * 4
