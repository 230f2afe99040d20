# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filters that drive the execution of a plan (format v1, docs/plan.md).

The maintenance playbook keeps three sets of action ids (done, started, failed) and asks
these filters which actions may start now, which ones can never run, what the live state
says is already done, how the waves progress, and how the run compares with the plan.
Every filter is a pure function of its arguments.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import datetime
import json
import time

from ansible.errors import AnsibleFilterError

from ansible_collections.wavedrain.kvm.plugins.module_utils._inventory_model import _plain
from ansible_collections.wavedrain.kvm.plugins.module_utils._planner.checker import graph_violations
from ansible_collections.wavedrain.kvm.plugins.module_utils._planner.plan import PlanFormatError, plan_from_dict


def _actions(plan):
    if not isinstance(plan, dict) or not isinstance(plan.get("actions"), list):
        raise AnsibleFilterError("expected a plan (format v1) with an 'actions' list")
    return plan["actions"]


def _ids(value):
    if value is None:
        return set()
    if isinstance(value, dict):
        return set(value.keys())
    if isinstance(value, str):
        return {value}
    return set(value)


def plan_problems(plan):
    """Why an executor cannot run ``plan`` (empty list: it can): format v1 errors, duplicate
    ids, unknown dependencies, cycles. Checked once when the plan is loaded; the other filters
    assume a plan that passed it."""
    try:
        actions = plan_from_dict(_plain(plan)).actions
    except PlanFormatError as exc:
        return [str(exc)]
    return [v.message for v in graph_violations(actions)]


def plan_ready(plan, done=None, started=None, failed=None):
    """Actions not done/started/failed whose every ``after`` is done, in plan order."""
    done, started, failed = _ids(done), _ids(started), _ids(failed)
    blocked = set(plan_blocked(plan, failed))
    out = []
    for a in _actions(plan):
        aid = a["id"]
        if aid in done or aid in started or aid in failed or aid in blocked:
            continue
        if all(d in done for d in a.get("after", [])):
            out.append(a)
    return out


def plan_blocked(plan, failed=None):
    """Ids of actions that depend, directly or transitively, on a failed action."""
    failed = _ids(failed)
    blocked = set()
    changed = True
    actions = _actions(plan)
    while changed:
        changed = False
        for a in actions:
            if a["id"] in blocked or a["id"] in failed:
                continue
            if any(d in failed or d in blocked for d in a.get("after", [])):
                blocked.add(a["id"])
                changed = True
    return sorted(blocked)


def _parse_virsh_list(text):
    """`virsh list --all` table -> {domain: state}."""
    doms = {}
    for line in (text or "").splitlines():
        parts = line.split()
        if len(parts) < 3 or parts[0] == "Id" or set(line.strip()) <= {"-"}:
            continue
        doms[parts[1]] = " ".join(parts[2:])
    return doms


def _live_domains(entry):
    """A live-state entry: None (libvirt does not answer), a dict, or `virsh list --all` text."""
    if entry is None or entry is False:
        return None
    if isinstance(entry, dict):
        if not entry.get("on", True):
            return None
        doms = entry.get("domains", {})
        if isinstance(doms, str):
            return _parse_virsh_list(doms)
        if isinstance(doms, list):
            return dict((d, "running") for d in doms)
        return dict(doms)
    return _parse_virsh_list(entry)


def plan_live(live):
    """Normalise live state to {host: {'on': bool, 'domains': {vm: state}}}.

    Also accepts the registered results of a loop over hosts running `virsh list --all`
    (a list of {item, rc, stdout}).
    """
    if isinstance(live, dict) and isinstance(live.get("results"), list):
        live = live["results"]
    if isinstance(live, list):
        live = dict((r["item"], r.get("stdout") if r.get("rc") == 0 else None) for r in live)
    out = {}
    for host, entry in (live or {}).items():
        doms = _live_domains(entry)
        out[host] = {"on": doms is not None, "domains": doms or {}}
    return out


def plan_done(plan, live, off=None):
    """Ids of actions the live state shows as finished.

    live maps every host to None (its libvirt does not answer) or to what it holds
    (`virsh list --all` output or {'domains': ...}); ``off`` lists hosts whose BMC
    reports off.
    """
    state = plan_live(live)
    off = _ids(off)
    done = set()
    for a in _actions(plan):
        t = a.get("type")
        if t == "power_on":
            if state.get(a["host"], {}).get("on"):
                done.add(a["id"])
        elif t == "migrate":
            dst = state.get(a["destination"], {})
            src = state.get(a["source"], {})
            on_dst = dst.get("domains", {}).get(a["vm"]) == "running"
            on_src = a["vm"] in src.get("domains", {})
            if on_dst and not on_src:
                done.add(a["id"])
        elif t == "power_off":
            if a["host"] in off and not state.get(a["host"], {}).get("on"):
                done.add(a["id"])
    return sorted(done)


def plan_waves(plan, done=None, started=None, failed=None):
    """Per wave: index, of (number of waves), state, action and migration counts."""
    done, started, failed = _ids(done), _ids(started), _ids(failed)
    blocked = set(plan_blocked(plan, failed))
    waves = {}
    for a in _actions(plan):
        w = waves.setdefault(a.get("wave", 1), {"actions": [], "migrations": []})
        w["actions"].append(a["id"])
        if a.get("type") == "migrate":
            w["migrations"].append(a["id"])
    out = []
    for idx in sorted(waves):
        ids = waves[idx]["actions"]
        mig = waves[idx]["migrations"]
        n_done = sum(1 for i in ids if i in done)
        if any(i in failed or i in blocked for i in ids):
            st = "failed" if all(i in done or i in failed or i in blocked for i in ids) else "running"
        elif n_done == len(ids):
            st = "done"
        elif any(i in done or i in started for i in ids):
            st = "running"
        else:
            st = "pending"
        out.append({
            "index": idx, "of": len(waves), "state": st, "actions": len(ids),
            "actions_done": n_done,
            "migrations": len(mig),
            "migrations_done": sum(1 for i in mig if i in done),
            "migrations_remaining": sum(1 for i in mig if i not in done),
            "failed": sorted(i for i in ids if i in failed),
            "blocked": sorted(i for i in ids if i in blocked),
        })
    return out


def plan_wave_events(waves, previous=None):
    """Messages for waves whose state changed since ``previous`` ({index: state})."""
    previous = previous or {}
    msgs = []
    for w in waves:
        old = previous.get(str(w["index"]), previous.get(w["index"], "pending"))
        if w["state"] == old:
            continue
        head = "wave %d of %d" % (w["index"], w["of"])
        counts = "migrations done %d, remaining %d" % (w["migrations_done"], w["migrations_remaining"])
        if w["state"] == "running" and old == "pending":
            msgs.append("%s started (%d actions; %s)" % (head, w["actions"], counts))
        elif w["state"] == "done":
            if old == "pending":
                msgs.append("%s started" % head)
            msgs.append("%s ended (%s)" % (head, counts))
        elif w["state"] == "failed":
            msgs.append("%s stopped: failed %s, not run %s (%s)"
                        % (head, ", ".join(w["failed"]) or "-", ", ".join(w["blocked"]) or "-", counts))
    return msgs


def _epoch(value):
    if value is None or value == "":
        return None
    if isinstance(value, (int, float)):
        return float(value)
    s = str(value)
    for fmt in ("%Y-%m-%d %H:%M:%S.%f", "%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M:%S.%f", "%Y-%m-%dT%H:%M:%S"):
        try:
            return datetime.datetime.strptime(s, fmt).timestamp()
        except ValueError:
            continue
    try:
        return float(s)
    except ValueError:
        raise AnsibleFilterError("cannot read a time from %r" % (value,))


def _mean(xs):
    return round(sum(xs) / len(xs), 3) if xs else None


def plan_report(plan, results=None, t0=None, done_before=None):
    """Report of a run: each action predicted vs measured, and the totals.

    results maps action ids to {'start', 'end', 'outcome', ...} (epoch seconds or
    'YYYY-mm-dd HH:MM:SS.ffffff' local times); t0 is the run start (epoch).
    """
    results = results or {}
    before = _ids(done_before)
    t0 = _epoch(t0)
    rows = []
    measured_ends = []
    mig_measured, mig_predicted, mig_job = [], [], []
    for a in _actions(plan):
        r = results.get(a["id"], {})
        start, end = _epoch(r.get("start")), _epoch(r.get("end"))
        row = {
            "id": a["id"], "type": a.get("type"), "wave": a.get("wave"),
            "predicted_start_s": a.get("start_s"), "predicted_end_s": a.get("end_s"),
            "measured_start_s": round(start - t0, 3) if start is not None and t0 is not None else None,
            "measured_end_s": round(end - t0, 3) if end is not None and t0 is not None else None,
            "outcome": r.get("outcome", "done_before" if a["id"] in before else "not_run"),
        }
        for k in ("vm", "source", "destination", "host"):
            if k in a:
                row[k] = a[k]
        for k in ("attempts", "jobinfo", "message", "non_live"):
            if k in r:
                row[k] = r[k]
        if row["measured_end_s"] is not None:
            measured_ends.append(row["measured_end_s"])
        if a.get("type") == "migrate":
            if a.get("start_s") is not None and a.get("end_s") is not None:
                mig_predicted.append(a["end_s"] - a["start_s"])
            if start is not None and end is not None and row["outcome"] in ("migrated", "non_live"):
                mig_measured.append(end - start)
                job_ms = (r.get("jobinfo") or {}).get("time_elapsed_ms")
                if job_ms is not None:
                    mig_job.append(job_ms / 1000.0)
        rows.append(row)
    pred = plan.get("predicted", {}) or {}
    outcomes = {}
    for row in rows:
        outcomes[row["outcome"]] = outcomes.get(row["outcome"], 0) + 1
    summary = {
        "predicted_completion_s": pred.get("completion_s"),
        "measured_completion_s": round(max(measured_ends), 3) if measured_ends else None,
        "predicted_mean_migration_s": pred.get("mean_migration_s", _mean(mig_predicted)),
        "measured_mean_migration_s": _mean(mig_measured),
        # libvirt's own "Time elapsed" (domjobinfo --completed): without the setup of the
        # destination QEMU and the executor's overhead
        "measured_mean_migration_job_s": _mean(mig_job),
        "outcomes": outcomes,
    }
    pc, mc = summary["predicted_completion_s"], summary["measured_completion_s"]
    summary["completion_error"] = round((mc - pc) / pc, 4) if pc and mc is not None else None
    return {"version": 1, "strategy": plan.get("strategy"), "summary": summary, "actions": rows}


def _fmt(v):
    if v is None:
        return "-"
    if isinstance(v, float):
        return "%.1f" % v
    return str(v)


def plan_table(report):
    """Text table of a report: one line per action, then predicted vs measured totals."""
    head = ("action", "wave", "pred start", "pred end", "meas start", "meas end", "outcome")
    lines = [head]
    for r in report.get("actions", []):
        lines.append((r["id"], _fmt(r.get("wave")), _fmt(r.get("predicted_start_s")),
                      _fmt(r.get("predicted_end_s")), _fmt(r.get("measured_start_s")),
                      _fmt(r.get("measured_end_s")), r.get("outcome", "-")))
    widths = [max(len(str(line[i])) for line in lines) for i in range(len(head))]
    out = ["  ".join(str(c).ljust(widths[i]) for i, c in enumerate(line)).rstrip() for line in lines]
    s = report.get("summary", {})
    out.append("")
    out.append("%-22s %10s %10s" % ("", "predicted", "measured"))
    out.append("%-22s %10s %10s" % ("completion (s)", _fmt(s.get("predicted_completion_s")),
                                    _fmt(s.get("measured_completion_s"))))
    out.append("%-22s %10s %10s" % ("mean migration (s)", _fmt(s.get("predicted_mean_migration_s")),
                                    _fmt(s.get("measured_mean_migration_s"))))
    if s.get("measured_mean_migration_job_s") is not None:
        out.append("%-22s %10s %10s" % ("  libvirt job time (s)", "", _fmt(s["measured_mean_migration_job_s"])))
    return "\n".join(out)


def _read_job(path):
    try:
        with open(path) as f:
            return json.loads(f.read())
    except (OSError, ValueError, TypeError):
        return None


def plan_collect(running, now=None):
    """Split running actions into finished (done or failed) and still running.

    running maps action ids to {'type', 'results_file', 'start', 'changed'}; the async job
    result files are read on the controller (the jobs run there).
    """
    now = _epoch(now) if now is not None else time.time()
    out = {"done": [], "failed": [], "results": {}, "running": {}, "messages": []}
    for aid, r in (running or {}).items():
        job = _read_job(r.get("results_file"))
        if job is not None and job.get("finished") == 0 and "started" in job:
            out["running"][aid] = r
            continue
        res = {"start": r.get("start"), "end": now}
        if job is None:
            res.update(outcome="failed", message="the result of its background job is missing")
        else:
            failed = bool(job.get("failed")) or job.get("rc", 0) not in (0, None)
            if job.get("end"):
                res["end"] = _epoch(job["end"])
            elif job.get("end_time"):
                res["end"] = _epoch(job["end_time"])
            for k in ("attempts", "jobinfo", "errors", "duration_s"):
                if k in job:
                    res[k] = job[k]
            if failed:
                res["outcome"] = "failed"
                res["message"] = (job.get("stderr") or job.get("msg") or job.get("stdout") or "failed").strip()
            elif r.get("type") == "migrate":
                res["outcome"] = job.get("outcome", "migrated")
                res["non_live"] = res["outcome"] == "non_live"
            elif r.get("type") == "power_on":
                was_on = "already on" in (job.get("stdout") or "") or not r.get("changed", True)
                res["outcome"] = "already_on" if was_on else "booted"
            else:
                was_off = "already off" in (job.get("stdout") or "") or not r.get("changed", True)
                res["outcome"] = "already_off" if was_off else "halted"
        out["results"][aid] = res
        (out["failed"] if res["outcome"] == "failed" else out["done"]).append(aid)
        msg = "%s: %s" % (aid, res["outcome"])
        if res.get("start") is not None and res.get("end") is not None:
            msg += " in %.1f s" % (_epoch(res["end"]) - _epoch(res["start"]))
        if res.get("message"):
            msg += " - " + res["message"]
        out["messages"].append(msg)
    return out


def plan_replan_model(model, live, exclude=None):
    """The model as the live state shows it, without the hosts in ``exclude``.

    VMs are placed where they run now, hosts are on when their libvirt answers, excluded
    hosts (spares that did not come up) are off and no longer targets, and the drain list
    keeps the hosts that are still on or still hold a VM.
    """
    import copy

    state = plan_live(live)
    exclude = _ids(exclude)
    m = copy.deepcopy(model)
    hosts = m.get("hosts", {})
    where = {}
    for h, st in state.items():
        for vm, vstate in st["domains"].items():
            if vstate == "running" or vm not in where:
                where[vm] = h
    for vm, v in m.get("vms", {}).items():
        if vm in where:
            v["host"] = where[vm]
    for h, hv in hosts.items():
        if h in state:
            hv["power"] = "on" if state[h]["on"] else "off"
        if h in exclude:
            hv["power"] = "off"
    maint = m.setdefault("maintenance", {})
    drain = list(maint.get("drain", []))
    holding = set(v["host"] for v in m.get("vms", {}).values())
    maint["drain"] = [h for h in drain if hosts.get(h, {}).get("power") == "on" or h in holding]
    targets = maint.get("targets")
    if targets is None:
        targets = [h for h in hosts if h not in drain]
    maint["targets"] = [h for h in targets if h not in exclude]
    for v in m.get("vms", {}).values():
        if v.get("destination") in exclude:
            del v["destination"]
    return m


def plan_describe(plan, done=None):
    """One line per action: what it does (or that it is already done)."""
    done = _ids(done)
    out = []
    for a in _actions(plan):
        t = a.get("type")
        if t == "power_on":
            what = "boot %s through its BMC, wait for its libvirt" % a["host"]
        elif t == "power_off":
            what = "power off %s through its BMC if it holds no domain" % a["host"]
        else:
            what = "live-migrate %s from %s to %s" % (a["vm"], a["source"], a["destination"])
            if a.get("bandwidth_mbps"):
                what += " (at most %s Mbit/s)" % a["bandwidth_mbps"]
        after = ", ".join(a.get("after", [])) or "start"
        pred = ""
        if a.get("start_s") is not None and a.get("end_s") is not None:
            pred = " [predicted %.1f-%.1f s]" % (a["start_s"], a["end_s"])
        state = "already done" if a["id"] in done else "would " + what
        out.append("wave %s %s: %s, after %s%s" % (a.get("wave"), a["id"], state, after, pred))
    return out


class FilterModule(object):
    """Plan execution filters."""

    def filters(self):
        return {
            "plan_problems": plan_problems,
            "plan_ready": plan_ready,
            "plan_blocked": plan_blocked,
            "plan_done": plan_done,
            "plan_live": plan_live,
            "plan_waves": plan_waves,
            "plan_wave_events": plan_wave_events,
            "plan_run_report": plan_report,
            "plan_run_table": plan_table,
            "plan_collect": plan_collect,
            "plan_describe": plan_describe,
            "plan_replan_model": plan_replan_model,
        }
