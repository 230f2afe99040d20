"""HTML report: structure of the SVG charts, run report, and a real render in headless Chromium."""
import os
import re
import shutil
import struct
import subprocess
import sys
import zlib

import pytest

from ansible_collections.wavedrain.kvm.plugins.module_utils._planner import baselines, hand_tuned, report
from ansible_collections.wavedrain.kvm.plugins.module_utils._planner.model import parse_model
from ansible_collections.wavedrain.kvm.plugins.module_utils._planner.simulator import annotate, simulate

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))))


@pytest.fixture
def planned(small_dc):
    small_dc["constraints"].update(max_online_hosts=4, power_budget_w=900)
    model = parse_model(small_dc)
    plan = baselines.parallel(model)
    result = simulate(model, plan, record_links=True)
    return model, plan, result


def run_report_of(plan, late=1.5, failed=None):
    actions = []
    for a in plan.actions:
        actions.append({"id": a.id, "predicted_start_s": a.start_s, "predicted_end_s": a.end_s,
                        "start_s": a.start_s * late, "end_s": a.end_s * late,
                        "outcome": "failed" if a.id == failed else "ok"})
    return {"status": "failed" if failed else "success", "started_at": "2026-01-01T10:00:00Z",
            "actions": actions}


def test_plan_html_has_every_chart(planned):
    model, plan, result = planned
    html = report.plan_html(model, plan, result)
    assert html.startswith("<!DOCTYPE html>") and "<script" not in html and "http://" not in html.replace(
        'xmlns="http://www.w3.org/2000/svg"', "")
    for cls in ('class="gantt"', 'class="links"', 'class="steps"', 'class="comparison"', 'class="limit"'):
        assert cls in html, cls
    assert html.count('class="bar ') >= len(plan.actions)
    assert "limit 900 W" in html and "limit 4" in html
    # one line per link member crossed, utilisation capped at 100 %
    assert html.count('class="link-use"') >= 1 and "sw1-sw2 m" in html and "Mbit/s usable" in html


def test_plan_html_keeps_old_signature_and_comparison(planned):
    model, plan, result = planned
    seq = baselines.sequential(model)
    html = report.plan_html(model, plan, simulate(model, plan), [("parallel", plan.predicted),
                                                                 ("sequential", seq.predicted)])
    assert "<th>sequential</th>" in html and 'class="links"' not in html   # no link data recorded
    text = report.comparison_table_text([("parallel", plan.predicted), ("sequential", seq.predicted)])
    assert text.splitlines()[0].split()[-2:] == ["parallel", "sequential"]
    missing = report.comparison_table_text([("x", {"completion_s": None})]).splitlines()
    assert missing[1].split() == ["completion", "(s)", "-"]


def test_link_svg_without_links(small_dc):
    small_dc["network"]["links"] = []
    for h in small_dc["hosts"].values():
        h["switch"] = "sw1"
    model = parse_model(small_dc)
    plan = baselines.sequential(model)
    result = simulate(model, plan, record_links=True)
    assert "No migration crosses" in report.link_svg(model, result.link_steps, result.completion_s)


def test_run_html_predicted_vs_measured(planned):
    model, plan, result = planned
    failed = next(a.id for a in plan.actions if a.type == "migrate")
    html = report.run_html(model, plan, run_report_of(plan, failed=failed), result)
    assert 'class="run-gantt"' in html and 'class="run-actions"' in html
    assert html.count('class="predicted"') == len(plan.actions)
    assert html.count('class="measured ') == len(plan.actions)
    assert "measured failed" in html and "measured ok" in html and "Drain run: failed" in html
    # measured completion 1.5 x predicted: the difference row says so
    predicted = plan.predicted["completion_s"]
    assert f"{round(predicted * 1.5, 1):g}" in html


def test_run_html_tolerates_partial_runs(planned):
    model, plan, dummy = planned
    first = plan.actions[0]
    html = report.run_html(model, plan, {"actions": [{"id": first.id, "outcome": "timeout", "start_s": 0}]})
    assert "timeout" in html and 'class="measured' not in html


def test_run_html_reads_plan_run_report_shape(planned):
    """The JSON of wavedrain.kvm.plan_run_report (maintenance.yml): measured_* keys, its outcome words."""
    model, plan, result = planned
    rows = []
    for i, a in enumerate(plan.actions):
        rows.append({"id": a.id, "type": a.type, "wave": a.wave, "predicted_start_s": a.start_s,
                     "predicted_end_s": a.end_s, "measured_start_s": a.start_s + 1, "measured_end_s": a.end_s + 2,
                     "outcome": {"migrate": "migrated", "power_on": "powered_on"}.get(a.type, "not_run")})
    run = {"version": 1, "strategy": plan.strategy, "actions": rows,
           "summary": {"measured_completion_s": 99.5, "predicted_completion_s": plan.predicted["completion_s"]}}
    html = report.run_html(model, plan, run, result)
    assert "Drain run: incomplete" in html and "99.5" in html
    assert html.count('class="measured ok"') == sum(1 for a in plan.actions if a.type != "power_off")
    assert html.count('class="measured skipped"') == sum(1 for a in plan.actions if a.type == "power_off")


def test_run_html_counts_actions_a_resumed_run_found_done(planned):
    """already_on / already_off / already_done (plan_collect, virt_migrate on a resumed run) are
    successes, not failures: the run is complete."""
    model, plan, result = planned
    words = {"power_on": "already_on", "migrate": "already_done", "power_off": "already_off"}
    rows = [{"id": a.id, "measured_start_s": 0.0, "measured_end_s": 0.1, "outcome": words[a.type]}
            for a in plan.actions]
    html = report.run_html(model, plan, {"actions": rows}, result)
    assert html.count('class="measured ok"') == len(plan.actions)
    assert 'class="measured failed"' not in html and "Drain run: incomplete" not in html


# -- real rendering ---------------------------------------------------------------------

CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync",
                  "--hide-scrollbars", "--window-size=1000,1600"]


def chromium():
    for name in ("chromium", "chromium-browser"):
        if shutil.which(name):
            return shutil.which(name)
    if os.geteuid() == 0 and shutil.which("apt-get"):
        subprocess.run(["apt-get", "install", "-y", "-q", "chromium"], capture_output=True, timeout=600,
                       env=dict(os.environ, DEBIAN_FRONTEND="noninteractive"), check=False)
        if shutil.which("chromium"):
            return shutil.which("chromium")
    pytest.skip("SKIPPED LOUDLY: no chromium and cannot install it (needs root and apt: "
                "apt-get install -y chromium); the report was NOT rendered")


def png_pixels(path):
    """Decode an 8-bit RGB/RGBA non-interlaced PNG (what Chromium writes) into rows of bytes."""
    with open(path, "rb") as handle:
        data = handle.read()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, idat, width = 8, b"", 0
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        chunk = data[pos + 8:pos + 8 + length]
        if kind == b"IHDR":
            width, height, depth, color = struct.unpack(">IIBB", chunk[:10])
            assert depth == 8 and color in (2, 6)
            bpp = 3 if color == 2 else 4
        elif kind == b"IDAT":
            idat += chunk
        pos += 12 + length
    raw, stride, rows, prev = zlib.decompress(idat), width * bpp, [], bytearray(width * bpp)
    for y in range(height):
        ftype, line = raw[y * (stride + 1)], bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        for i in range(stride):
            a = line[i - bpp] if i >= bpp else 0
            b, c = prev[i], prev[i - bpp] if i >= bpp else 0
            if ftype == 1:
                line[i] = (line[i] + a) & 255
            elif ftype == 2:
                line[i] = (line[i] + b) & 255
            elif ftype == 3:
                line[i] = (line[i] + (a + b) // 2) & 255
            elif ftype == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
        rows.append(bytes(line))
        prev = line
    return width, height, bpp, rows


def render(html, tmp_path, name):
    page, shot = tmp_path / f"{name}.html", tmp_path / f"{name}.png"
    page.write_text(html)
    profile = tmp_path / f"profile-{name}"
    proc = subprocess.run([chromium()] + CHROMIUM_FLAGS + [f"--user-data-dir={profile}",
                                                           f"--screenshot={shot}", page.as_uri()],
                          capture_output=True, text=True, timeout=120, check=False)
    assert shot.exists(), proc.stderr[-2000:]
    out = os.environ.get("WAVEDRAIN_REPORT_SHOTS")
    if out:   # keep the pictures (e.g. for the closing note)
        os.makedirs(out, exist_ok=True)
        shutil.copy(shot, os.path.join(out, shot.name))
    return png_pixels(shot)


def colour_share(width, height, bpp, rows, rgb, tol=40):
    hits = 0
    for row in rows:
        for x in range(0, width * bpp, bpp * 3):   # every third pixel is enough
            if all(abs(row[x + k] - rgb[k]) <= tol for k in range(3)):
                hits += 1
    return hits / (width * height / 3)


def test_plan_report_renders_in_chromium(planned, tmp_path):
    model, plan, result = planned
    width, height, bpp, rows = render(report.plan_html(model, plan, result), tmp_path, "plan")
    assert (width, height) == (1000, 1600)
    distinct = {row[x:x + 3] for row in rows[::7] for x in range(0, width * bpp, bpp * 5)}
    assert len(distinct) > 20, "the screenshot is blank"
    assert colour_share(width, height, bpp, rows, (0x15, 0x65, 0xc0)) > 0.002   # migrations, series
    assert colour_share(width, height, bpp, rows, (0xc6, 0x28, 0x28)) > 0.0003  # power-offs, limits


def test_chromium_parses_the_svg(planned, tmp_path):
    """The browser's own DOM holds the charts (not only our string)."""
    model, plan, result = planned
    page = tmp_path / "dom.html"
    page.write_text(report.plan_html(model, plan, result))
    proc = subprocess.run([chromium()] + CHROMIUM_FLAGS + [f"--user-data-dir={tmp_path / 'profile-dom'}",
                                                           "--dump-dom", page.as_uri()],
                          capture_output=True, text=True, timeout=120, check=False)
    dom = proc.stdout
    for cls in ("gantt", "links", "steps"):
        assert f'<svg class="{cls}"' in dom, cls
    assert dom.count("<rect") >= len(plan.actions) and dom.count("<polyline") >= 3


def test_run_report_renders_in_chromium(planned, tmp_path):
    model, plan, result = planned
    html = report.run_html(model, plan, run_report_of(plan), result)
    width, height, bpp, rows = render(html, tmp_path, "run")
    assert colour_share(width, height, bpp, rows, (0xbb, 0xde, 0xfb), tol=12) > 0.001   # predicted bars
    assert colour_share(width, height, bpp, rows, (0x2e, 0x7d, 0x32)) > 0.001           # measured ok


# -- an operator reads it: names, units, waves, and a bounded page at datacenter scale ------------

def test_time_ticks_are_round_and_carry_units():
    assert [report.fmt_time(t) for t in (0, 45, 60, 120, 150, 5400, 7200, 9000)] == [
        "0 s", "45 s", "60 s", "2 min", "2 min 30 s", "90 min", "2 h", "2 h 30 min"]
    assert report.fmt_time(12.34, precise=True) == "12.3 s"
    assert report.tick_step(368) == 60 and report.tick_step(5397) == 900 and report.tick_step(7) == 1
    axis = report._time_axis(368, 100)
    assert ">0 s<" in axis and ">60 s<" in axis and ">2 min<" in axis and ">6 min<" in axis and "74" not in axis


def _titles(html):
    return re.findall(r"<title>([^<]*)</title>", html)


def test_every_migration_is_named_in_table_and_tooltip(planned):
    model, plan, result = planned
    html = report.plan_html(model, plan, result)
    table = html[html.index('<table class="migrations">'):]
    titles = _titles(html)
    for a in (a for a in plan.actions if a.type == "migrate"):
        assert f"<td>{a.vm}</td><td>{a.wave}</td><td>{a.source}</td><td>{a.destination}</td>" in table
        tip = next(t for t in titles if t.startswith(f"{a.vm}: "))
        duration, mbps, dummy = report.migration_facts(a, result)
        assert f"{a.source} → {a.destination}" in tip and f"wave {a.wave}" in tip
        assert report.fmt_time(duration, True) in tip and f"{mbps:,.0f} Mbit/s" in tip and mbps > 0


def test_wave_lines_start_at_the_first_migration(planned):
    model, plan, result = planned
    starts = report._wave_starts(plan)
    for wave, start in starts.items():
        first = min(a.start_s for a in plan.actions if a.wave == wave and a.type == "migrate")
        assert start == first
    svg = report.gantt_svg(plan, result.completion_s, result)
    assert svg.count('class="wave"') == len(starts)


@pytest.fixture(scope="module")
def datacenter_2048():
    """bench/gen_datacenter.py's 2,048-host model (400 drained, 6,000 VMs) and the cheap
    hand-tuned plan (4 lanes): the report must stay small and readable at this size."""
    sys.path.insert(0, os.path.join(REPO, "bench"))
    try:
        import gen_datacenter
    finally:
        sys.path.pop(0)
    model = parse_model(gen_datacenter.generate(hosts=2048, drain=400))
    plan = hand_tuned.hybrid(model, 4, 1, None)
    result = simulate(model, plan, record_links=True)
    annotate(model, plan, result)
    return model, plan, result, report.plan_html(model, plan, result)


def test_report_at_2048_hosts_is_small_and_names_every_migration(datacenter_2048):
    model, plan, result, html = datacenter_2048
    assert len(html.encode()) <= 3 * 1024 * 1024
    migrations = [a for a in plan.actions if a.type == "migrate"]
    assert len(migrations) == 6000
    rows = set(re.findall(r"<tr[^>]*><td>([^<]*)</td><td>\d+</td><td>([^<]*)</td><td>([^<]*)</td>", html))
    assert rows == {(a.vm, a.source, a.destination) for a in migrations}
    tips = {t.split(" · ")[0] for t in _titles(html)}
    assert {f"{a.vm}: {a.source} → {a.destination}" for a in migrations} <= tips
    # one overview row per rack, and one <details> per rack down to its hosts
    racks = {model.hosts[h].switch for h in report.gantt_rows(plan)}
    assert html.count('<details class="rack">') == len(racks)
    overview = html[html.index('<svg class="gantt racks"'):]
    overview = overview[:overview.index("</svg>")]
    assert all(f">{rack}<" in overview for rack in racks) and "r000-h00<" not in overview
    # the header counts hosts instead of listing them; waves are marked every few waves
    header = html[:html.index("<h2>")]
    assert "400 hosts in 13 racks" in header
    assert overview.count('class="wave"') <= report.MAX_WAVE_MARKS + 1


def test_link_chart_draws_the_busiest_and_lists_the_rest(datacenter_2048):
    model, dummy, result, html = datacenter_2048
    usage = report.link_usage(model, result.link_steps, result.completion_s)
    assert len(usage) > report.MAX_LINK_BANDS
    assert html.count('class="link-use"') == report.MAX_LINK_BANDS
    assert html.count("<tr><td>up") == len(usage)
    busiest = sorted(usage, key=lambda u: -u[4])[:report.MAX_LINK_BANDS]
    for rid, dummy, dummy2, peak, mean in busiest:
        assert f"{report._resource_label(rid)}: " in html


def test_step_points_keep_the_shape_at_pixel_resolution():
    horizon = 1000.0
    flicker = [(i * 0.01, i % 2) for i in range(100000)] + [(600.0, 0.5)]   # far faster than a pixel
    pts = report.step_points(flicker, horizon, lambda v: 100 - 100 * v)
    assert len(pts) <= 4 * 2 * (report.RIGHT - report.LEFT) + 4            # bounded by the width
    assert {0.0, 100.0, 50.0} <= {y for dummy, y in pts}                    # extremes and last level
    assert pts[-1] == (report.RIGHT, 50.0)
    # many events whose changes a screen cannot show: a few vertices
    calm = [(i * 0.01, 0.3 + (i % 7) * 1e-5) for i in range(100000)] + [(500.0, 0.8)]
    pts = report.step_points(calm, horizon, lambda v: 100 - 100 * v)
    assert pts == [(report.LEFT, 70.0), (report.LEFT + (report.RIGHT - report.LEFT) / 2, 70.0),
                   (report.LEFT + (report.RIGHT - report.LEFT) / 2, 20.0), (report.RIGHT, 20.0)]


def test_run_report_at_2048_hosts_is_small_and_names_every_migration(datacenter_2048):
    model, plan, result, dummy = datacenter_2048
    rows = [{"id": a.id, "measured_start_s": a.start_s * 1.1, "measured_end_s": a.end_s * 1.1,
             "outcome": "failed" if i % 500 == 7 else "ok"} for i, a in enumerate(plan.actions)]
    html = report.run_html(model, plan, {"actions": rows}, result)
    assert len(html.encode()) <= 3 * 1024 * 1024
    table = html[html.index('<table class="run-actions">'):]
    for a in (a for a in plan.actions if a.type == "migrate"):
        assert f"<td>{a.id}</td><td>{a.vm}: {a.source} → {a.destination}</td>" in table
    # the chart keeps to the actions that did not go well; all of them are in the table
    failed = sum(1 for r in rows if r["outcome"] == "failed")
    assert html.count('class="measured failed"') == failed and 'class="measured ok"' not in html
