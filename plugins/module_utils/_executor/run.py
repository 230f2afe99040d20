# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""One maintenance run, start to end: check the plan, lock and read the journal, run the engine,
replan once if spares did not come up, write the report. The Ansible face (plugins/action/
drain_execute.py) only gathers the inputs and prints."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os
import tempfile

from ansible_collections.wavedrain.kvm.plugins.module_utils._executor import live as live_state
from ansible_collections.wavedrain.kvm.plugins.module_utils._executor.engine import Engine
from ansible_collections.wavedrain.kvm.plugins.module_utils._executor.journal import Journal, JournalError, plan_digest
from ansible_collections.wavedrain.kvm.plugins.module_utils._executor.report import run_table
from ansible_collections.wavedrain.kvm.plugins.module_utils._executor.selection import SelectionError, select
from ansible_collections.wavedrain.kvm.plugins.module_utils._planner.checker import check_plan, graph_violations
from ansible_collections.wavedrain.kvm.plugins.module_utils._planner.model import ModelError, parse_model
from ansible_collections.wavedrain.kvm.plugins.module_utils._planner.plan import PlanFormatError, plan_from_dict


class RunRequest:
    """Everything one run needs. ``planner(model_dict) -> plan dict`` is used to replan."""

    def __init__(self, plan, backend, settings, report_path, journal_path, model=None, waves=None,
                 islands=None, replan_path=None, planner=None, emit=None, check_mode=False):
        self.plan = plan
        self.backend = backend
        self.settings = settings
        self.report_path = report_path
        self.journal_path = journal_path
        self.model = model
        self.waves = waves
        self.islands = islands
        self.replan_path = replan_path
        self.planner = planner
        self.emit = emit or (lambda line, verbosity=0: None)
        self.check_mode = check_mode


def plan_problems(plan, model=None):
    """Why a plan must not run (empty: it may): format v1, graph, and with a model the full checker."""
    try:
        parsed = plan_from_dict(plan)
    except PlanFormatError as exc:
        return list(exc.errors)
    problems = [v.message for v in graph_violations(parsed.actions)]
    if problems or model is None:
        return problems
    try:
        parsed_model = parse_model(model)
    except ModelError as exc:
        return ["the model: %s" % e for e in exc.errors]
    # a hand-written plan without predicted times is checked on its graph and placement only
    return ["the plan breaks the model's rules: %s" % v for v in check_plan(parsed_model, parsed) if v.rule != "timed"]


def write_report(path, report, journal_path):
    """Atomically (a temporary file then a rename); returns an error message or None."""
    tmp = None
    try:
        fd, tmp = tempfile.mkstemp(prefix=".wavedrain-report.", dir=os.path.dirname(os.path.abspath(path)))
        with os.fdopen(fd, "w") as f:
            f.write(json.dumps(report, indent=1) + "\n")
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except OSError as exc:
        if tmp and os.path.exists(tmp):
            os.unlink(tmp)
        return "cannot write the run report %s: %s (the run journal %s keeps every event)" % (path, exc, journal_path)
    return None


def _run_once(req, plan):
    try:
        selected = select(plan["actions"], req.waves, req.islands)
    except SelectionError as exc:
        return None, [str(exc)]
    journal = Journal(req.journal_path, plan_digest(plan))
    try:
        journal.lock()
        if not req.check_mode:
            journal.open()
    except JournalError as exc:
        journal.close()
        return None, [str(exc)]
    try:
        return Engine(plan, req.backend, req.settings, selected, journal, req.emit).run(req.check_mode), []
    finally:
        journal.close()


def _replan(req, first):
    """Plan again from the live state without the spares that did not come up."""
    req.emit("replanning from the live state without %s (did not come up)" % ", ".join(first.failed_boots))
    hosts = sorted(req.model.get("hosts", {}))
    known = [h for h in hosts if h in req.backend.hosts]
    live = live_state.scan(req.backend.virsh, req.backend.uris(known), req.settings.scan_workers)
    new_plan = req.planner(live_state.replan_model(req.model, live, first.failed_boots))
    if req.replan_path:
        with open(req.replan_path, "w") as f:
            json.dump(new_plan, f, indent=1)
        req.emit("new plan written to %s (resume with -e wavedrain_plan_file=%s)" % (req.replan_path, req.replan_path))
    return new_plan


def execute(req):
    """Returns an Ansible-style result dict (failed, msg, ...)."""
    problems = plan_problems(req.plan, req.model)
    if problems:
        return {"failed": True, "msg": "the plan is refused, nothing was touched: " + "; ".join(problems[:20]),
                "problems": problems}
    result, problems = _run_once(req, req.plan)
    if problems or result.refused:
        reasons = problems or result.refused
        return {"failed": True, "msg": "refusing to start, nothing was touched: " + "; ".join(reasons[:20]),
                "problems": reasons}
    if req.check_mode:
        return {"changed": False, "msg": "check mode: nothing was done"}
    report = result.report
    if result.failed_boots and req.settings.replan_on_failure and req.model and req.planner:
        try:
            new_plan = _replan(req, result)
        except Exception as exc:  # pylint: disable=broad-except
            req.emit("replanning failed: %s" % exc)
        else:
            second, problems = _run_once(req, new_plan)
            if second is not None and second.report is not None:
                second.report["replanned_after"] = report
                result, report = second, second.report
            elif problems or second.refused:
                result.failed["replan"] = "the new plan was refused: " + "; ".join(problems or second.refused)
    return _outcome(req, result, report)


def _outcome(req, result, report):
    out = {"changed": True, "report_file": req.report_path, "summary": report["summary"],
           "journal_file": req.journal_path}
    error = write_report(req.report_path, report, req.journal_path)
    for line in run_table(report).splitlines():
        req.emit(line)
    if error:
        out["report_error"] = error
        req.emit(error)
    if result.ok:
        out["msg"] = "plan executed: %s" % ", ".join("%d %s" % (n, o) for o, n in sorted(report["summary"]["outcomes"].items()))
        out["failed"] = bool(error)
        if error:
            out["msg"] = error
        return out
    out["failed"] = True
    out["failed_actions"] = result.failed
    out["not_run"] = sorted(result.blocked)
    out["end_state_problems"] = result.end_state
    parts = []
    if result.end_state:  # every action went through, yet a guest stopped: a rerun would not help
        parts.append("after the run, VMs it moved do not run on their destination: %s." % "; ".join(result.end_state))
    if result.failed or result.blocked:
        parts.append("failed: %s; not run (they depend on a failure): %s. Hosts whose VMs did not all leave "
                     "stay on. Fix the cause and run again: it resumes from the journal and the live state."
                     % ("; ".join("%s: %s" % kv for kv in sorted(result.failed.items())) or "none",
                        ", ".join(sorted(result.blocked)) or "none"))
    out["msg"] = " ".join(parts)
    return out
