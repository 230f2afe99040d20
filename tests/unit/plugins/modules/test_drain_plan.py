"""wavedrain.kvm.drain_plan: a thin adapter over the planner."""
import json
import os

import pytest
from ansible.module_utils.testing import patch_module_args

from ansible_collections.wavedrain.kvm.plugins.modules import drain_plan

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", "..", ".."))
MODEL = os.path.join(ROOT, "examples", "bladecenter.yml")


def run(args, capsys):
    with patch_module_args(args):
        with pytest.raises(SystemExit) as exit_info:
            drain_plan.main()
    out = json.loads(capsys.readouterr().out)
    return exit_info.value.code, out


def test_plans_from_file_and_writes_plan_json(tmp_path, capsys):
    target = tmp_path / "plan.json"
    code, out = run({"model_file": MODEL, "plan_file": str(target), "time_limit_s": 5}, capsys)
    assert code == 0 and out["changed"] is True
    assert out["plan"]["version"] == 1
    assert json.loads(target.read_text())["predicted"] == out["plan"]["predicted"]
    summary = out["summary"]
    assert summary["completion_s"] <= summary["hand_tuned"]["completion_s"]
    assert {"sequential", "parallel", "hand_tuned", "waves", "mean_migration_s"} <= set(summary)
    assert out["plan"]["solver"]["name"] == "highs"
    assert out["plan"]["lower_bound"]["completion_s"] > 0


def test_check_mode_writes_nothing(tmp_path, capsys):
    target = tmp_path / "plan.json"
    code, out = run({"model_file": MODEL, "plan_file": str(target), "strategy": "sequential",
                     "_ansible_check_mode": True}, capsys)
    assert code == 0 and not target.exists() and out["plan"]["strategy"] == "sequential"


def test_infeasible_request_fails_with_errors(capsys):
    import yaml
    with open(MODEL) as handle:
        model = yaml.safe_load(handle)
    model["constraints"]["max_online_hosts"] = 15
    code, out = run({"model": model, "time_limit_s": 5}, capsys)
    assert code == 1 and out["failed"]
    assert "needs at least 16" in out["msg"]
    assert isinstance(out["errors"], list) and len(out["errors"]) == 1


def test_invalid_model_lists_every_error(capsys):
    code, out = run({"model": {"hosts": {"h": {"cpu": 1}}}}, capsys)
    assert code == 1 and len(out["errors"]) >= 1 and "memory_mb" in out["msg"]


def test_unknown_solver_is_explained(capsys):
    code, out = run({"model_file": MODEL, "solver": "nosuch"}, capsys)
    assert code == 1 and "available solvers: HiGHS" in out["msg"]


def test_argspec_matches_documentation():
    import yaml
    doc = yaml.safe_load(drain_plan.DOCUMENTATION)["options"]
    spec = drain_plan.argument_spec()
    assert set(doc) == set(spec)
    for name, option in spec.items():
        assert doc[name]["type"] == option["type"]
        assert doc[name].get("default") == option.get("default")
        assert doc[name].get("choices") == option.get("choices")


@pytest.mark.parametrize("name, text", [("dc.yml", "hosts: {h1: {cpu: 2\nvms: [\n"),
                                        ("dc.json", '{"hosts": {"h1": {"cpu": 2,}}}'),
                                        ("dc.yml", b"hosts: \xff\xfe\n")])
def test_malformed_model_file_is_explained(tmp_path, capsys, name, text):
    path = tmp_path / name
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text)
    code, out = run({"model_file": str(path)}, capsys)
    assert code == 1 and out["failed"]
    assert out["msg"].startswith("cannot parse model_file %s: " % path), out["msg"]
    assert out["errors"] == [out["msg"][len("cannot parse model_file %s: " % path):]]
    assert "Traceback" not in json.dumps(out)


@pytest.mark.parametrize("error", ["SimulationError", "ScheduleError", "PlacementError"])
def test_planner_failures_are_not_reported_as_model_errors(monkeypatch, capsys, error):
    from ansible_collections.wavedrain.kvm.plugins.module_utils._planner import baselines, schedule, simulator
    cls = {"SimulationError": simulator.SimulationError, "ScheduleError": schedule.ScheduleError,
           "PlacementError": baselines.PlacementError}[error]

    def broken(*args, **kwargs):
        raise cls(["spares never booted"]) if cls is baselines.PlacementError else cls("spares never booted")

    monkeypatch.setattr(drain_plan, "plan_drain", broken)
    code, out = run({"model_file": MODEL, "strategy": "sequential"}, capsys)
    assert code == 1 and out["msg"] == "planning failed: spares never booted"
    assert out["errors"] == ["spares never booted"]


def test_an_unexpected_planner_value_error_is_a_planning_failure(monkeypatch, capsys):
    def broken(*args, **kwargs):
        raise ValueError("math domain error")

    monkeypatch.setattr(drain_plan, "plan_drain", broken)
    code, out = run({"model_file": MODEL}, capsys)
    assert code == 1 and out["msg"] == "planning failed (ValueError): math domain error"


def test_msg_is_one_line_that_says_it_all(tmp_path, capsys):
    code, out = run({"model_file": MODEL, "plan_file": str(tmp_path / "p.json"), "time_limit_s": 5}, capsys)
    assert code == 0 and "\n" not in out["msg"] and "details" not in out
    plan, msg = out["plan"], out["msg"]
    assert msg.startswith(f"{plan['strategy']} plan: {len(plan['waves'])} waves, 60 migrations, completion ")
    assert "lower bound" in msg and f"solver highs {plan['solver']['status']}" in msg
    for name in ("sequential", "parallel", "hand_tuned"):
        assert f"faster than {name} " in msg
    assert json.loads((tmp_path / "p.json").read_text()) == plan      # the full plan is in the file


def test_verbose_adds_readable_details(capsys):
    code, out = run({"model_file": MODEL, "strategy": "sequential", "_ansible_verbosity": 1}, capsys)
    assert code == 0 and out["details"][0].split()[0] == "metric"
    assert sum(1 for line in out["details"] if line.startswith("wave ")) == len(out["plan"]["waves"])
