# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
name: progress
short_description: Where a drain run stands - wave i of n, migrations done and left, ETA from the plan
version_added: 0.1.0
author:
  - wavedrain maintainers (@wavedrain)
description:
  - Given the plan and the ids of the actions already finished, tells which wave runs, how many
    migrations are done and left, and the time still needed according to the plan - the longest
    chain of predicted durations among the actions not done yet (their C(after) dependencies), so
    the ETA follows the plan's own ordering and lanes.
  - C(line) is one human line for C(ansible.builtin.debug), e.g.
    C(wave 2/3 - migrations 4/9 done, 5 left - ETA 1m40s (plan)).
options:
  _input:
    description: The plan, format v1 (docs/plan.md).
    type: dict
    required: true
  done:
    description: Ids of the finished actions (any outcome).
    type: list
    elements: str
    default: []
  elapsed_s:
    description: Seconds since the run started; adds C(late_s), how far behind the plan the run is.
    type: float
"""

EXAMPLES = r"""
- name: Show progress after each wave
  ansible.builtin.debug:
    msg: "{{ (plan | wavedrain.kvm.progress(done=finished_ids)).line }}"
"""

RETURN = r"""
_value:
  description: Progress figures.
  type: dict
  contains:
    wave: {description: First wave with an action not done (n+1 when all are done)., type: int}
    waves: {description: Number of waves., type: int}
    migrations_done: {description: Migrations finished., type: int}
    migrations_total: {description: Migrations in the plan., type: int}
    migrations_remaining: {description: Migrations not finished., type: int}
    actions_done: {description: Actions finished., type: int}
    actions_total: {description: Actions in the plan., type: int}
    eta_s: {description: Predicted seconds still needed., type: float}
    predicted_completion_s: {description: The plan's predicted completion., type: float}
    late_s: {description: With O(elapsed_s) - elapsed minus the predicted time of the state reached., type: float}
    percent: {description: Predicted share of the work done (0 to 100)., type: float}
    line: {description: One human line., type: str}
"""

from ansible.errors import AnsibleFilterError

from ansible_collections.wavedrain.kvm.plugins.module_utils._inventory_model import _plain
from ansible_collections.wavedrain.kvm.plugins.module_utils._planner.plan import PlanFormatError, plan_from_dict


def _clock(seconds):
    seconds = int(round(max(0.0, seconds)))
    if seconds >= 3600:
        return "%dh%02dm" % (seconds // 3600, seconds % 3600 // 60)
    if seconds >= 60:
        return "%dm%02ds" % (seconds // 60, seconds % 60)
    return "%ds" % seconds


def progress(plan, done=None, elapsed_s=None):
    try:
        the_plan = plan_from_dict(_plain(plan))
    except PlanFormatError as exc:
        raise AnsibleFilterError("progress: %s" % exc)
    done = set(str(d) for d in (done or []))
    actions = the_plan.actions
    by_id = the_plan.by_id()
    duration = dict((a.id, max(0.0, (a.end_s or 0.0) - (a.start_s or 0.0))) for a in actions)
    finish = {}

    def finish_of(aid, stack=()):
        if aid in done or aid not in by_id:
            return 0.0
        if aid not in finish:
            if aid in stack:
                raise AnsibleFilterError("progress: dependency cycle through %s" % aid)
            deps = [finish_of(d, stack + (aid,)) for d in by_id[aid].after]
            finish[aid] = max(deps or [0.0]) + duration[aid]
        return finish[aid]

    eta = max([finish_of(a.id) for a in actions] or [0.0])
    waves = sorted(set(a.wave for a in actions))
    pending_waves = sorted(set(a.wave for a in actions if a.id not in done))
    wave = waves.index(pending_waves[0]) + 1 if pending_waves else len(waves) + 1
    migrations = [a for a in actions if a.type == "migrate"]
    m_done = sum(1 for a in migrations if a.id in done)
    completion = float(the_plan.predicted.get("completion_s") or max([a.end_s or 0.0 for a in actions] or [0.0]))
    out = {"wave": wave, "waves": len(waves), "migrations_done": m_done,
           "migrations_total": len(migrations), "migrations_remaining": len(migrations) - m_done,
           "actions_done": sum(1 for a in actions if a.id in done), "actions_total": len(actions),
           "eta_s": round(eta, 1), "predicted_completion_s": completion,
           "percent": round(100.0 * (1 - eta / completion), 1) if completion else 100.0}
    wave_text = "wave %d/%d" % (min(wave, len(waves)), len(waves)) if pending_waves else "all %d waves done" % len(waves)
    line = "%s - migrations %d/%d done, %d left - ETA %s (plan)" % (
        wave_text, m_done, len(migrations), len(migrations) - m_done, _clock(eta))
    if elapsed_s is not None:
        out["late_s"] = round(float(elapsed_s) - (completion - eta), 1)
        if out["late_s"] > 0:
            line += ", %s behind the plan" % _clock(out["late_s"])
    out["line"] = line
    return out


class FilterModule(object):
    def filters(self):
        return {"progress": progress}
