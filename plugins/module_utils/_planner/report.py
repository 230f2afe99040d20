"""Self-contained HTML report of a plan: Gantt chart, power and hosts online.

Pure string building (inline SVG, no JavaScript, no external assets) so the
file can be attached to a ticket or an AWX artifact and opened anywhere.
"""

from __future__ import annotations

from html import escape

COLORS = {"power_on": "#2e7d32", "migrate": "#1565c0", "migrate_in": "#90caf9",
          "power_off": "#c62828", "non_live": "#ff8f00"}
ROW_H, LEFT, WIDTH = 18, 110, 900


def _scale(t, horizon):
    return LEFT + (WIDTH - LEFT - 10) * (t / horizon if horizon else 0)


def gantt_svg(plan, horizon=None):
    """One row per host; boots, outgoing/incoming migrations and halts as bars."""
    actions = [a for a in plan.actions if a.start_s is not None]
    horizon = horizon or max((a.end_s for a in actions), default=1.0) or 1.0
    rows = []
    for a in actions:
        for host in ([a.source, a.destination] if a.type == "migrate" else [a.host]):
            if host not in rows:
                rows.append(host)
    height = ROW_H * len(rows) + 40
    out = [f'<svg class="gantt" xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{height}" '
           f'font-family="sans-serif" font-size="11">']
    for i, host in enumerate(rows):
        y = 10 + i * ROW_H
        out.append(f'<text x="4" y="{y + 12}">{escape(host)}</text>')
        out.append(f'<line x1="{LEFT}" x2="{WIDTH - 10}" y1="{y + ROW_H - 1}" y2="{y + ROW_H - 1}" '
                   f'stroke="#eee"/>')
    for a in actions:
        x0, x1 = _scale(a.start_s, horizon), _scale(a.end_s, horizon)
        w = max(1.0, x1 - x0)
        bars = [(a.host, a.type)] if a.type != "migrate" else [
            (a.source, "non_live" if a.extra.get("non_live") else "migrate"), (a.destination, "migrate_in")]
        for host, kind in bars:
            y = 10 + rows.index(host) * ROW_H + 2
            label = f"{a.id} {a.start_s:.1f}-{a.end_s:.1f} s"
            out.append(f'<rect class="bar {kind}" x="{x0:.1f}" y="{y}" width="{w:.1f}" height="{ROW_H - 5}" '
                       f'fill="{COLORS[kind]}" opacity="0.85"><title>{escape(label)}</title></rect>')
            name = a.vm if a.type == "migrate" else a.type.replace("_", " ")
            if w > 7 * len(name) + 6:
                color = "#000" if kind == "migrate_in" else "#fff"
                out.append(f'<text x="{x0 + 3:.1f}" y="{y + ROW_H - 8}" fill="{color}" '
                           f'font-size="10">{escape(name)}</text>')
    out.append(_time_axis(horizon, height - 8))
    out.append("</svg>")
    return "".join(out)


def _time_axis(horizon, y):
    out = []
    for k in range(6):
        t = horizon * k / 5
        out.append(f'<text x="{_scale(t, horizon):.0f}" y="{y}" text-anchor="middle">{t:.0f} s</text>')
    return "".join(out)


def steps_svg(steps, horizon, label, limit=None, unit=""):
    """A step function (e.g. power or hosts online) with an optional cap line."""
    height, top, plot_h = 150, 10, 100
    data_peak = max([v for dummy, v in steps] + [0])
    scale = max([data_peak, limit or 0, 1]) * 1.05
    base = top + plot_h
    points = []
    for i, (t, v) in enumerate(steps):
        t_next = steps[i + 1][0] if i + 1 < len(steps) else horizon
        y = top + plot_h * (1 - v / scale)
        points += [f"{_scale(t, horizon):.1f},{y:.1f}", f"{_scale(min(t_next, horizon), horizon):.1f},{y:.1f}"]
    area = (f"{_scale(0, horizon):.1f},{base} " + " ".join(points) + f" {_scale(horizon, horizon):.1f},{base}"
            if points else "")
    out = [f'<svg class="steps" xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{height}" '
           f'font-family="sans-serif" font-size="11">',
           f'<text x="4" y="{top + 12}">{escape(label)}</text>',
           f'<text x="4" y="{top + 28}">peak {data_peak:g}{escape(unit)}</text>',
           f'<line x1="{LEFT}" x2="{WIDTH - 10}" y1="{base}" y2="{base}" stroke="#999"/>',
           f'<text x="{LEFT - 4}" y="{base + 4}" text-anchor="end">0</text>',
           f'<text x="{LEFT - 4}" y="{top + plot_h * (1 - data_peak / scale) + 4:.1f}" '
           f'text-anchor="end">{data_peak:g}</text>']
    if area:
        out.append(f'<polygon fill="#1565c0" fill-opacity="0.12" stroke="none" points="{area}"/>')
    out.append(f'<polyline class="series" fill="none" stroke="#1565c0" stroke-width="1.5" '
               f'points="{" ".join(points)}"/>')
    if limit is not None:
        y = top + plot_h * (1 - limit / scale)
        out.append(f'<line class="limit" x1="{LEFT}" x2="{WIDTH - 10}" y1="{y:.1f}" y2="{y:.1f}" stroke="#c62828" '
                   f'stroke-dasharray="4 3"/><text x="{WIDTH - 12}" y="{y - 3:.1f}" text-anchor="end" '
                   f'fill="#c62828">limit {limit:g}{escape(unit)}</text>')
    out.append(_time_axis(horizon, base + 16))
    out.append("</svg>")
    return "".join(out)


def _fmt(value):
    if value is None:
        return "-"
    if isinstance(value, (list, tuple)):
        return escape(", ".join(map(str, value))) if value else "none"
    if isinstance(value, (int, float)):
        return f"{value:g}"
    return escape(str(value))


COMPARISON_KEYS = (("completion_s", "completion (s)"), ("mean_migration_s", "mean migration (s)"),
                   ("std_migration_s", "std migration (s)"), ("peak_power_w", "peak power (W)"),
                   ("energy_wh", "energy (Wh)"), ("max_online_hosts", "servers online"),
                   ("non_live_migrations", "non-live migrations"), ("breaks", "constraints broken"))


def comparison_table_text(rows):
    """Plain-text table: ``rows`` is [(strategy name, predicted dict)]."""
    names = [n for n, dummy in rows]
    width = max(12, *(len(n) + 2 for n in names))
    lines = ["metric".ljust(22) + "".join(n.rjust(width) for n in names)]
    for key, label in COMPARISON_KEYS:
        lines.append(label.ljust(22) + "".join(_fmt(p.get(key)).rjust(width) for dummy, p in rows))
    return "\n".join(lines)


def comparison_table_html(rows):
    head = "".join(f"<th>{escape(n)}</th>" for n, dummy in rows)
    body = "".join(f"<tr><td>{label}</td>" + "".join(f"<td>{_fmt(p.get(key))}</td>" for dummy, p in rows)
                   + "</tr>" for key, label in COMPARISON_KEYS)
    return f'<table class="comparison"><tr><th>metric</th>{head}</tr>{body}</table>'


LINK_COLORS = ("#1565c0", "#2e7d32", "#c62828", "#6a1b9a", "#ef6c00", "#00838f", "#5d4037", "#ad1457")


def _resource_label(rid):
    if rid[0] == "member":
        return f"{rid[1]} m{rid[2]} {'->' if rid[3] == '>' else '<-'}"
    return f"{rid[1]} {'->' if rid[-1] == '>' else '<-'}"


def _resource_capacity(model, rid):
    eff = model.efficiency / 8.0
    for link in model.links:
        if link.name == rid[1]:
            return link.member_mbps * eff * (1 if rid[0] == "member" else link.members)
    return None


def link_svg(model, link_steps, horizon):
    """Utilisation (% of capacity) of every switch-to-switch link member over time.

    ``link_steps`` is ``SimResult.link_steps`` (``simulate(..., record_links=True)``):
    ``[(t, {resource: MB/s})]``; each direction of each member is a resource and gets
    its own band (0 to 100 %), so members at the same level stay readable.
    """
    used = sorted({rid for dummy, rates in link_steps for rid in rates}, key=str)
    if not used:
        return '<p class="no-links">No migration crosses a switch-to-switch link.</p>'
    band, gap, top = 34, 8, 6
    height = top + len(used) * (band + gap) + 24
    out = [f'<svg class="links" xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{height}" '
           f'font-family="sans-serif" font-size="11">']
    for i, rid in enumerate(used):
        cap = _resource_capacity(model, rid) or 1.0
        color = LINK_COLORS[i % len(LINK_COLORS)]
        y0 = top + i * (band + gap)
        base = y0 + band
        points, peak = [], 0.0
        for k, (t, rates) in enumerate(link_steps):
            t_next = link_steps[k + 1][0] if k + 1 < len(link_steps) else horizon
            share = min(1.0, rates.get(rid, 0.0) / cap)
            peak = max(peak, share)
            y = base - band * share
            points += [f"{_scale(t, horizon):.1f},{y:.1f}", f"{_scale(min(t_next, horizon), horizon):.1f},{y:.1f}"]
        label = _resource_label(rid)
        area = f"{_scale(0, horizon):.1f},{base} " + " ".join(points) + f" {_scale(horizon, horizon):.1f},{base}"
        out.append(f'<text x="4" y="{y0 + 14}">{escape(label)}</text>'
                   f'<text x="4" y="{y0 + 28}" fill="#666">peak {100 * peak:.0f}%</text>'
                   f'<line x1="{LEFT}" x2="{WIDTH - 10}" y1="{y0}" y2="{y0}" stroke="#ddd" stroke-dasharray="3 3"/>'
                   f'<line x1="{LEFT}" x2="{WIDTH - 10}" y1="{base}" y2="{base}" stroke="#999"/>'
                   f'<polygon fill="{color}" fill-opacity="0.18" stroke="none" points="{area}"/>'
                   f'<polyline class="link-use" fill="none" stroke="{color}" stroke-width="1.5" '
                   f'points="{" ".join(points)}"><title>{escape(label)}: {cap * 8:.0f} Mbit/s usable, '
                   f'peak {100 * peak:.0f}%</title></polyline>')
    out.append(f'<text x="{WIDTH - 12}" y="{top + 10}" text-anchor="end" fill="#999">100%</text>')
    out.append(_time_axis(horizon, height - 8))
    out.append("</svg>")
    return "".join(out)


STYLE = """body{font-family:sans-serif;margin:20px;color:#222} table{border-collapse:collapse}
td,th{border:1px solid #ccc;padding:3px 8px;text-align:right} td:first-child,th:first-child{text-align:left}
.legend span{display:inline-block;width:12px;height:12px;margin:0 4px 0 12px}
.ok{color:#2e7d32} .bad{color:#c62828} .warn{color:#ef6c00}"""


def _legend():
    return (f'<div class="legend"><span style="background:{COLORS["power_on"]}"></span>power on'
            f'<span style="background:{COLORS["migrate"]}"></span>migrate out'
            f'<span style="background:{COLORS["migrate_in"]}"></span>migrate in'
            f'<span style="background:{COLORS["non_live"]}"></span>non-live'
            f'<span style="background:{COLORS["power_off"]}"></span>power off</div>')


def default_comparison(plan):
    """[(name, predicted)] of the plan and the yardsticks it carries (``plan.extra['yardsticks']``)."""
    rows = [(plan.strategy, dict(plan.predicted, breaks=[]))]   # the checker passed it
    for name, figures in (plan.extra.get("yardsticks") or {}).items():
        if figures and name != plan.strategy:
            rows.append((name, figures))
    return rows


def plan_html(model, plan, result, comparison=()):
    """Whole report: summary, comparison with yardsticks, Gantt, links, power and online hosts.

    ``result`` is the plan's ``simulate`` replay; with ``record_links=True`` the report
    also shows link utilisation over time.
    """
    horizon = result.completion_s or 1.0
    cons = model.constraints
    waves = "".join(f"<li>wave {w['index']}: drain {escape(', '.join(w['drain']))}"
                    f"{'; boot ' + escape(', '.join(w['power_on'])) if w['power_on'] else ''}"
                    f"{'; power off ' + escape(', '.join(w['power_off'])) if w.get('power_off') else ''}</li>"
                    for w in (plan.waves or plan.compute_waves()))
    solver = plan.extra.get("solver")
    solver_line = (f"<p>solver {escape(str(solver.get('name')))}: {escape(str(solver.get('status')))}, "
                   f"gap {escape(str(solver.get('gap')))}</p>") if solver else ""
    lower = (plan.extra.get("lower_bound") or {}).get("completion_s")
    lower_line = f"<p>proven lower bound on completion: {lower:g} s</p>" if lower else ""
    limits = ", ".join(f"{label} {value:g}{unit}" for label, value, unit in (
        ("license cap", cons.max_online_hosts, " hosts"), ("power budget", cons.power_budget_w, " W"),
        ("deadline", cons.deadline_s, " s")) if value is not None) or "none"
    links = (f"<h2>Link utilisation</h2>{link_svg(model, result.link_steps, horizon)}"
             if result.link_steps else "")
    return f"""<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>wavedrain plan ({escape(plan.strategy)})</title>
<style>{STYLE}</style></head>
<body><h1>Drain plan: {escape(plan.strategy)}</h1>
<p>Drain {escape(', '.join(model.drain))} into {escape(', '.join(model.targets))}.
{len(plan.waves)} waves, {sum(1 for a in plan.actions if a.type == 'migrate')} migrations,
predicted completion {_fmt(plan.predicted.get('completion_s'))} s,
mean migration {_fmt(plan.predicted.get('mean_migration_s'))} s.
Limits: {escape(limits)}.</p>{solver_line}{lower_line}
<h2>Comparison</h2>{comparison_table_html(list(comparison) or default_comparison(plan))}
<h2>Actions per host</h2>{_legend()}
{gantt_svg(plan, horizon)}{links}
<h2>Power</h2>{steps_svg(result.power_steps, horizon, 'power (W)', cons.power_budget_w, ' W')}
<h2>Servers online</h2>{steps_svg(result.online_steps, horizon, 'hosts online', cons.max_online_hosts)}
<h2>Waves</h2><ol class="waves">{waves}</ol>
</body></html>"""


# -- after a run: predicted vs measured -------------------------------------------------

RUN_OUTCOME_COLORS = {"ok": "#2e7d32", "failed": "#c62828", "timeout": "#ef6c00", "skipped": "#9e9e9e"}
# outcome words of wavedrain.kvm.plan_run_report (maintenance.yml) and of hand-written reports
OUTCOME_KIND = {"ok": "ok", "done": "ok", "success": "ok", "migrated": "ok", "powered_on": "ok",
                "powered_off": "ok", "booted": "ok", "halted": "ok", "non_live": "timeout",
                "timeout": "timeout", "skipped": "skipped", "not_run": "skipped", "done_before": "skipped",
                # nothing to do: the live state already matched (a resumed run)
                "already_on": "ok", "already_off": "ok", "already_done": "ok"}


def outcome_kind(outcome):
    """ok, timeout (finished late or non-live), skipped, or failed (anything else)."""
    return OUTCOME_KIND.get(str(outcome), "failed")


def _first(raw, *keys):
    for key in keys:
        if raw.get(key) is not None:
            return raw[key]
    return None


def _run_rows(plan, run_report):
    """Join the run report's actions with the plan's (predicted times from either).

    Measured times are ``start_s``/``end_s`` or ``measured_start_s``/``measured_end_s``
    (the shape of ``wavedrain.kvm.plan_run_report``).
    """
    planned = plan.by_id()
    rows = []
    for raw in run_report.get("actions") or []:
        aid = raw.get("id")
        act = planned.get(aid)
        predicted_start = _first(raw, "predicted_start_s")
        predicted_end = _first(raw, "predicted_end_s")
        rows.append({
            "id": aid, "type": raw.get("type") or (act.type if act else ""),
            "host": (act.host or act.source) if act else raw.get("host"),
            "predicted_start_s": predicted_start if predicted_start is not None else (act.start_s if act else None),
            "predicted_end_s": predicted_end if predicted_end is not None else (act.end_s if act else None),
            "start_s": _first(raw, "start_s", "measured_start_s"),
            "end_s": _first(raw, "end_s", "measured_end_s"),
            "outcome": str(raw.get("outcome") or "unknown"), "message": raw.get("message") or ""})
    return rows


def run_gantt_svg(rows, horizon):
    """Two bars per action: predicted (light, top) and measured (solid, coloured by outcome)."""
    height = 2 * ROW_H * len(rows) + 40
    out = [f'<svg class="run-gantt" xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{height}" '
           f'font-family="sans-serif" font-size="11">']
    for i, row in enumerate(rows):
        y = 10 + 2 * i * ROW_H
        out.append(f'<text x="4" y="{y + 14}">{escape(str(row["id"])[:18])}</text>')
        ps, pe = row["predicted_start_s"], row["predicted_end_s"]
        if ps is not None and pe is not None:
            x0 = _scale(ps, horizon)
            out.append(f'<rect class="predicted" x="{x0:.1f}" y="{y + 2}" '
                       f'width="{max(1.0, _scale(pe, horizon) - x0):.1f}" height="{ROW_H - 6}" fill="#bbdefb">'
                       f'<title>predicted {ps:.1f}-{pe:.1f} s</title></rect>')
        ms, me = row["start_s"], row["end_s"]
        if ms is not None and me is not None:
            x0 = _scale(ms, horizon)
            kind = outcome_kind(row["outcome"])
            color = RUN_OUTCOME_COLORS[kind]
            out.append(f'<rect class="measured {kind}" x="{x0:.1f}" y="{y + ROW_H - 2}" '
                       f'width="{max(1.0, _scale(me, horizon) - x0):.1f}" height="{ROW_H - 6}" fill="{color}">'
                       f'<title>measured {ms:.1f}-{me:.1f} s ({escape(row["outcome"])})</title></rect>')
        out.append(f'<line x1="{LEFT}" x2="{WIDTH - 10}" y1="{y + 2 * ROW_H - 2}" y2="{y + 2 * ROW_H - 2}" '
                   f'stroke="#eee"/>')
    out.append(_time_axis(horizon, height - 8))
    out.append("</svg>")
    return "".join(out)


def _round(value, digits=1):
    return round(value, digits) if isinstance(value, (int, float)) and not isinstance(value, bool) else value


def _dur(start, end):
    return None if start is None or end is None else end - start


def run_html(model, plan, run_report, result=None):
    """Report of a run: predicted vs measured per action, plus the plan's charts.

    ``run_report`` (written by playbooks/maintenance.yml, documented in docs/report.md)::

        {"actions": [{"id": "migrate/vm1", "predicted_start_s": 0.2, "predicted_end_s": 12.1,
                      "start_s": 0.4, "end_s": 14.0, "outcome": "ok", "message": ""}, ...],
         "status": "success", "started_at": "2026-01-01T10:00:00Z", "plan_file": "..."}

    Times are seconds since the run started; ``outcome`` is ok, failed, timeout or skipped.
    ``result`` is the plan's replay (computed here when omitted).
    """
    if result is None:
        from .simulator import simulate   # local import: rendering a plan needs no simulator
        result = simulate(model, plan, record_links=True)
    rows = _run_rows(plan, run_report)
    ends = [r["end_s"] for r in rows if r["end_s"] is not None]
    measured_completion = (run_report.get("completion_s") or (run_report.get("summary") or {}).get("measured_completion_s")
                           or (max(ends) if ends else None))
    predicted_completion = plan.predicted.get("completion_s") or result.completion_s
    horizon = max([predicted_completion or 0.0, measured_completion or 0.0, 1.0])
    counts = {}
    for row in rows:
        counts[row["outcome"]] = counts.get(row["outcome"], 0) + 1
    css = {"ok": "ok", "timeout": "warn", "skipped": "warn"}
    count_text = ", ".join(f'<span class="{css.get(outcome_kind(k), "bad")}">{v} {escape(k)}</span>'
                           for k, v in sorted(counts.items())) or "no action ran"
    migr = [r for r in rows if r["type"] == "migrate"]
    pm = [d for d in (_dur(r["predicted_start_s"], r["predicted_end_s"]) for r in migr) if d is not None]
    mm = [d for d in (_dur(r["start_s"], r["end_s"]) for r in migr) if d is not None]
    summary = [("completion (s)", predicted_completion, measured_completion),
               ("mean migration (s)", sum(pm) / len(pm) if pm else None, sum(mm) / len(mm) if mm else None),
               ("actions", len(plan.actions), len(rows))]
    summary_html = "".join(
        f"<tr><td>{label}</td><td>{_fmt(None if p is None else round(p, 1))}</td>"
        f"<td>{_fmt(None if m is None else round(m, 1))}</td>"
        f"<td>{_fmt(None if p is None or m is None else round(m - p, 1))}</td></tr>"
        for label, p, m in summary)
    table = "".join(
        f'<tr class="row-{outcome_kind(r["outcome"])}"><td>{escape(str(r["id"]))}</td>'
        f'<td>{_fmt(_round(r["predicted_start_s"]))}</td><td>{_fmt(_round(r["predicted_end_s"]))}</td>'
        f'<td>{_fmt(_round(r["start_s"]))}</td><td>{_fmt(_round(r["end_s"]))}</td>'
        f'<td>{_fmt(_dur(r["predicted_start_s"], r["predicted_end_s"]) and round(_dur(r["predicted_start_s"], r["predicted_end_s"]), 1))}</td>'
        f'<td>{_fmt(_dur(r["start_s"], r["end_s"]) and round(_dur(r["start_s"], r["end_s"]), 1))}</td>'
        f'<td class="{css.get(outcome_kind(r["outcome"]), "bad")}">{escape(r["outcome"])}</td>'
        f'<td>{escape(str(r["message"]))}</td></tr>' for r in rows)
    cons = model.constraints
    status = run_report.get("status")
    if status is None:
        kinds = {outcome_kind(r["outcome"]) for r in rows}
        status = ("failed" if "failed" in kinds else "incomplete" if any(r["outcome"] == "not_run" for r in rows)
                  else "success" if rows else "not started")
    status = escape(str(status))
    return f"""<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>wavedrain run ({status})</title>
<style>{STYLE}</style></head>
<body><h1>Drain run: {status}</h1>
<p>Plan {escape(plan.strategy)}, started {escape(str(run_report.get('started_at', '?')))}: {count_text}.</p>
<h2>Predicted vs measured</h2>
<table class="run-summary"><tr><th></th><th>predicted</th><th>measured</th><th>difference</th></tr>
{summary_html}</table>
<div class="legend"><span style="background:#bbdefb"></span>predicted
<span style="background:{RUN_OUTCOME_COLORS['ok']}"></span>measured, ok
<span style="background:{RUN_OUTCOME_COLORS['failed']}"></span>failed
<span style="background:{RUN_OUTCOME_COLORS['timeout']}"></span>timeout</div>
{run_gantt_svg(rows, horizon)}
<h2>Actions</h2>
<table class="run-actions"><tr><th>action</th><th>predicted start</th><th>predicted end</th>
<th>start</th><th>end</th><th>predicted (s)</th><th>measured (s)</th><th>outcome</th><th>message</th></tr>
{table}</table>
<h2>The plan (predicted)</h2>{_legend()}
{gantt_svg(plan, horizon)}
{'<h2>Link utilisation (predicted)</h2>' + link_svg(model, result.link_steps, horizon) if result.link_steps else ''}
<h2>Power (predicted)</h2>{steps_svg(result.power_steps, horizon, 'power (W)', cons.power_budget_w, ' W')}
<h2>Servers online (predicted)</h2>{steps_svg(result.online_steps, horizon, 'hosts online', cons.max_online_hosts)}
</body></html>"""
