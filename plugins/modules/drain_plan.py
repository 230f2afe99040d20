#!/usr/bin/python
# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: drain_plan
short_description: Plan the drain of KVM hypervisors (waves, destinations, boots, power-offs)
version_added: 0.1.0
description:
  - Computes a maintenance plan for the hosts listed in the model's C(maintenance.drain), deciding which
    hosts are emptied together, where every VM goes, which spare hosts are booted and when, how
    many live-migrations run at once on each link, and when each emptied host is powered off.
  - The default strategy solves a mixed-integer program (PuLP with the HiGHS solver), schedules
    migrations in lanes so no link is oversubscribed, replays the plan in the simulator and checks
    it against every constraint of the model. It is never worse than the best of the sequential,
    parallel and hand-tuned yardsticks.
  - A request that cannot be met (too few licenses, a deadline below the lower bound, a VM whose
    working set cannot converge on any path, ...) fails with an explanation.
  - Runs on the controller only; it changes nothing on any host, so check mode computes the same plan.
author:
  - wavedrain.kvm maintainers (@wavedrain)
requirements:
  - PuLP >= 2.8
  - highspy (the HiGHS solver), or another solver PuLP can use
  - PyYAML (only for O(model_file) in YAML)
options:
  model:
    description:
      - The datacenter model as a dictionary (hosts, vms, network, maintenance, constraints).
      - Mutually exclusive with O(model_file); one of them is required.
    type: dict
  model_file:
    description:
      - Path to the datacenter model, in YAML or JSON (by the C(.json) extension), on the controller.
      - The file is read safely; duplicate keys, non-finite numbers (C(.inf), C(.nan)), YAML aliases
        expanding beyond 100000 values, nesting deeper than 64 levels and files above 8 MiB are refused
        with the line and the fix.
    type: path
  plan_file:
    description:
      - If set, the plan is also written there as JSON (not in check mode).
    type: path
  objective:
    description:
      - V(completion) finishes as early as possible, then keeps migrations short.
      - V(migration) keeps the mean migration duration shortest within C(constraints.deadline_s).
      - V(energy) uses the least energy within C(constraints.deadline_s).
    type: str
    default: completion
    choices: [completion, migration, energy]
  time_limit_s:
    description:
      - Time limit of the solver, in seconds. The best plan found is returned with its proven gap.
      - A finite number greater than 0 and at most 86400 (one day).
    type: float
    default: 60
  solver:
    description:
      - Name of the MILP solver PuLP should use (V(highs), V(cbc), V(glpk), ...).
      - Letters, digits and C(_) only; an unavailable solver fails with the list of available ones.
    type: str
    default: highs
  strategy:
    description:
      - V(optimal) plans with the MILP.
      - V(sequential), V(parallel) and V(hand_tuned) return that yardstick as the plan, to run or compare it.
    type: str
    default: optimal
    choices: [optimal, sequential, parallel, hand_tuned]
notes:
  - Supports check mode; the module only computes.
seealso:
  - name: Plan format
    description: The plan format v1 the module returns (docs/plan.md in the collection).
    link: https://github.com/wavedrain/kvm/blob/main/docs/plan.md
"""

EXAMPLES = r"""
- name: Plan the blade-center maintenance and keep the plan on disk
  wavedrain.kvm.drain_plan:
    model_file: examples/bladecenter.yml
    plan_file: /tmp/plan.json
  register: drain

- name: Show the summary
  ansible.builtin.debug:
    var: drain.summary

- name: Least energy within a deadline, with a short solver time limit
  wavedrain.kvm.drain_plan:
    model: "{{ datacenter_model }}"
    objective: energy
    time_limit_s: 20

- name: Return the sequential yardstick as the plan
  wavedrain.kvm.drain_plan:
    model_file: dc.yml
    strategy: sequential
"""

RETURN = r"""
plan:
  description: The plan, format v1 (version, strategy, waves, actions with dependencies and
    predicted times, predicted figures, solver, lower_bound, yardsticks).
  returned: success
  type: dict
  sample:
    version: 1
    strategy: optimal
    predicted: {completion_s: 368.3, mean_migration_s: 11.3}
    solver: {name: highs, status: optimal, gap: 0.0009, time_s: 1.5}
    lower_bound: {completion_s: 367.6}
msg:
  description:
    - One line - strategy, waves, migrations, predicted completion against the proven lower bound and
      the yardsticks, solver status and gap. The full plan is in RV(plan) and in O(plan_file).
  returned: success
  type: str
  sample: "optimal plan: 5 waves, 60 migrations, completion 368 s (lower bound 368 s, within 0.1%);
    11% faster than hand_tuned 413 s; 22% faster than parallel 469 s; 87% faster than sequential
    2,814 s; solver highs optimal, gap 0.0009"
details:
  description:
    - With C(-v) only - the comparison table with the yardsticks and one line per wave, to read in a terminal.
  returned: success, with verbosity 1 or more
  type: list
  elements: str
summary:
  description:
    - Short summary of the plan and of the yardsticks.
    - A yardstick that breaks a constraint lists the broken checker rules in C(breaks), e.g. the
      parallel plan under a license cap (sample below, with O(model) C(max_online_hosts=17)).
  returned: success
  type: dict
  sample:
    waves: 15
    completion_s: 1500.8
    mean_migration_s: 11.3
    lower_bound_s: 1163.9
    sequential: {completion_s: 2814.0, mean_migration_s: 11.3}
    parallel: {completion_s: 468.9, mean_migration_s: 198.5, breaks: [max-online-hosts]}
    hand_tuned: {completion_s: 1500.8, mean_migration_s: 11.3}
errors:
  description: Every reason why the request cannot be met.
  returned: failure
  type: list
  elements: str
  sample: ["constraints.max_online_hosts: 15 while 15 hosts are on and a spare must boot (...): needs at least 16"]
"""

import json
import math
import re
import traceback

from ansible.module_utils.basic import AnsibleModule, missing_required_lib

PULP_IMPORT_ERROR = None
try:
    import pulp  # noqa: F401  pylint: disable=unused-import
except ImportError:
    PULP_IMPORT_ERROR = traceback.format_exc()

from ansible_collections.wavedrain.kvm.plugins.module_utils._documents import DocumentError, load_document_file
from ansible_collections.wavedrain.kvm.plugins.module_utils._planner.baselines import PlacementError
from ansible_collections.wavedrain.kvm.plugins.module_utils._planner.model import ModelError, parse_model
from ansible_collections.wavedrain.kvm.plugins.module_utils._planner.milp import SolverUnavailable
from ansible_collections.wavedrain.kvm.plugins.module_utils._planner.planner import (
    PlanningError, plan_drain, summary)
from ansible_collections.wavedrain.kvm.plugins.module_utils._planner.report import (
    comparison_table_text, default_comparison, plan_headline)
from ansible_collections.wavedrain.kvm.plugins.module_utils._planner.schedule import ScheduleError
from ansible_collections.wavedrain.kvm.plugins.module_utils._planner.simulator import SimulationError


def argument_spec():
    return dict(
        model=dict(type="dict"),
        model_file=dict(type="path"),
        plan_file=dict(type="path"),
        objective=dict(type="str", default="completion", choices=["completion", "migration", "energy"]),
        time_limit_s=dict(type="float", default=60),
        solver=dict(type="str", default="highs"),
        strategy=dict(type="str", default="optimal",
                      choices=["optimal", "sequential", "parallel", "hand_tuned"]),
    )


TIME_LIMIT_MAX_S = 86400.0


def option_problems(params):
    """Problems of the options AnsibleModule cannot check itself (ranges, NaN, shapes)."""
    out = []
    limit = params["time_limit_s"]
    if not (isinstance(limit, float) and math.isfinite(limit) and 0 < limit <= TIME_LIMIT_MAX_S):
        out.append("time_limit_s must be a number of seconds greater than 0 and at most %d, got %r; "
                   "e.g. time_limit_s: 60" % (TIME_LIMIT_MAX_S, limit))
    if not re.match(r"^[A-Za-z0-9_]{1,40}$", params["solver"] or ""):
        out.append("solver must be a solver name such as highs, cbc or glpk (letters, digits, _), "
                   "got %r" % (params["solver"][:60],))
    for option in ("model_file", "plan_file"):
        path = params[option]
        if path is not None and (not path or "\0" in path):
            out.append("%s must be a file path, got %r" % (option, path[:60]))
    return out


def load_model(module):
    if module.params["model"] is not None:
        return module.params["model"]
    path = module.params["model_file"]
    try:
        return load_document_file(path)
    except DocumentError as exc:
        problem = exc.problem if exc.line is None else "line %d: %s" % (exc.line, exc.problem)
        module.fail_json(msg="cannot parse model_file %s: %s" % (path, problem), errors=[problem])


def fail_with_errors(module, errors):
    msg = errors[0] if len(errors) == 1 else "%d problems: %s" % (len(errors), "; ".join(errors))
    module.fail_json(msg=msg, errors=errors)


def run_module():
    module = AnsibleModule(argument_spec=argument_spec(), supports_check_mode=True,
                           mutually_exclusive=[("model", "model_file")],
                           required_one_of=[("model", "model_file")])
    problems = option_problems(module.params)
    if problems:
        fail_with_errors(module, problems)
    if PULP_IMPORT_ERROR:
        module.fail_json(msg=missing_required_lib("PuLP"), exception=PULP_IMPORT_ERROR)
    data = load_model(module)
    try:
        model = parse_model(data)
    except ModelError as exc:
        for warning in exc.warnings:   # a typo hint (memroy_mb) explains the failure: keep it
            module.warn(warning)
        fail_with_errors(module, exc.errors)
    except ValueError as exc:   # parse_model collects its errors: this is a parser bug
        module.fail_json(msg="cannot read the model: %s" % exc, errors=[str(exc)])
    for warning in model.warnings:   # before planning: a failed plan still shows them
        module.warn(warning)
    try:
        plan = plan_drain(model, objective=module.params["objective"], solver=module.params["solver"],
                          time_limit_s=module.params["time_limit_s"], strategy=module.params["strategy"])
    except (ModelError, PlanningError) as exc:
        fail_with_errors(module, exc.errors)
    except SolverUnavailable as exc:
        module.fail_json(msg=str(exc), errors=[str(exc)])
    except (SimulationError, ScheduleError, PlacementError) as exc:
        # the model is valid but the planner could not schedule or replay a plan for it
        module.fail_json(msg="planning failed: %s" % exc, errors=[str(exc)])
    except ValueError as exc:   # any other planner error: still not the model's fault
        module.fail_json(msg="planning failed (%s): %s" % (type(exc).__name__, exc), errors=[str(exc)])
    data = plan.to_dict()
    changed = False
    if module.params["plan_file"] and not module.check_mode:
        text = json.dumps(data, indent=2, sort_keys=False) + "\n"
        try:
            with open(module.params["plan_file"]) as handle:
                changed = handle.read() != text
        except (IOError, OSError):
            changed = True
        if changed:
            try:
                with open(module.params["plan_file"], "w") as handle:
                    handle.write(text)
            except (IOError, OSError) as exc:
                module.fail_json(msg="cannot write plan_file: %s" % exc, errors=[str(exc)])
    result = dict(changed=changed, msg=plan_headline(plan), plan=data, summary=summary(plan))
    if module._verbosity >= 1:   # -v: the comparison table and the waves, line by line
        result["details"] = plan_details(plan)
    module.exit_json(**result)


def plan_details(plan):
    """Readable lines for -v: the comparison with the yardsticks, then each wave."""
    lines = comparison_table_text(default_comparison(plan)).splitlines()
    for wave in plan.waves or plan.compute_waves():
        boots = "; boot " + ", ".join(wave["power_on"]) if wave["power_on"] else ""
        lines.append("wave %s: drain %s%s" % (wave["index"], ", ".join(wave["drain"]) or "-", boots))
    return lines


def main():
    run_module()


if __name__ == "__main__":
    main()
