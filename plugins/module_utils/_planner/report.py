"""Self-contained HTML report of a plan: Gantt chart, links, power and hosts online.

Pure string building (inline SVG, no JavaScript, no external assets) so the
file can be attached to a ticket or an AWX artifact and opened anywhere.

Every migration is identifiable (VM, source -> destination, wave, start, duration,
bandwidth) in the migrations table and in the tooltip (``<title>``) of its bars.
Above ``DETAIL_HOSTS`` hosts the page stays small and readable: the Gantt chart shows
one row per rack (switch), each rack opens (``<details>``) onto its hosts and its
migrations, the link chart shows the busiest link directions and lists the others, and
every step function is simplified to what a pixel can show.
"""

from __future__ import annotations

from html import escape

COLORS = {"power_on": "#2e7d32", "migrate": "#1565c0", "migrate_in": "#90caf9",
          "power_off": "#c62828", "non_live": "#ff8f00"}
WAVE_COLOR = "#6a1b9a"
ROW_H, LEFT, WIDTH = 18, 150, 1000
RIGHT = WIDTH - 10
DETAIL_HOSTS = 60      # above this many hosts in the Gantt chart: one row per rack
MAX_LINK_BANDS = 12    # above this many link directions: the busiest ones, the others in a table
MAX_WAVE_MARKS = 20    # above this many waves: a line every 2, 5, 10... waves
RUN_GANTT_ROWS = 120   # above this many actions the run Gantt shows only the ones that did not go well
TICK_STEPS = (1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200, 86400)


def _span(horizon):
    """(start, end) of the time window drawn: ``horizon`` is an end (from 0) or a (start, end) pair."""
    return tuple(horizon) if isinstance(horizon, (tuple, list)) else (0.0, horizon)


def _scale(t, horizon):
    t0, t1 = _span(horizon)
    return LEFT + (RIGHT - LEFT) * ((t - t0) / (t1 - t0) if t1 > t0 else 0)


def fmt_time(seconds, precise=False):
    """0 s, 45 s, 2 min, 2 min 30 s, 1 h 05 min; ``precise`` keeps tenths below two minutes."""
    if seconds is None:
        return "-"
    if seconds < 120:
        return f"{seconds:.1f} s" if precise and seconds != int(seconds) else f"{seconds:.0f} s"
    total = int(round(seconds))
    if total < 7200:
        minutes, secs = divmod(total, 60)
        return f"{minutes} min {secs} s" if secs else f"{minutes} min"
    hours, minutes = divmod(total // 60, 60)
    return f"{hours} h {minutes:02d} min" if minutes else f"{hours} h"


def tick_step(horizon, max_ticks=8):
    """The smallest round step (1 s ... 1 day) that gives at most ``max_ticks`` intervals."""
    for step in TICK_STEPS:
        if horizon / step <= max_ticks:
            return step
    return TICK_STEPS[-1] * (int(horizon / TICK_STEPS[-1] / max_ticks) + 1)


def _time_axis(horizon, y, top=None):
    """Round ticks with units below ``y``; with ``top``, a light grid line per tick."""
    t0, t1 = _span(horizon)
    step, out = tick_step(t1 - t0), []
    k = int(-(-t0 // step))
    while k * step <= t1 + 1e-9:
        x = _scale(k * step, horizon)
        if top is not None:
            out.append(f'<line x1="{x:.1f}" x2="{x:.1f}" y1="{top}" y2="{y - 12}" stroke="#e4e4e4"/>')
        out.append(f'<text class="tick" x="{x:.1f}" y="{y}" text-anchor="middle">{fmt_time(k * step)}</text>')
        k += 1
    return "".join(out)


def _wave_starts(plan):
    """{wave: when its first migration starts} (boots of a wave may start long before;
    a wave without migrations starts with its first action)."""
    first, any_action = {}, {}
    for a in plan.actions:
        if a.start_s is None:
            continue
        for starts, counts in ((first, a.type == "migrate"), (any_action, True)):
            if counts and (a.wave not in starts or a.start_s < starts[a.wave]):
                starts[a.wave] = a.start_s
    return dict(sorted(((w, first.get(w, t)) for w, t in any_action.items()), key=lambda wt: (wt[1], wt[0])))


def _wave_marks(plan, horizon, top, bottom):
    """A dashed line where each wave starts (every 2nd, 5th, 10th... wave beyond ``MAX_WAVE_MARKS``),
    labelled where the label fits before the next one."""
    starts = _wave_starts(plan)
    stride = next((n for n in (1, 2, 5, 10, 20, 50, 100, 200, 500) if len(starts) / n <= MAX_WAVE_MARKS), 1000)
    t0, t1 = _span(horizon)
    marks = [(wave, start, _scale(start, horizon)) for wave, start in starts.items()
             if (stride == 1 or wave == 1 or wave % stride == 0) and t0 <= start <= t1]
    out, free_from = [], -1e9
    for i, (wave, start, x) in enumerate(marks):
        out.append(f'<line class="wave" x1="{x:.1f}" x2="{x:.1f}" y1="{top}" y2="{bottom}" stroke="{WAVE_COLOR}" '
                   f'stroke-dasharray="4 3"><title>wave {wave} starts at {fmt_time(start, True)}</title></line>')
        room = (marks[i + 1][2] if i + 1 < len(marks) else RIGHT + 40) - x
        label = next((t for t in (f"wave {wave}", f"{wave}") if 6 * len(t) + 4 <= room), "")
        if label and x >= free_from:
            out.append(f'<text x="{x + 2:.1f}" y="{top - 3}" fill="{WAVE_COLOR}">{label}</text>')
            free_from = x + 6 * len(label) + 4
    return "".join(out)


def _mbit(value):
    return "-" if value is None else f"{value:,.0f}"


def migration_facts(action, result=None):
    """(duration_s, average Mbit/s, non_live) of one migration from the plan's replay."""
    outcome = (result.migrations.get(action.id) if result is not None else None)
    duration = (action.end_s - action.start_s) if action.start_s is not None and action.end_s is not None else None
    if outcome is None:
        return duration, action.extra.get("bandwidth_mbps"), bool(action.extra.get("non_live"))
    mbps = outcome.transferred_mb * 8 / outcome.duration_s if outcome.duration_s > 0 else None
    return outcome.duration_s, mbps, outcome.non_live


def action_title(action, result=None):
    """The tooltip of an action: what, where, when, how long, how fast."""
    if action.type != "migrate":
        verb = "boot" if action.type == "power_on" else "power off"
        return (f"{verb} {action.host} · wave {action.wave} · start {fmt_time(action.start_s, True)} · "
                f"{fmt_time(action.end_s - action.start_s, True)}")
    duration, mbps, non_live = migration_facts(action, result)
    return (f"{action.vm}: {action.source} → {action.destination} · wave {action.wave} · "
            f"start {fmt_time(action.start_s, True)} · {fmt_time(duration, True)} · {_mbit(mbps)} Mbit/s"
            + (" · NON-LIVE" if non_live else ""))


def gantt_rows(plan):
    """Hosts in order of first appearance in the plan (sources before their destinations)."""
    rows = {}
    for a in plan.actions:
        if a.start_s is not None:
            for host in ([a.source, a.destination] if a.type == "migrate" else [a.host]):
                rows.setdefault(host, None)
    return list(rows)


def _merge(intervals, gap):
    """Union of (start, end, label) intervals closer than ``gap``: [(start, end, [labels])]."""
    merged = []
    for start, end, label in sorted(intervals):
        if merged and start <= merged[-1][1] + gap:
            merged[-1][1] = max(merged[-1][1], end)
            merged[-1][2].append(label)
        else:
            merged.append([start, end, [label]])
    return merged


def _bar(kind, x0, x1, y, height, title, label=""):
    w = max(1.0, x1 - x0)
    out = (f'<rect class="bar {kind}" x="{x0:.1f}" y="{y}" width="{w:.1f}" height="{height}">'
           f'<title>{escape(title)}</title></rect>')
    if label and w > 7 * len(label) + 6:
        out += f'<text class="label {kind}" x="{x0 + 3:.1f}" y="{y + height - 3}">{escape(label)}</text>'
    return out


def _svg_open(css_class, height):
    return (f'<svg class="{css_class}" xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{height}" '
            f'font-family="sans-serif" font-size="11">')


def _host_bars(a, horizon, y_of, result, merge_incoming):
    x0, x1 = _scale(a.start_s, horizon), _scale(a.end_s, horizon)
    title = action_title(a, result)
    if a.type != "migrate":
        return [_bar(a.type, x0, x1, y_of[a.host], ROW_H - 5, title, a.type.replace("_", " "))]
    non_live = migration_facts(a, result)[2]
    bars = [_bar("non_live" if non_live else "migrate", x0, x1, y_of[a.source], ROW_H - 5, title, a.vm)]
    if a.destination in y_of and not merge_incoming:
        bars.append(_bar("migrate_in", x0, x1, y_of[a.destination], ROW_H - 5, title, a.vm))
    return bars


def gantt_svg(plan, horizon=None, result=None, hosts=None, merge_incoming=False):
    """One row per host: boots, outgoing/incoming migrations and halts as bars.

    ``hosts`` limits the rows (default: every host of the plan); with ``merge_incoming``
    the incoming migrations of a host are one bar per busy period (its tooltip counts them):
    each migration is then drawn once, on its source.
    """
    actions = [a for a in plan.actions if a.start_s is not None]
    horizon = horizon or max((a.end_s for a in actions), default=1.0) or 1.0
    rows = hosts if hosts is not None else gantt_rows(plan)
    top = 22
    y_of = {host: top + i * ROW_H + 2 for i, host in enumerate(rows)}
    height = top + ROW_H * len(rows) + 30
    out = [_svg_open("gantt", height), _time_axis(horizon, height - 8, top)]
    for host, y in y_of.items():
        out.append(f'<text x="4" y="{y + 10}">{escape(host)}</text>'
                   f'<line x1="{LEFT}" x2="{RIGHT}" y1="{y + ROW_H - 3}" y2="{y + ROW_H - 3}" stroke="#eee"/>')
    incoming = {}
    for a in actions:
        if a.host in y_of or a.source in y_of:
            out.extend(_host_bars(a, horizon, y_of, result, merge_incoming))
        if merge_incoming and a.type == "migrate" and a.destination in y_of:
            incoming.setdefault(a.destination, []).append((a.start_s, a.end_s, f"{a.vm} from {a.source}"))
    gap = 2 * (_span(horizon)[1] - _span(horizon)[0]) / (RIGHT - LEFT)
    for host, intervals in incoming.items():
        for start, end, labels in _merge(intervals, gap):
            title = (f"{host} receives {len(labels)} VM{'s' if len(labels) > 1 else ''} "
                     f"({fmt_time(start)} – {fmt_time(end)}): " + ", ".join(labels[:8])
                     + (", ..." if len(labels) > 8 else ""))
            out.append(_bar("migrate_in", _scale(start, horizon), _scale(end, horizon), y_of[host], ROW_H - 5, title))
    out.append(_wave_marks(plan, horizon, top, height - 22))
    out.append("</svg>")
    return "".join(out)


GROUP_KINDS = (("migrate", "migrations out"), ("migrate_in", "migrations in"), ("power_on", "boots"),
               ("power_off", "power-offs"))


def _group_intervals(model, plan):
    """{rack: {kind: [(start, end, label)]}} in order of first appearance."""
    groups = {}
    for a in plan.actions:
        if a.start_s is None:
            continue
        if a.type == "migrate":
            pairs = ((a.source, "migrate", a.vm), (a.destination, "migrate_in", a.vm))
        else:
            pairs = ((a.host, a.type, a.host),)
        for host, kind, label in pairs:
            rack = model.hosts[host].switch if host in model.hosts else "?"
            groups.setdefault(rack, {k: [] for k, dummy in GROUP_KINDS})[kind].append((a.start_s, a.end_s, label))
    return groups


def rack_gantt_svg(model, plan, horizon, groups=None):
    """One row per rack (switch): when its hosts send, receive, boot and power off.

    Each kind is a thin lane of merged busy periods; the tooltip counts what runs there.
    """
    groups = groups if groups is not None else _group_intervals(model, plan)
    groups = dict(sorted(groups.items()))
    top, row_h, lane = 22, 26, 5
    height = top + row_h * len(groups) + 30
    gap = 2 * horizon / (RIGHT - LEFT)
    out = [_svg_open("gantt racks", height), _time_axis(horizon, height - 8, top)]
    for i, (rack, kinds) in enumerate(groups.items()):
        y = top + i * row_h + 2
        out.append(f'<text x="4" y="{y + 14}">{escape(rack)}</text>'
                   f'<line x1="{LEFT}" x2="{RIGHT}" y1="{y + row_h - 3}" y2="{y + row_h - 3}" stroke="#ddd"/>')
        for k, (kind, words) in enumerate(GROUP_KINDS):
            for start, end, labels in _merge(kinds[kind], gap):
                title = f"{rack}: {len(labels)} {words}, {fmt_time(start)} – {fmt_time(end)}"
                out.append(_bar(kind, _scale(start, horizon), _scale(end, horizon), y + k * lane, lane - 1, title))
    out.append(_wave_marks(plan, horizon, top, height - 22))
    out.append("</svg>")
    return "".join(out)


def migrations_table_html(actions, result=None):
    """Every migration: VM, wave, source, destination, start, duration, average bandwidth."""
    rows = "".join(
        f'<tr{" class=bad" if facts[2] else ""}><td>{escape(a.vm)}</td><td>{a.wave}</td><td>{escape(a.source)}</td>'
        f'<td>{escape(a.destination)}</td><td>{fmt_time(a.start_s, True)}</td><td>{fmt_time(facts[0], True)}</td>'
        f'<td>{_mbit(facts[1])}</td></tr>'
        for a, facts in ((a, migration_facts(a, result)) for a in sorted(
            (a for a in actions if a.type == "migrate"), key=lambda a: (a.start_s or 0.0, a.vm))))
    return ('<table class="migrations"><tr><th>VM</th><th>wave</th><th>from</th><th>to</th><th>start</th>'
            f'<th>duration</th><th>Mbit/s (avg)</th></tr>{rows}</table>')


def _window(plan, hosts, horizon):
    """The time window in which ``hosts`` act (zoomed Gantt of one rack)."""
    times = [(a.start_s, a.end_s) for a in plan.actions if a.start_s is not None and
             ({a.host, a.source, a.destination} & hosts)]
    if not times:
        return _span(horizon)
    start, end = min(t for t, dummy in times), max(t for dummy, t in times)
    pad = max(1.0, 0.02 * (end - start))
    return (max(0.0, start - pad), end + pad)


def rack_details_html(model, plan, horizon, result=None, tables=True):
    """One ``<details>`` per rack: its hosts' Gantt rows and (``tables``) the migrations leaving it."""
    hosts_of = {}
    for host in gantt_rows(plan):
        hosts_of.setdefault(model.hosts[host].switch if host in model.hosts else "?", []).append(host)
    out = []
    for rack, hosts in sorted(hosts_of.items()):
        members = set(hosts)
        leaving = [a for a in plan.actions if a.type == "migrate" and a.source in members]
        arriving = sum(1 for a in plan.actions if a.type == "migrate" and a.destination in members)
        boots = sum(1 for a in plan.actions if a.type == "power_on" and a.host in members)
        halts = sum(1 for a in plan.actions if a.type == "power_off" and a.host in members)
        window = _window(plan, members, horizon)
        out.append(f'<details class="rack"><summary><b>{escape(rack)}</b>: {len(hosts)} hosts, '
                   f'{len(leaving)} migrations out, {arriving} in, {boots} boots, {halts} power-offs, '
                   f'{fmt_time(window[0])} – {fmt_time(window[1])}</summary>'
                   f'{gantt_svg(plan, window, result, sorted(hosts), merge_incoming=True)}'
                   f'{migrations_table_html(leaving, result) if leaving and tables else ""}</details>')
    return "".join(out)


def step_points(steps, horizon, y_of):
    """Vertices of a step function at the resolution a screen shows (half a pixel).

    Steps shorter than half a pixel collapse onto one vertical stroke that keeps its
    lowest and highest value, and runs at one height are one segment: the size of the
    drawing depends on its width, not on the number of events.
    """
    pts = []
    last_y = None
    for t, v in steps:
        x = round(2 * _scale(min(max(t, 0.0), horizon), horizon)) / 2
        y = round(2 * y_of(v)) / 2
        if y == last_y:
            continue
        if last_y is not None:
            pts.append((x, last_y))
        pts.append((x, y))
        last_y = y
    if last_y is not None:
        pts.append((round(2 * _scale(horizon, horizon)) / 2, last_y))
    return _drop_inner_points(pts)


def _drop_inner_points(pts):
    """Keep what a pixel column shows: on one x, the first, lowest, highest and last vertex;
    then drop every vertex lying on the straight segment of its neighbours."""
    columns, i = [], 0
    while i < len(pts):
        j = i
        while j + 1 < len(pts) and pts[j + 1][0] == pts[i][0]:
            j += 1
        run = pts[i:j + 1]
        if len(run) > 3:
            ys = [y for dummy, y in run]
            run = [run[k] for k in sorted({0, ys.index(min(ys)), ys.index(max(ys)), len(run) - 1})]
        columns.extend(run)
        i = j + 1
    out = []
    for p in columns:
        while len(out) >= 2 and ((out[-2][0] == out[-1][0] == p[0]
                                  and min(out[-2][1], p[1]) <= out[-1][1] <= max(out[-2][1], p[1]))
                                 or out[-2][1] == out[-1][1] == p[1]):
            out.pop()
        if not out or out[-1] != p:
            out.append(p)
    return out


def _points_attr(pts):
    return " ".join(f"{x:g},{y:g}" for x, y in pts)


def steps_svg(steps, horizon, label, limit=None, unit=""):
    """A step function (e.g. power or hosts online) with an optional cap line."""
    height, top, plot_h = 150, 10, 100
    data_peak = max([v for dummy, v in steps] + [0])
    scale = max([data_peak, limit or 0, 1]) * 1.05
    base = top + plot_h
    pts = step_points(steps, horizon, lambda v: top + plot_h * (1 - v / scale))
    out = [_svg_open("steps", height), _time_axis(horizon, base + 16, top),
           f'<text x="4" y="{top + 12}">{escape(label)}</text>',
           f'<text x="4" y="{top + 28}">peak {data_peak:,.0f}{escape(unit)}</text>',
           f'<line x1="{LEFT}" x2="{RIGHT}" y1="{base}" y2="{base}" stroke="#999"/>',
           f'<text x="{LEFT - 4}" y="{base + 4}" text-anchor="end">0</text>',
           f'<text x="{LEFT - 4}" y="{top + plot_h * (1 - data_peak / scale) + 4:.1f}" '
           f'text-anchor="end">{data_peak:,.0f}</text>']
    if pts:
        area = [(pts[0][0], base)] + pts + [(pts[-1][0], base)]
        out.append(f'<polygon fill="#1565c0" fill-opacity="0.12" stroke="none" points="{_points_attr(area)}"/>')
    out.append(f'<polyline class="series" fill="none" stroke="#1565c0" stroke-width="1.5" '
               f'points="{_points_attr(pts)}"><title>{escape(label)}, peak {data_peak:,.0f}{escape(unit)}'
               f'</title></polyline>')
    if limit is not None:
        y = top + plot_h * (1 - limit / scale)
        out.append(f'<line class="limit" x1="{LEFT}" x2="{RIGHT}" y1="{y:.1f}" y2="{y:.1f}" stroke="#c62828" '
                   f'stroke-dasharray="4 3"/><text x="{RIGHT - 2}" y="{y - 3:.1f}" text-anchor="end" '
                   f'fill="#c62828">limit {limit:g}{escape(unit)}</text>')
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
        return f"{rid[1]} m{rid[2]} {'→' if rid[3] == '>' else '←'}"
    return f"{rid[1]} {'→' if rid[-1] == '>' else '←'}"


def _resource_capacity(model, rid):
    eff = model.efficiency / 8.0
    for link in model.links:
        if link.name == rid[1]:
            return link.member_mbps * eff * (1 if rid[0] == "member" else link.members)
    return None


def link_usage(model, link_steps, horizon):
    """[(rid, capacity MB/s, [(t, share of capacity)], peak share, mean share)] of every
    link direction a migration crosses."""
    used = sorted({rid for dummy, rates in link_steps for rid in rates}, key=str)
    out = []
    for rid in used:
        cap = _resource_capacity(model, rid) or 1.0
        series = [(t, min(1.0, rates.get(rid, 0.0) / cap)) for t, rates in link_steps]
        busy = sum(share * (min(nxt, horizon) - t) for (t, share), (nxt, dummy)
                   in zip(series, series[1:] + [(horizon, 0.0)]) if nxt > t)
        out.append((rid, cap, series, max((s for dummy, s in series), default=0.0), busy / horizon))
    return out


def _link_table(usage):
    rows = "".join(f"<tr><td>{escape(_resource_label(rid))}</td><td>{cap * 8:,.0f}</td><td>{100 * peak:.0f}%</td>"
                   f"<td>{100 * mean:.0f}%</td></tr>" for rid, cap, dummy, peak, mean in usage)
    return ('<table class="link-table"><tr><th>link direction</th><th>usable Mbit/s</th><th>peak</th>'
            f'<th>mean</th></tr>{rows}</table>')


def link_svg(model, link_steps, horizon):
    """Utilisation (% of capacity) of the switch-to-switch link members over time.

    ``link_steps`` is ``SimResult.link_steps`` (``simulate(..., record_links=True)``):
    ``[(t, {resource: MB/s})]``; each direction of each member is a resource and gets
    its own band (0 to 100 %), so members at the same level stay readable. Above
    ``MAX_LINK_BANDS`` directions, the busiest (by mean use) are drawn and every
    direction is listed in a table under the chart.
    """
    usage = link_usage(model, link_steps, horizon)
    if not usage:
        return '<p class="no-links">No migration crosses a switch-to-switch link.</p>'
    shown = usage
    if len(usage) > MAX_LINK_BANDS:
        shown = sorted(sorted(usage, key=lambda u: -u[4])[:MAX_LINK_BANDS], key=lambda u: str(u[0]))
    band, gap, top = 34, 8, 18
    height = top + len(shown) * (band + gap) + 24
    out = [_svg_open("links", height), _time_axis(horizon, height - 8, top)]
    for i, (rid, cap, series, peak, mean) in enumerate(shown):
        color = LINK_COLORS[i % len(LINK_COLORS)]
        y0 = top + i * (band + gap)
        base = y0 + band
        pts = step_points(series, horizon, lambda share, base=base: base - band * share)
        area = [(_scale(0, horizon), base)] + pts + [(_scale(horizon, horizon), base)]
        label = _resource_label(rid)
        out.append(f'<text x="4" y="{y0 + 14}">{escape(label)}</text>'
                   f'<text x="4" y="{y0 + 28}" fill="#666">peak {100 * peak:.0f}%, mean {100 * mean:.0f}%</text>'
                   f'<line x1="{LEFT}" x2="{RIGHT}" y1="{y0}" y2="{y0}" stroke="#ddd" stroke-dasharray="3 3"/>'
                   f'<line x1="{LEFT}" x2="{RIGHT}" y1="{base}" y2="{base}" stroke="#999"/>'
                   f'<polygon fill="{color}" fill-opacity="0.18" stroke="none" points="{_points_attr(area)}"/>'
                   f'<polyline class="link-use" fill="none" stroke="{color}" stroke-width="1.5" '
                   f'points="{_points_attr(pts)}"><title>{escape(label)}: {cap * 8:,.0f} Mbit/s usable, '
                   f'peak {100 * peak:.0f}%, mean {100 * mean:.0f}%</title></polyline>')
    out.append(f'<text x="{RIGHT - 2}" y="{top - 4}" text-anchor="end" fill="#999">bands: 0-100% of capacity</text>')
    out.append("</svg>")
    if len(shown) < len(usage):
        out.append(f'<p>The {len(shown)} busiest of {len(usage)} link directions are drawn.</p>'
                   f'<details><summary>every link direction</summary>{_link_table(usage)}</details>')
    return "".join(out)


STYLE = """body{font-family:sans-serif;margin:20px;color:#222;max-width:1040px} table{border-collapse:collapse}
td,th{border:1px solid #ccc;padding:2px 8px;text-align:right} td:first-child,th:first-child{text-align:left}
.legend span{display:inline-block;width:12px;height:12px;margin:0 4px 0 12px}
.ok{color:#2e7d32} .bad{color:#c62828} .warn{color:#ef6c00} .tick{fill:#555}
.bar{opacity:.9} .bar.migrate{fill:#1565c0} .bar.migrate_in{fill:#90caf9} .bar.power_on{fill:#2e7d32}
.bar.power_off{fill:#c62828} .bar.non_live{fill:#ff8f00} .label{font-size:10px;fill:#fff;pointer-events:none}
.label.migrate_in{fill:#000} details{margin:4px 0} summary{cursor:pointer}
.headline{font-size:1.15em}"""


def _legend():
    return (f'<div class="legend"><span style="background:{COLORS["power_on"]}"></span>power on'
            f'<span style="background:{COLORS["migrate"]}"></span>migrate out'
            f'<span style="background:{COLORS["migrate_in"]}"></span>migrate in'
            f'<span style="background:{COLORS["non_live"]}"></span>non-live'
            f'<span style="background:{COLORS["power_off"]}"></span>power off'
            f'<span style="background:{WAVE_COLOR};width:2px"></span>wave starts'
            ' &nbsp; hover a bar for VM, source → destination, start, duration, bandwidth</div>')


def default_comparison(plan):
    """[(name, predicted)] of the plan and the yardsticks it carries (``plan.extra['yardsticks']``)."""
    rows = [(plan.strategy, dict(plan.predicted, breaks=[]))]   # the checker passed it
    for name, figures in (plan.extra.get("yardsticks") or {}).items():
        if figures and name != plan.strategy:
            rows.append((name, figures))
    return rows


def host_list_html(model, hosts, few=8):
    """A few names inline; beyond ``few``, a count per rack with the names in a ``<details>``."""
    hosts = list(hosts)
    if len(hosts) <= few:
        return escape(", ".join(hosts))
    racks = {}
    for host in hosts:
        racks.setdefault(model.hosts[host].switch if host in model.hosts else "?", []).append(host)
    per_rack = "".join(f"<li>{escape(rack)} ({len(names)}): {escape(', '.join(names))}</li>"
                       for rack, names in racks.items())
    rack_words = f"{len(racks)} rack{'s' if len(racks) > 1 else ''}"
    return (f"<details><summary>{len(hosts)} hosts in {rack_words}: {escape(', '.join(racks))}"
            f"</summary><ul>{per_rack}</ul></details>")


def _waves_html(plan):
    waves = plan.waves or plan.compute_waves()
    starts = _wave_starts(plan)
    items = "".join(f"<li>wave {w['index']} (from {fmt_time(starts.get(w['index']))}): drain "
                    f"{escape(', '.join(w['drain']))}"
                    f"{'; boot ' + escape(', '.join(w['power_on'])) if w['power_on'] else ''}"
                    f"{'; power off ' + escape(', '.join(w['power_off'])) if w.get('power_off') else ''}</li>"
                    for w in waves)
    listing = f'<ol class="waves">{items}</ol>'
    if len(waves) > 20:
        return f"<details><summary>{len(waves)} waves</summary>{listing}</details>"
    return listing


def _headline(model, plan):
    cons = model.constraints
    solver = plan.extra.get("solver")
    lower = (plan.extra.get("lower_bound") or {}).get("completion_s")
    limits = ", ".join(f"{label} {value:g}{unit}" for label, value, unit in (
        ("license cap", cons.max_online_hosts, " hosts"), ("power budget", cons.power_budget_w, " W"),
        ("deadline", cons.deadline_s, " s")) if value is not None) or "none"
    migrations = sum(1 for a in plan.actions if a.type == "migrate")
    parts = [f'<p class="headline"><b>{migrations} migrations in {len(plan.waves)} waves, done in '
             f'{fmt_time(plan.predicted.get("completion_s"), True)}</b> (predicted; mean migration '
             f'{fmt_time(plan.predicted.get("mean_migration_s"), True)})'
             + (f", proven lower bound {fmt_time(lower, True)}" if lower else "") + ".</p>",
             f"<ul><li>drain: {host_list_html(model, model.drain)}</li>"
             f"<li>into: {host_list_html(model, model.targets)}</li><li>limits: {escape(limits)}</li></ul>"]
    if solver:
        parts.append(f"<p>solver {escape(str(solver.get('name')))}: {escape(str(solver.get('status')))}, "
                     f"gap {escape(str(solver.get('gap')))}</p>")
    return "".join(parts)


def actions_html(model, plan, horizon, result=None, tables=True):
    """The Gantt part: per host (small plans) or per rack with a way down to each host
    (with the rack's migrations table unless ``tables`` is false: the run report has its own)."""
    hosts = gantt_rows(plan)
    if len(hosts) <= DETAIL_HOSTS:
        return f"<h2>Actions per host</h2>{_legend()}{gantt_svg(plan, horizon, result)}"
    return (f"<h2>Actions per rack</h2>{_legend()}<p>{len(hosts)} hosts: one row per rack (lanes: out, in, "
            f"boots, power-offs). Open a rack below for its hosts and its migrations.</p>"
            f"{rack_gantt_svg(model, plan, horizon)}<h2>Racks, hosts and migrations</h2>"
            f"{rack_details_html(model, plan, horizon, result, tables)}")


def plan_html(model, plan, result, comparison=()):
    """Whole report: summary, comparison with yardsticks, Gantt, migrations, links, power and online hosts.

    ``result`` is the plan's ``simulate`` replay; with ``record_links=True`` the report
    also shows link utilisation over time.
    """
    horizon = result.completion_s or 1.0
    cons = model.constraints
    links = (f"<h2>Link utilisation</h2>{link_svg(model, result.link_steps, horizon)}"
             if result.link_steps else "")
    return f"""<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>wavedrain plan ({escape(plan.strategy)})</title>
<style>{STYLE}</style></head>
<body><h1>Drain plan: {escape(plan.strategy)}</h1>
{_headline(model, plan)}
<h2>Comparison</h2>{comparison_table_html(list(comparison) or default_comparison(plan))}
{actions_html(model, plan, horizon, result)}{links}
<h2>Power</h2>{steps_svg(result.power_steps, horizon, 'power (W)', cons.power_budget_w, ' W')}
<h2>Servers online</h2>{steps_svg(result.online_steps, horizon, 'hosts online', cons.max_online_hosts)}
<h2>Waves</h2>{_waves_html(plan)}
{_migrations_section(plan, result)}
</body></html>"""


def _migrations_section(plan, result):
    """The table of every migration (small plans; big ones have it per rack)."""
    if len(gantt_rows(plan)) > DETAIL_HOSTS:
        return ""
    return f"<h2>Migrations</h2>{migrations_table_html(plan.actions, result)}"


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
            "what": _what(act, raw),
            "predicted_start_s": predicted_start if predicted_start is not None else (act.start_s if act else None),
            "predicted_end_s": predicted_end if predicted_end is not None else (act.end_s if act else None),
            "start_s": _first(raw, "start_s", "measured_start_s"),
            "end_s": _first(raw, "end_s", "measured_end_s"),
            "outcome": str(raw.get("outcome") or "unknown"), "message": raw.get("message") or ""})
    return rows


def _what(act, raw):
    """VM: source → destination for a migration, the host otherwise (from the plan or the run)."""
    if act is not None:
        return f"{act.vm}: {act.source} → {act.destination}" if act.type == "migrate" else act.host
    if raw.get("vm"):
        return f"{raw['vm']}: {raw.get('source', '?')} → {raw.get('destination', '?')}"
    return str(raw.get("host") or "")


def run_gantt_svg(rows, horizon):
    """Two bars per action: predicted (light, top) and measured (solid, coloured by outcome)."""
    height = 2 * ROW_H * len(rows) + 52
    out = [_svg_open("run-gantt", height), _time_axis(horizon, height - 8, 10)]
    for i, row in enumerate(rows):
        y = 10 + 2 * i * ROW_H
        out.append(f'<text x="4" y="{y + 14}">{escape(str(row["id"])[:18])}</text>')
        ps, pe = row["predicted_start_s"], row["predicted_end_s"]
        if ps is not None and pe is not None:
            x0 = _scale(ps, horizon)
            out.append(f'<rect class="predicted" x="{x0:.1f}" y="{y + 2}" '
                       f'width="{max(1.0, _scale(pe, horizon) - x0):.1f}" height="{ROW_H - 6}" fill="#bbdefb">'
                       f'<title>{escape(row["what"])} predicted {fmt_time(ps, True)} – {fmt_time(pe, True)}'
                       f'</title></rect>')
        ms, me = row["start_s"], row["end_s"]
        if ms is not None and me is not None:
            x0 = _scale(ms, horizon)
            kind = outcome_kind(row["outcome"])
            color = RUN_OUTCOME_COLORS[kind]
            out.append(f'<rect class="measured {kind}" x="{x0:.1f}" y="{y + ROW_H - 2}" '
                       f'width="{max(1.0, _scale(me, horizon) - x0):.1f}" height="{ROW_H - 6}" fill="{color}">'
                       f'<title>{escape(row["what"])} measured {fmt_time(ms, True)} – {fmt_time(me, True)} '
                       f'({escape(row["outcome"])})</title></rect>')
        out.append(f'<line x1="{LEFT}" x2="{WIDTH - 10}" y1="{y + 2 * ROW_H - 2}" y2="{y + 2 * ROW_H - 2}" '
                   f'stroke="#eee"/>')
    out.append("</svg>")
    return "".join(out)


def _round(value, digits=1):
    return round(value, digits) if isinstance(value, (int, float)) and not isinstance(value, bool) else value


def _dur(start, end):
    return None if start is None or end is None else end - start


def _run_table(rows, css):
    """Every action of the run; in a ``<details>`` when there are many."""
    def secs(start, end):
        duration = _dur(start, end)
        return fmt_time(duration, True) if duration is not None else "-"
    body = "".join(
        f'<tr class="row-{outcome_kind(r["outcome"])}"><td>{escape(str(r["id"]))}</td><td>{escape(r["what"])}</td>'
        f'<td>{fmt_time(r["predicted_start_s"], True)}</td><td>{fmt_time(r["start_s"], True)}</td>'
        f'<td>{secs(r["predicted_start_s"], r["predicted_end_s"])}</td><td>{secs(r["start_s"], r["end_s"])}</td>'
        f'<td class="{css.get(outcome_kind(r["outcome"]), "bad")}">{escape(r["outcome"])}</td>'
        f'<td>{escape(str(r["message"]))}</td></tr>' for r in rows)
    table = ('<table class="run-actions"><tr><th>action</th><th>what</th><th>predicted start</th><th>start</th>'
             f'<th>predicted duration</th><th>measured duration</th><th>outcome</th><th>message</th></tr>{body}</table>')
    if len(rows) > RUN_GANTT_ROWS:
        return f"<details><summary>all {len(rows)} actions</summary>{table}</details>"
    return table


def _run_gantt_part(rows, horizon):
    """The predicted-vs-measured Gantt; for a big run, only the actions that did not go well."""
    if len(rows) <= RUN_GANTT_ROWS:
        return run_gantt_svg(rows, horizon)
    bad = [r for r in rows if outcome_kind(r["outcome"]) != "ok"]
    note = (f"<p>{len(rows)} actions: the chart shows the {len(bad[:RUN_GANTT_ROWS])} that did not end ok"
            f"{' (the first ' + str(RUN_GANTT_ROWS) + ')' if len(bad) > RUN_GANTT_ROWS else ''}; "
            "every action is in the table below.</p>")
    return note + (run_gantt_svg(bad[:RUN_GANTT_ROWS], horizon) if bad else "")


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
    table = _run_table(rows, css)
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
{_run_gantt_part(rows, horizon)}
<h2>Actions</h2>
{table}
<h2>The plan (predicted)</h2>{actions_html(model, plan, horizon, result, tables=False)}
{'<h2>Link utilisation (predicted)</h2>' + link_svg(model, result.link_steps, horizon) if result.link_steps else ''}
<h2>Power (predicted)</h2>{steps_svg(result.power_steps, horizon, 'power (W)', cons.power_budget_w, ' W')}
<h2>Servers online (predicted)</h2>{steps_svg(result.online_steps, horizon, 'hosts online', cons.max_online_hosts)}
</body></html>"""


# -- one line for the terminal -------------------------------------------------------------

def _secs(value):
    return f"{value:.1f} s" if value < 100 else f"{value:,.0f} s"


def plan_headline(plan):
    """One line: strategy, waves, migrations, completion vs the proven bound and the yardsticks,
    solver status. What ``drain_plan`` says in ``msg``."""
    p = plan.predicted
    completion = p.get("completion_s")
    migrations = sum(1 for a in plan.actions if a.type == "migrate")
    parts = [f"{plan.strategy} plan: {len(plan.waves or plan.compute_waves())} waves, {migrations} migrations, "
             f"completion {_secs(completion)}"]
    lower = (plan.extra.get("lower_bound") or {}).get("completion_s")
    if lower and completion:
        parts[0] += f" (lower bound {_secs(lower)}, within {100 * (completion / lower - 1):.1f}%)"
    versus = []
    for name, fig in sorted((plan.extra.get("yardsticks") or {}).items(),
                            key=lambda kv: (kv[1] or {}).get("completion_s") or float("inf")):
        if name == plan.strategy or not fig or not fig.get("completion_s"):
            continue
        broken = f", breaks {', '.join(fig['breaks'])}" if fig.get("breaks") else ""
        gain = f"{100 * (1 - completion / fig['completion_s']):.0f}% faster than " if completion else ""
        versus.append(f"{gain}{name} {_secs(fig['completion_s'])}{broken}")
    if versus:
        parts.append("; ".join(versus))
    solver = plan.extra.get("solver")
    if solver:
        parts.append(f"solver {solver.get('name')} {solver.get('status')}, gap {solver.get('gap')}")
    return "; ".join(parts)
