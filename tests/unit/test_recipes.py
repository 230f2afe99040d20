"""docs/recipes.md runs as written: its play and tasks, with community.general.json_query, on a
committed plan (examples/bladecenter.yml) and the report of a run of its waves 1-2 where one
migration failed; every result is checked against the same facts computed here in Python."""
import json
import os
import re
import subprocess
import sys

import pytest
import yaml

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
FIXTURES = os.path.join(ROOT, "tests", "unit", "fixtures", "recipes")
BIN = os.path.dirname(sys.executable)
FACTS = ("wave2_notices", "change_tickets", "cmdb_moves", "cmdb_powered_off", "needs_attention", "left_to_run")


def load(name):
    with open(os.path.join(FIXTURES, name)) as handle:
        return yaml.safe_load(handle)


@pytest.fixture(scope="module")
def recipes(tmp_path_factory):
    with open(os.path.join(ROOT, "docs", "recipes.md")) as handle:
        blocks = [yaml.safe_load(b) for b in re.findall(r"```yaml\n(.*?)```", handle.read(), re.S)]
    play, tasks = blocks[0][0], [task for block in blocks[1:] for task in block]
    out = tmp_path_factory.mktemp("recipes") / "facts.json"
    play["tasks"] = tasks + [{"name": "Keep the results", "ansible.builtin.copy": {
        "content": "{{ {%s} | to_json }}" % ", ".join(f"'{f}': {f}" for f in FACTS), "dest": str(out),
        "mode": "0644"}}]
    playbook = out.parent / "recipes.yml"
    playbook.write_text(yaml.safe_dump([play], sort_keys=False))
    extra = {"plan_file": os.path.join(FIXTURES, "plan.json"), "report_file": os.path.join(FIXTURES, "run_report.json"),
             "model_file": os.path.join(ROOT, "examples", "bladecenter.yml"),
             "owners_file": os.path.join(FIXTURES, "owners.yml"), "ansible_python_interpreter": sys.executable}
    proc = subprocess.run([os.path.join(BIN, "ansible-playbook"), "-i", "localhost,", "-c", "local", str(playbook),
                           "-e", json.dumps(extra)], capture_output=True, text=True, timeout=300, check=False,
                          env=dict(os.environ, ANSIBLE_NOCOLOR="1"))
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return json.loads(out.read_text()), proc.stdout


def test_wave2_owners(recipes):
    facts, stdout = recipes
    plan, owners = load("plan.json"), load("owners.yml")
    moving = [a for a in plan["actions"] if a["type"] == "migrate" and a["wave"] == 2]
    assert len(moving) == 12
    assert facts["wave2_notices"] == [{"vm": a["vm"], "from": a["source"], "to": a["destination"],
                                       "start_s": a["start_s"], "owner": owners.get(a["vm"], "unknown")}
                                      for a in moving]
    for owner in set(owners.values()):
        vms = sorted(vm for vm, who in owners.items() if who == owner and any(a["vm"] == vm for a in moving))
        assert any(owner in line and all(vm in line for vm in vms) for line in stdout.splitlines())


def test_change_tickets_per_wave_and_rack(recipes):
    facts, dummy = recipes
    plan, model = load("plan.json"), yaml.safe_load(open(os.path.join(ROOT, "examples", "bladecenter.yml")))
    expected = {}
    for wave in plan["waves"]:
        for role, hosts in (("drain", wave["drain"]), ("boot", wave["power_on"])):
            for host in hosts:
                rack = model["hosts"][host]["switch"]
                ticket = expected.setdefault(f"wave {wave['index']} / {rack}", {"drain": [], "boot": []})
                ticket[role].append(host)
    assert {t["ticket"]: {"drain": t["drain"], "boot": t["boot"]} for t in facts["change_tickets"]} == expected
    assert all(t["ticket"] == f"wave {t['wave']} / {t['rack']}" for t in facts["change_tickets"])
    assert len(expected) > len(plan["waves"])      # waves span racks: a ticket is a (wave, rack)


def test_cmdb_feed_from_the_run_report(recipes):
    facts, dummy = recipes
    run = load("run_report.json")
    moved = [r for r in run["actions"] if r["type"] == "migrate" and r["outcome"] in ("migrated", "non_live")]
    assert len(moved) == 23
    assert facts["cmdb_moves"] == [{"vm": r["vm"], "hypervisor": r["destination"], "previous": r["source"],
                                    "moved_at_s": r["measured_end_s"], "downtime_ms": r["jobinfo"]["downtime_ms"]}
                                   for r in moved]
    assert facts["cmdb_powered_off"] == [r["host"] for r in run["actions"]
                                         if r["type"] == "power_off" and r["outcome"] == "halted"]
    assert facts["needs_attention"] == [{"action": "migrate/vm-1-04-0",
                                         "why": "virsh migrate: operation failed: migration job: unexpectedly failed"}]
    assert facts["left_to_run"] == [3, 4, 5]
