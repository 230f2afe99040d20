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
    y = height - 22
    for k in range(6):
        t = horizon * k / 5
        out.append(f'<text x="{_scale(t, horizon):.0f}" y="{y + 14}" text-anchor="middle">{t:.0f} s</text>')
    out.append("</svg>")
    return "".join(out)


def steps_svg(steps, horizon, label, limit=None, unit=""):
    """A step function (e.g. power or hosts online) with an optional cap line."""
    height, top = 140, 10
    peak = max([v for _, v in steps] + [limit or 0, 1])
    points = []
    for i, (t, v) in enumerate(steps):
        t_next = steps[i + 1][0] if i + 1 < len(steps) else horizon
        y = top + (height - 40) * (1 - v / peak)
        points += [f"{_scale(t, horizon):.1f},{y:.1f}", f"{_scale(t_next, horizon):.1f},{y:.1f}"]
    out = [f'<svg class="steps" xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{height}" '
           f'font-family="sans-serif" font-size="11">',
           f'<text x="4" y="{top + 12}">{escape(label)}</text>',
           f'<text x="4" y="{top + 28}">peak {peak:g}{unit}</text>',
           f'<polyline fill="none" stroke="#1565c0" stroke-width="1.5" points="{" ".join(points)}"/>']
    if limit is not None:
        y = top + (height - 40) * (1 - limit / peak)
        out.append(f'<line x1="{LEFT}" x2="{WIDTH - 10}" y1="{y:.1f}" y2="{y:.1f}" stroke="#c62828" '
                   f'stroke-dasharray="4 3"/><text x="{WIDTH - 12}" y="{y - 3:.1f}" text-anchor="end" '
                   f'fill="#c62828">limit {limit:g}{unit}</text>')
    out.append("</svg>")
    return "".join(out)


COMPARISON_KEYS = (("completion_s", "completion (s)"), ("mean_migration_s", "mean migration (s)"),
                   ("std_migration_s", "std migration (s)"), ("peak_power_w", "peak power (W)"),
                   ("energy_wh", "energy (Wh)"), ("max_online_hosts", "servers online"),
                   ("non_live_migrations", "non-live migrations"))


def comparison_table_text(rows):
    """Plain-text table: ``rows`` is [(strategy name, predicted dict)]."""
    names = [n for n, _ in rows]
    width = max(12, *(len(n) + 2 for n in names))
    lines = ["metric".ljust(22) + "".join(n.rjust(width) for n in names)]
    for key, label in COMPARISON_KEYS:
        lines.append(label.ljust(22) + "".join(f"{p.get(key, 0):>{width}g}" for _, p in rows))
    return "\n".join(lines)


def comparison_table_html(rows):
    head = "".join(f"<th>{escape(n)}</th>" for n, _ in rows)
    body = "".join(f"<tr><td>{label}</td>" + "".join(f"<td>{p.get(key, 0):g}</td>" for _, p in rows)
                   + "</tr>" for key, label in COMPARISON_KEYS)
    return f'<table class="comparison"><tr><th>metric</th>{head}</tr>{body}</table>'


def plan_html(model, plan, result, comparison=()):
    """Whole report: summary, comparison with yardsticks, Gantt, power and online hosts."""
    horizon = result.completion_s or 1.0
    cons = model.constraints
    waves = "".join(f"<li>wave {w['index']}: drain {escape(', '.join(w['drain']))}"
                    f"{'; boot ' + escape(', '.join(w['power_on'])) if w['power_on'] else ''}</li>"
                    for w in plan.waves)
    solver = plan.extra.get("solver")
    solver_line = (f"<p>solver {escape(str(solver.get('name')))}: {escape(str(solver.get('status')))}, "
                   f"gap {solver.get('gap')}</p>") if solver else ""
    return f"""<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>wavedrain plan ({escape(plan.strategy)})</title>
<style>body{{font-family:sans-serif;margin:20px}} table{{border-collapse:collapse}}
td,th{{border:1px solid #ccc;padding:3px 8px;text-align:right}} td:first-child{{text-align:left}}
.legend span{{display:inline-block;width:12px;height:12px;margin:0 4px 0 12px}}</style></head>
<body><h1>Drain plan: {escape(plan.strategy)}</h1>
<p>{len(plan.waves)} waves, {sum(1 for a in plan.actions if a.type == 'migrate')} migrations,
predicted completion {plan.predicted.get('completion_s')} s,
mean migration {plan.predicted.get('mean_migration_s')} s.</p>{solver_line}
<h2>Comparison</h2>{comparison_table_html(list(comparison) or [(plan.strategy, plan.predicted)])}
<h2>Actions per host</h2>
<div class="legend"><span style="background:{COLORS['power_on']}"></span>power on
<span style="background:{COLORS['migrate']}"></span>migrate out
<span style="background:{COLORS['migrate_in']}"></span>migrate in
<span style="background:{COLORS['non_live']}"></span>non-live
<span style="background:{COLORS['power_off']}"></span>power off</div>
{gantt_svg(plan, horizon)}
<h2>Power</h2>{steps_svg(result.power_steps, horizon, 'power (W)', cons.power_budget_w, ' W')}
<h2>Servers online</h2>{steps_svg(result.online_steps, horizon, 'hosts online', cons.max_online_hosts)}
<h2>Waves</h2><ol class="waves">{waves}</ol>
</body></html>"""
