# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filters over a plan (format v1, docs/plan.md) for playbooks that script around a drain.
Pure functions; the execution itself is the engine's (wavedrain.kvm.drain_execute)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible.errors import AnsibleFilterError

from ansible_collections.wavedrain.kvm.plugins.module_utils._executor.engine import Engine
from ansible_collections.wavedrain.kvm.plugins.module_utils._executor.run import plan_problems as _problems
from ansible_collections.wavedrain.kvm.plugins.module_utils._inventory_model import _plain


def plan_problems(plan, model=None):
    """Why an executor cannot run ``plan`` (empty list: it can): format v1 errors, duplicate ids,
    unknown dependencies, cycles; with ``model``, every rule of the checker."""
    return _problems(_plain(plan), _plain(model) if model is not None else None)


def plan_describe(plan, done=None):
    """One line per action: what it does (or that it is already done)."""
    if not isinstance(plan, dict) or not isinstance(plan.get("actions"), list):
        raise AnsibleFilterError("expected a plan (format v1) with an 'actions' list")
    done = set(done or [])
    out = []
    for a in plan["actions"]:
        after = ", ".join(a.get("after", [])) or "start"
        pred = ""
        if a.get("start_s") is not None and a.get("end_s") is not None:
            pred = " [predicted %.1f-%.1f s]" % (a["start_s"], a["end_s"])
        state = "already done" if a["id"] in done else "would " + Engine.verb(a)
        out.append("wave %s %s: %s, after %s%s" % (a.get("wave"), a["id"], state, after, pred))
    return out


class FilterModule(object):
    """Plan filters."""

    def filters(self):
        return {"plan_problems": plan_problems, "plan_describe": plan_describe}
