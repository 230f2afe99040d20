"""Unit tests for the plan execution filters (plugins/filter/plan.py)."""
import json

import pytest

from ansible.errors import AnsibleFilterError
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


def ids(actions):
    return [a["id"] for a in actions]


def test_ready_at_start_is_every_action_without_dependencies():
    assert ids(F.plan_ready(PLAN)) == ["boot/s1", "migrate/b"]


def test_ready_waits_for_all_dependencies_and_skips_started():
    assert ids(F.plan_ready(PLAN, ["boot/s1"], {"migrate/b": {}})) == ["migrate/a"]
    assert ids(F.plan_ready(PLAN, ["boot/s1", "migrate/a"], ["migrate/b"])) == []
    assert ids(F.plan_ready(PLAN, ["boot/s1", "migrate/a", "migrate/b"])) == ["halt/h1"]


def test_failure_blocks_dependents_transitively():
    assert F.plan_blocked(PLAN, ["migrate/a"]) == ["halt/h1", "halt/h2", "migrate/c"]
    assert ids(F.plan_ready(PLAN, ["boot/s1", "migrate/b"], [], ["migrate/a"])) == []


def test_bad_plan_is_a_filter_error():
    with pytest.raises(AnsibleFilterError):
        F.plan_ready({"version": 1})


VIRSH_H1 = " Id   Name   State\n------------------------\n 3    b      running\n"
VIRSH_S1 = " Id   Name   State\n------------------------\n 1    a      running\n -    x      shut off\n"


def test_live_state_from_registered_loop():
    scan = {"results": [{"item": "h1", "rc": 0, "stdout": VIRSH_H1},
                        {"item": "s1", "rc": 0, "stdout": VIRSH_S1},
                        {"item": "s2", "rc": 1, "stdout": ""}]}
    live = F.plan_live(scan)
    assert live["h1"] == {"on": True, "domains": {"b": "running"}}
    assert live["s1"]["domains"] == {"a": "running", "x": "shut off"}
    assert live["s2"] == {"on": False, "domains": {}}


def test_done_from_live_state():
    live = {"h1": VIRSH_H1, "s1": VIRSH_S1, "s2": None, "h2": None}
    # s1 answers: booted; a runs on s1 and is gone from h1: migrated; b still on h1
    assert F.plan_done(PLAN, live) == ["boot/s1", "migrate/a"]
    # a power-off is done only when the BMC says off and libvirt does not answer
    assert "halt/h2" in F.plan_done(PLAN, live, off=["h2"])
    assert "halt/h1" not in F.plan_done(PLAN, live, off=["h1"])


def test_migration_not_done_while_source_still_defines_the_vm():
    live = {"h1": " Id Name State\n - a shut off\n", "s1": VIRSH_S1}
    assert "migrate/a" not in F.plan_done(PLAN, live)


def test_waves_and_events():
    waves = F.plan_waves(PLAN, ["boot/s1"], ["migrate/a"])
    assert waves[0]["state"] == "running" and waves[0]["of"] == 2
    assert waves[0]["migrations_remaining"] == 2 and waves[1]["state"] == "pending"
    msgs = F.plan_wave_events(waves, {})
    assert msgs == ["wave 1 of 2 started (4 actions; migrations done 0, remaining 2)"]
    assert F.plan_wave_events(waves, {"1": "running"}) == []
    done = ["boot/s1", "migrate/a", "migrate/b", "halt/h1"]
    msgs = F.plan_wave_events(F.plan_waves(PLAN, done), {"1": "running"})
    assert msgs == ["wave 1 of 2 ended (migrations done 2, remaining 0)"]
    failed = F.plan_waves(PLAN, ["boot/s1", "migrate/b"], [], ["migrate/a"])
    assert failed[0]["state"] == "failed" and failed[0]["blocked"] == ["halt/h1"]
    assert "stopped: failed migrate/a, not run halt/h1" in F.plan_wave_events(failed, {"1": "running"})[0]


def test_collect_reads_async_results(tmp_path):
    running_file = tmp_path / "j1"
    running_file.write_text(json.dumps({"started": True, "finished": False, "ansible_job_id": "j1"}))
    mig = tmp_path / "j2"
    mig.write_text(json.dumps({"changed": True, "outcome": "migrated", "attempts": 1, "start_time": 100.0,
                               "end_time": 109.5, "jobinfo": {"time_elapsed_ms": 8000}}))
    boot = tmp_path / "j3"
    boot.write_text(json.dumps({"rc": 0, "stdout": "already on\nlibvirt answers",
                                "start": "2026-01-01 10:00:00.000000", "end": "2026-01-01 10:00:01.500000"}))
    halt = tmp_path / "j4"
    halt.write_text(json.dumps({"rc": 3, "failed": True, "msg": "non-zero return code",
                                "stderr": "refusing to power off h1: it still holds domains: a"}))
    running = {"migrate/b": {"type": "migrate", "results_file": str(running_file), "start": 1.0},
               "migrate/a": {"type": "migrate", "results_file": str(mig), "start": 99.0},
               "boot/s1": {"type": "power_on", "results_file": str(boot), "start": 5.0},
               "halt/h1": {"type": "power_off", "results_file": str(halt), "start": 7.0},
               "halt/h2": {"type": "power_off", "results_file": str(tmp_path / "missing"), "start": 7.0}}
    out = F.plan_collect(running, now=200.0)
    assert list(out["running"]) == ["migrate/b"]
    assert sorted(out["done"]) == ["boot/s1", "migrate/a"]
    assert sorted(out["failed"]) == ["halt/h1", "halt/h2"]
    assert out["results"]["migrate/a"]["end"] == 109.5
    assert out["results"]["migrate/a"]["jobinfo"]["time_elapsed_ms"] == 8000
    assert out["results"]["boot/s1"]["outcome"] == "already_on"
    assert out["results"]["halt/h1"]["message"].startswith("refusing to power off h1")
    assert "missing" in out["results"]["halt/h2"]["message"]


def test_report_and_table():
    results = {"boot/s1": {"start": 1000.0, "end": 1011.0, "outcome": "booted"},
               "migrate/a": {"start": 1011.5, "end": 1022.5, "outcome": "migrated", "attempts": 1,
                             "jobinfo": {"time_elapsed_ms": 9000}},
               "migrate/b": {"start": 1000.0, "end": 1009.0, "outcome": "migrated"},
               "halt/h1": {"start": 1023.0, "end": 1028.0, "outcome": "halted"}}
    rep = F.plan_report(PLAN, results, 1000.0, done_before=["migrate/c"])
    rows = {r["id"]: r for r in rep["actions"]}
    assert rows["migrate/a"]["measured_start_s"] == 11.5 and rows["migrate/a"]["attempts"] == 1
    assert rows["migrate/c"]["outcome"] == "done_before" and rows["halt/h2"]["outcome"] == "not_run"
    s = rep["summary"]
    assert s["measured_completion_s"] == 28.0 and s["predicted_completion_s"] == 35
    assert s["measured_mean_migration_s"] == 10.0 and s["measured_mean_migration_job_s"] == 9.0
    assert s["completion_error"] == pytest.approx(-0.2)
    table = F.plan_table(rep)
    assert "completion (s)" in table and "28.0" in table and "mean migration (s)" in table
    assert "libvirt job time (s)" in table


def test_describe_for_check_mode():
    lines = F.plan_describe(PLAN, ["boot/s1"])
    assert lines[0].startswith("wave 1 boot/s1: already done")
    assert "would live-migrate a from h1 to s1, after boot/s1 [predicted 10.0-20.0 s]" in lines[1]


def test_filters_are_registered():
    names = set(F.FilterModule().filters())
    assert {"plan_ready", "plan_blocked", "plan_done", "plan_collect", "plan_run_report"} <= names


def test_replan_model_from_live_state_without_a_spare():
    model = {"hosts": {"h1": {"cpu": 4, "memory_mb": 4096}, "h2": {"cpu": 4, "memory_mb": 4096},
                       "s1": {"cpu": 4, "memory_mb": 4096, "power": "off"},
                       "s2": {"cpu": 4, "memory_mb": 4096, "power": "off"}},
             "vms": {"a": {"host": "h1", "memory_mb": 512}, "b": {"host": "h1", "memory_mb": 512, "destination": "s1"},
                     "c": {"host": "h2", "memory_mb": 512}},
             "maintenance": {"drain": ["h1", "h2"], "targets": ["s1", "s2"]}}
    live = {"h1": " Id Name State\n 1 b running\n", "h2": None, "s1": None,
            "s2": " Id Name State\n 1 a running\n 2 c running\n"}
    m = F.plan_replan_model(model, live, ["s1"])
    assert m["vms"]["a"]["host"] == "s2" and m["vms"]["c"]["host"] == "s2" and m["vms"]["b"]["host"] == "h1"
    assert "destination" not in m["vms"]["b"]
    assert m["maintenance"] == {"drain": ["h1"], "targets": ["s2"]}
    assert m["hosts"]["s1"]["power"] == "off" and m["hosts"]["s2"]["power"] == "on"
    assert model["vms"]["a"]["host"] == "h1"  # input untouched


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
