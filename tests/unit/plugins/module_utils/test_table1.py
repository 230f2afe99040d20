"""The simulator reproduces the shape of Table 1 of domain.md (the paper's measurements)."""
import os

import pytest
import yaml

from ansible_collections.wavedrain.kvm.plugins.module_utils._planner import baselines
from ansible_collections.wavedrain.kvm.plugins.module_utils._planner.checker import check_plan
from ansible_collections.wavedrain.kvm.plugins.module_utils._planner.model import parse_model

ROOT = os.path.join(os.path.dirname(__file__), "..", "..", "..", "..")
# (completion s, mean migration s, peak power W) measured in the paper
PAPER = {
    ("bladecenter.yml", "sequential"): (2871, 12.2, 2700),
    ("bladecenter.yml", "parallel"): (446, 192.9, 4470),
    ("refresh.yml", "sequential"): (3467, 11.2, 4240),
    ("refresh.yml", "parallel"): (384, 158.0, 6050),
}


@pytest.mark.parametrize("example,strategy", sorted(PAPER))
def test_table1_reproduced(example, strategy):
    with open(os.path.join(ROOT, "examples", example)) as handle:
        model = parse_model(yaml.safe_load(handle))
    plan = getattr(baselines, strategy)(model)
    assert check_plan(model, plan) == []
    completion, mean, peak = PAPER[(example, strategy)]
    got = plan.predicted
    assert got["completion_s"] == pytest.approx(completion, rel=0.20)
    assert got["mean_migration_s"] == pytest.approx(mean, rel=0.20)
    assert got["peak_power_w"] == pytest.approx(peak, rel=0.25)
    assert got["non_live_migrations"] == 0


def test_parallel_is_several_times_faster_but_migrations_far_longer():
    with open(os.path.join(ROOT, "examples", "bladecenter.yml")) as handle:
        model = parse_model(yaml.safe_load(handle))
    seq, par = baselines.sequential(model).predicted, baselines.parallel(model).predicted
    assert seq["completion_s"] / par["completion_s"] > 4
    assert par["mean_migration_s"] / seq["mean_migration_s"] > 10
    assert par["max_online_hosts"] == 30 and seq["max_online_hosts"] == 16
