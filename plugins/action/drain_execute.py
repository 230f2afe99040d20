# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Ansible face of the execution engine (plugins/module_utils/_executor): gathers the plan, the
model, the settings and each host's access from the inventory, prints the engine's lines live."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import ctypes
import ctypes.util
import signal
import sys

from ansible.plugins.action import ActionBase
from ansible.utils.display import Display

from ansible_collections.wavedrain.kvm.plugins.module_utils._documents import DocumentError, load_document_file
from ansible_collections.wavedrain.kvm.plugins.module_utils._executor.backend import Backend
from ansible_collections.wavedrain.kvm.plugins.module_utils._executor.hosts import HostAccessError, host_access
from ansible_collections.wavedrain.kvm.plugins.module_utils._executor.run import RunRequest, execute
from ansible_collections.wavedrain.kvm.plugins.module_utils._executor.settings import SETTINGS, ExecutionSettings, SettingsError
from ansible_collections.wavedrain.kvm.plugins.module_utils._libvirt import Virsh

display = Display()

ARGS = ("plan", "plan_file", "model", "model_file", "report_file", "journal_file", "waves", "islands",
        "replan_file", "objective", "time_limit_s") + tuple(SETTINGS)


class InputError(ValueError):
    """An argument of the task that cannot be right; the message names it and the fix."""


def _emit(line, verbosity=0):
    if verbosity:
        display.verbose(line, caplevel=verbosity - 1)
    else:
        display.display(line)


def _die_with_the_controller():
    """Ansible runs this in a worker process of its own session: were ansible-playbook killed, the
    engine would go on alone. Ask Linux to kill it with its parent, as a killed controller should
    be; running migrations live on (own session) and the next run resumes from the journal."""
    if not sys.platform.startswith("linux"):
        return
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c"), use_errno=True)
        libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


def _time_limit_s(value):
    """The replan's planning time limit: a finite number of seconds > 0 (default 60)."""
    try:
        seconds = 60.0 if value in (None, "") else float(value)
    except (TypeError, ValueError):
        seconds = float("nan")
    if not 0 < seconds < float("inf"):
        raise InputError("time_limit_s=%r (wavedrain_time_limit_s): use a number of seconds > 0" % (value,))
    return seconds


def _planner(objective, time_limit_s):
    """drain_plan's library call, for a replan; imported here so that PuLP loads only when needed."""
    def plan(model_dict):
        from ansible_collections.wavedrain.kvm.plugins.module_utils._planner.model import parse_model
        from ansible_collections.wavedrain.kvm.plugins.module_utils._planner.planner import plan_drain
        return plan_drain(parse_model(model_dict), objective=objective, time_limit_s=time_limit_s).to_dict()
    return plan


class ActionModule(ActionBase):
    TRANSFERS_FILES = False
    _VALID_ARGS = frozenset(ARGS)

    def _document(self, name):
        """The plan or model: given inline, or read from its file (bounded, duplicate keys refused)."""
        inline, path = self._task.args.get(name), self._task.args.get(name + "_file")
        if inline is not None and path:
            raise InputError("give %s or %s_file, not both" % (name, name))
        if inline is not None:
            return inline
        return load_document_file(path) if path else None

    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        args = self._task.args
        try:
            plan, model = self._document("plan"), self._document("model")
            settings = ExecutionSettings(**{k: args.get(k) for k in SETTINGS})
            if not isinstance(plan, dict):
                raise InputError("no plan: set plan or plan_file (a plan in format v1, docs/plan.md)")
            hosts = host_access(plan, model, task_vars["hostvars"])
            planner = _planner(args.get("objective") or "completion", _time_limit_s(args.get("time_limit_s")))
        except (InputError, DocumentError, SettingsError, HostAccessError) as exc:
            result.update(failed=True, msg=str(exc))
            return result
        report_file = args.get("report_file") or "wavedrain-report.json"
        journal_file = args.get("journal_file") or (args.get("plan_file") or report_file) + ".journal"
        request = RunRequest(
            plan, Backend(hosts, settings, Virsh()), settings, report_file, journal_file, model=model,
            waves=args.get("waves"), islands=args.get("islands"), replan_path=args.get("replan_file"),
            planner=planner,
            emit=_emit, check_mode=bool(self._task.check_mode))
        _die_with_the_controller()
        result.update(execute(request))
        return result
