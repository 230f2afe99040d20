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
