"""The drain_execute action refuses wrong task arguments with a message, never a traceback."""
import json
import os
import subprocess
import sys

import pytest

ANSIBLE = os.path.join(os.path.dirname(sys.executable), "ansible")


def run_action(args):
    env = dict(os.environ, ANSIBLE_LOAD_CALLBACK_PLUGINS="1", ANSIBLE_STDOUT_CALLBACK="json")
    r = subprocess.run([ANSIBLE, "localhost", "-m", "wavedrain.kvm.drain_execute", "-a", json.dumps(args)],
                       capture_output=True, text=True, env=env, timeout=120, check=False)
    result = json.loads(r.stdout)["plays"][0]["tasks"][0]["hosts"]["localhost"]
    assert result.get("failed"), result
    # ansible-core marks every failed action result "(traceback unavailable)"; a real one shows
    assert "Traceback (most recent call last)" not in r.stdout + r.stderr + str(result.get("exception")), result
    return result["msg"]


@pytest.mark.parametrize("args, message", [
    ({"waves": "1"}, "no plan: set plan or plan_file"),
    ({"plan": {"version": 1, "actions": []}, "plan_file": "p.json"}, "give plan or plan_file, not both"),
    ({"plan": {"version": 1, "actions": []}, "time_limit_s": "soon"}, "time_limit_s='soon'"),
    ({"plan": {"version": 1, "actions": []}, "poll_s": "nan"}, "wavedrain_poll_s='nan'"),
    ({"plan_file": "/nonexistent/plan.json"}, "/nonexistent/plan.json"),
])
def test_wrong_arguments_are_refused_by_name(args, message):
    assert message in run_action(args)
