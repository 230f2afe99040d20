"""Unit tests for the plan filters (plugins/filter/plan.py) and the run report and replan model
of the engine (plugins/module_utils/_executor)."""
import json

import pytest

from ansible.errors import AnsibleFilterError
from ansible_collections.wavedrain.kvm.plugins.module_utils._executor.live import replan_model
from ansible_collections.wavedrain.kvm.plugins.module_utils._executor.report import run_report, run_table
from ansible_collections.wavedrain.kvm.plugins.filter import plan as F

PLAN = {
    "version": 1, "strategy": "optimal",
    "actions": [
        {"id": "boot/s1", "type": "power_on", "host": "s1", "wave": 1, "after": [], "start_s": 0, "end_s": 10},
        {"id": "migrate/a", "type": "migrate", "vm": "a", "source": "h1", "destination": "s1", "wave": 1,
         "after": ["boot/s1"], "start_s": 10, "end_s": 20},
        {"id": "migrate/b", "type": "migrate", "vm": "b", "source": "h1", "destination": "s2", "wave": 1,
         "after": [], "start_s": 0, "end_s": 8},
        {"id": "halt/h1", "type": "power_off", "host": "h1", "wave": 1, "after": ["migrate/a", "migrate/b"],
         "start_s": 20, "end_s": 25},
        {"id": "migrate/c", "type": "migrate", "vm": "c", "source": "h2", "destination": "s2", "wave": 2,
         "after": ["halt/h1"], "start_s": 25, "end_s": 30},
        {"id": "halt/h2", "type": "power_off", "host": "h2", "wave": 2, "after": ["migrate/c"],
         "start_s": 30, "end_s": 35},
    ],
    "predicted": {"completion_s": 35, "mean_migration_s": 7.67},
}


def test_report_and_table():
    results = {"boot/s1": {"start": 1000.0, "end": 1011.0, "outcome": "booted"},
               "migrate/a": {"start": 1011.5, "end": 1022.5, "outcome": "migrated", "attempts": 1,
                             "jobinfo": {"time_elapsed_ms": 9000}},
               "migrate/b": {"start": 1000.0, "end": 1009.0, "outcome": "migrated"},
               "halt/h1": {"start": 1023.0, "end": 1028.0, "outcome": "halted"}}
    results["migrate/c"] = {"outcome": "done_before"}
    rep = run_report(PLAN, results, 1000.0)
    rows = {r["id"]: r for r in rep["actions"]}
    assert rows["migrate/a"]["measured_start_s"] == 11.5 and rows["migrate/a"]["attempts"] == 1
    assert rows["migrate/c"]["outcome"] == "done_before" and rows["halt/h2"]["outcome"] == "not_run"
    s = rep["summary"]
    assert s["measured_completion_s"] == 28.0 and s["predicted_completion_s"] == 35
    assert s["measured_mean_migration_s"] == 10.0 and s["measured_mean_migration_job_s"] == 9.0
    assert s["completion_error"] == pytest.approx(-0.2)
    table = run_table(rep)
    assert "completion (s)" in table and "28.0" in table and "mean migration (s)" in table
    assert "libvirt job time (s)" in table


def test_bad_plan_is_a_filter_error():
    with pytest.raises(AnsibleFilterError):
        F.plan_describe({"version": 1})


def test_describe_for_check_mode():
    lines = F.plan_describe(PLAN, ["boot/s1"])
    assert lines[0].startswith("wave 1 boot/s1: already done")
    assert "would live-migrate a from h1 to s1, after boot/s1 [predicted 10.0-20.0 s]" in lines[1]


def test_problems_of_a_plan_that_cannot_run():
    """A loop, an unknown dependency, a duplicate id or a malformed action would leave the
    executor with nothing ready and the run would end without doing the work: refused at load."""
    assert F.plan_problems(PLAN) == []
    looped = json.loads(json.dumps(PLAN))
    looped["actions"][0]["after"] = ["halt/h2"]
    assert F.plan_problems(looped) == ["the dependencies form a cycle"]
    unknown = json.loads(json.dumps(PLAN))
    unknown["actions"][1]["after"] = ["boot/s9"]
    unknown["actions"].append(dict(unknown["actions"][2]))
    assert F.plan_problems(unknown) == ["action id migrate/b is used twice",
                                        "migrate/a waits for unknown action boot/s9"]
    broken = json.loads(json.dumps(PLAN))
    del broken["actions"][1]["destination"]
    problems = F.plan_problems(broken)
    assert len(problems) == 1 and "destination" in problems[0]
    assert "version must be 1" in F.plan_problems({"version": 2, "actions": []})[0]


def test_replan_model_from_live_state_without_a_spare():
    model = {"hosts": {"h1": {"cpu": 4, "memory_mb": 4096}, "h2": {"cpu": 4, "memory_mb": 4096},
                       "s1": {"cpu": 4, "memory_mb": 4096, "power": "off"},
                       "s2": {"cpu": 4, "memory_mb": 4096, "power": "off"}},
             "vms": {"a": {"host": "h1", "memory_mb": 512}, "b": {"host": "h1", "memory_mb": 512, "destination": "s1"},
                     "c": {"host": "h2", "memory_mb": 512}},
             "maintenance": {"drain": ["h1", "h2"], "targets": ["s1", "s2"]}}
    live = {"h1": {"b": "running"}, "h2": None, "s1": None, "s2": {"a": "running", "c": "running"}}
    m = replan_model(model, live, ["s1"])
    assert m["vms"]["a"]["host"] == "s2" and m["vms"]["c"]["host"] == "s2" and m["vms"]["b"]["host"] == "h1"
    assert "destination" not in m["vms"]["b"]
    assert m["maintenance"] == {"drain": ["h1"], "targets": ["s2"]}
    assert m["hosts"]["s1"]["power"] == "off" and m["hosts"]["s2"]["power"] == "on"
    assert model["vms"]["a"]["host"] == "h1"  # input untouched
