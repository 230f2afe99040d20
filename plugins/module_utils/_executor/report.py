# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The run report: one schema (docs/execution.md), predicted vs measured per action."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

ROW_EXTRAS = ("attempts", "errors", "jobinfo", "message", "non_live", "ready_s")


def _mean(xs):
    return round(sum(xs) / len(xs), 3) if xs else None


def _rel(t, t0):
    return round(t - t0, 3) if t is not None and t0 is not None else None


def max_in_flight(intervals):
    """Largest number of [start, end) intervals open at once (an end before a start at a tie)."""
    events = sorted([(s, 1) for s, e in intervals] + [(e, -1) for s, e in intervals])
    best = cur = 0
    for dummy, step in events:
        cur += step
        best = max(best, cur)
    return best


def _in_flight(rows, prefix, migrations_only=False):
    return max_in_flight([(r[prefix + "_start_s"], r[prefix + "_end_s"]) for r in rows
                          if r[prefix + "_start_s"] is not None and r[prefix + "_end_s"] is not None
                          and (r["type"] == "migrate" or not migrations_only)])


def _row(a, r, t0):
    row = {"id": a["id"], "type": a.get("type"), "wave": a.get("wave"),
           "predicted_start_s": a.get("start_s"), "predicted_end_s": a.get("end_s"),
           "measured_start_s": _rel(r.get("start"), t0), "measured_end_s": _rel(r.get("end"), t0),
           "outcome": r.get("outcome", "not_run")}
    for k in ("vm", "source", "destination", "host", "island"):
        if k in a:
            row[k] = a[k]
    for k in ROW_EXTRAS:
        if k in r:
            row[k] = r[k]
    return row


def run_report(plan, results, t0, selected=None):
    """results: {action id: {'start', 'end' (epoch s), 'outcome', ...}}; t0: run start (epoch s).
    Actions outside ``selected`` (other waves or islands) are reported as 'not_selected'."""
    rows, ends, mig_measured, mig_predicted, mig_job = [], [], [], [], []
    for a in plan["actions"]:
        r = results.get(a["id"]) or ({} if selected is None or a["id"] in selected else {"outcome": "not_selected"})
        row = _row(a, r, t0)
        if row["measured_end_s"] is not None:
            ends.append(row["measured_end_s"])
        if a.get("type") == "migrate":
            if a.get("start_s") is not None and a.get("end_s") is not None:
                mig_predicted.append(a["end_s"] - a["start_s"])
            if row["measured_end_s"] is not None and row["outcome"] in ("migrated", "non_live"):
                mig_measured.append(row["measured_end_s"] - row["measured_start_s"])
                job_ms = (r.get("jobinfo") or {}).get("time_elapsed_ms")
                if job_ms is not None:
                    mig_job.append(job_ms / 1000.0)
        rows.append(row)
    pred = plan.get("predicted") or {}
    outcomes = {}
    for row in rows:
        outcomes[row["outcome"]] = outcomes.get(row["outcome"], 0) + 1
    summary = {
        "predicted_completion_s": pred.get("completion_s"),
        "measured_completion_s": round(max(ends), 3) if ends else None,
        "predicted_mean_migration_s": pred.get("mean_migration_s", _mean(mig_predicted)),
        "measured_mean_migration_s": _mean(mig_measured),
        # libvirt's own "Time elapsed" (domjobinfo --completed): without the setup of the
        # destination QEMU and the executor's overhead
        "measured_mean_migration_job_s": _mean(mig_job),
        "outcomes": outcomes,
        # how many actions (and migrations) ran at once: the plan's peak against the run's
        "predicted_max_in_flight": _in_flight(rows, "predicted"),
        "measured_max_in_flight": _in_flight(rows, "measured"),
        "predicted_max_migrations_in_flight": _in_flight(rows, "predicted", migrations_only=True),
        "measured_max_migrations_in_flight": _in_flight(rows, "measured", migrations_only=True),
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


def _what(r):
    if r.get("type") == "migrate":
        return "%s %s -> %s" % (r.get("vm"), r.get("source"), r.get("destination"))
    return r.get("host", "")


def run_table(report, limit=200):
    """Text table of a report: one line per action (the first ``limit``), then the totals."""
    head = ("action", "what", "wave", "pred start", "pred end", "meas start", "meas end", "outcome")
    lines = [head]
    rows = report.get("actions", [])
    for r in rows[:limit]:
        lines.append((r["id"], _what(r), _fmt(r.get("wave")), _fmt(r.get("predicted_start_s")),
                      _fmt(r.get("predicted_end_s")), _fmt(r.get("measured_start_s")),
                      _fmt(r.get("measured_end_s")), r.get("outcome", "-")))
    widths = [max(len(str(line[i])) for line in lines) for i in range(len(head))]
    out = ["  ".join(str(c).ljust(widths[i]) for i, c in enumerate(line)).rstrip() for line in lines]
    if len(rows) > limit:
        out.append("... %d more actions in the JSON report" % (len(rows) - limit))
    s = report.get("summary", {})
    out += ["", "%-22s %10s %10s" % ("", "predicted", "measured")]
    out.append("%-22s %10s %10s" % ("completion (s)", _fmt(s.get("predicted_completion_s")),
                                    _fmt(s.get("measured_completion_s"))))
    out.append("%-22s %10s %10s" % ("mean migration (s)", _fmt(s.get("predicted_mean_migration_s")),
                                    _fmt(s.get("measured_mean_migration_s"))))
    out.append("%-22s %10s %10s" % ("max in flight", _fmt(s.get("predicted_max_in_flight")),
                                    _fmt(s.get("measured_max_in_flight"))))
    if s.get("measured_mean_migration_job_s") is not None:
        out.append("%-22s %10s %10s" % ("  libvirt job time (s)", "", _fmt(s["measured_mean_migration_job_s"])))
    out.append("outcomes: " + ", ".join("%s %d" % kv for kv in sorted(s.get("outcomes", {}).items())))
    return "\n".join(out)
