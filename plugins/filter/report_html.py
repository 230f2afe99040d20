# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
name: report_html
short_description: Render a drain plan (or a run of it) as a self-contained HTML report
version_added: 0.1.0
author:
  - wavedrain maintainers (@wavedrain)
description:
  - Renders the plan returned by M(wavedrain.kvm.drain_plan) as one HTML page with inline SVG
    charts and no external asset or script - a Gantt chart of power-on, migrations and power-off per
    host, link utilisation over time, power and servers online over time against the power budget
    and the license cap, and the comparison table with the yardsticks (sequential, parallel,
    hand-tuned).
  - With O(run), renders the report of a run instead - predicted vs measured per action, then the
    plan's charts. The shape of O(run) is documented in docs/report.md.
options:
  _input:
    description: The plan, format v1 (docs/plan.md).
    type: dict
    required: true
  model:
    description: The datacenter model the plan was made for (docs/model.md).
    type: dict
    required: true
  run:
    description: A run report (C(actions) with C(id), C(predicted_start_s), C(predicted_end_s),
      C(start_s), C(end_s), C(outcome)); renders the run report instead of the plan report.
    type: dict
"""

EXAMPLES = r"""
- name: Write the plan report
  ansible.builtin.copy:
    content: "{{ drain.plan | wavedrain.kvm.report_html(model=datacenter_model) }}"
    dest: /var/tmp/wavedrain/plan.html
    mode: "0644"

- name: Write the run report (predicted vs measured)
  ansible.builtin.copy:
    content: "{{ drain.plan | wavedrain.kvm.report_html(model=datacenter_model, run=run_report) }}"
    dest: /var/tmp/wavedrain/run.html
    mode: "0644"
"""

RETURN = r"""
_value:
  description: The HTML page.
  type: str
"""

from ansible.errors import AnsibleFilterError

from ansible_collections.wavedrain.kvm.plugins.module_utils._inventory_model import _plain
from ansible_collections.wavedrain.kvm.plugins.module_utils._planner.model import ModelError, parse_model
from ansible_collections.wavedrain.kvm.plugins.module_utils._planner.plan import PlanFormatError, plan_from_dict
from ansible_collections.wavedrain.kvm.plugins.module_utils._planner.report import plan_html, run_html
from ansible_collections.wavedrain.kvm.plugins.module_utils._planner.simulator import SimulationError, simulate


def report_html(plan, model, run=None):
    try:
        parsed = parse_model(_plain(model))
        data = _plain(plan)
        the_plan = plan_from_dict(data)
        result = simulate(parsed, the_plan, record_links=True)
    except (ModelError, PlanFormatError, SimulationError) as exc:
        raise AnsibleFilterError("report_html: %s" % exc)
    if run is not None:
        return run_html(parsed, the_plan, _plain(run), result)
    return plan_html(parsed, the_plan, result)


class FilterModule(object):
    def filters(self):
        return {"report_html": report_html}
