#!/usr/bin/env python
"""Execution engine benchmark: the real maintenance playbook against simulated hypervisors and BMCs.

The fake `virsh` and `ipmitool` of tests/fakes/bin (on PATH) make each action last its predicted
duration x SCALE, so the run's floor is the predicted completion x SCALE and what is left is the
controller's own cost. Per plan it prints: actions, wall time, floor, controller overhead per action
(median delay from an action's last dependency ending to its start, and (wall - floor) / actions),
maximum in flight: planned, ideal (every action started the instant its dependencies ended, with the
durations as measured: what the simulated hypervisors' own costs leave of the plan) and observed,
the same for migrations alone (planned and observed: what the plan's lanes bound; boots and
power-offs are seen by polling, so they may overlap more than planned), controller CPU seconds
and peak RSS (the ansible-playbook processes, sampled; the fakes and children not yet exec'd excluded), and the virsh and ipmitool
command lines run per action (each a process start on the controller).

    python bench/bench_executor.py                       # bladecenter, 512 and 2,048 hosts
    python bench/bench_executor.py --plans bladecenter --scale 0.01
    python bench/bench_executor.py --plans gen2048 --no-statistics   # without libvirt's job statistics
    python bench/bench_executor.py --plans gen2048 --scale 1 --detail # real time, figures per action type
"""
import argparse
import graphlib
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path[:0] = [os.path.join(ROOT, "build", "collections"), os.path.join(ROOT, "tests", "fakes"),
                os.path.join(ROOT, "bench")]
import fake_dc  # noqa: E402
import gen_datacenter  # noqa: E402
import yaml  # noqa: E402
from ansible_collections.wavedrain.kvm.plugins.module_utils._executor.report import max_in_flight  # noqa: E402

PLANS = {"bladecenter": None, "gen512": (512, 60), "gen2048": (2048, 400)}
OUT = os.path.join(ROOT, "build", "bench", "executor")
DEFAULT_POLL_S = 0.5  # wavedrain_poll_s's default, scaled like every duration


def plan_for(name, time_limit):
    """The plan of a model (cached under build/bench/executor/)."""
    from ansible_collections.wavedrain.kvm.plugins.module_utils._planner.model import parse_model
    from ansible_collections.wavedrain.kvm.plugins.module_utils._planner.planner import plan_drain
    path = os.path.join(OUT, name + ".plan.json")
    if os.path.exists(path):
        with open(path) as f:
            return json.load(f)
    if PLANS[name] is None:
        with open(os.path.join(ROOT, "examples", "bladecenter.yml")) as f:
            model = yaml.safe_load(f)
    else:
        model = gen_datacenter.generate(hosts=PLANS[name][0], drain=PLANS[name][1])
    plan = plan_drain(parse_model(model), time_limit_s=time_limit).to_dict()
    os.makedirs(OUT, exist_ok=True)
    with open(path, "w") as f:
        json.dump(plan, f)
    return plan


def replayed(plan, rows):
    """[start, end) of each action had every one started the instant its dependencies ended, with
    the durations measured: the concurrency an engine with no overhead would have reached."""
    by_id = {a["id"]: a for a in plan["actions"]}
    end, out = {}, []
    for aid in graphlib.TopologicalSorter({i: a.get("after", []) for i, a in by_id.items()}).static_order():
        r = rows[aid]
        start = max((end[d] for d in by_id[aid].get("after", [])), default=0.0)
        end[aid] = start + r["measured_end_s"] - r["measured_start_s"]
        out.append((start, end[aid]))
    return out


def _ansible_processes(root_pid):
    """utime+stime (s) and RSS (bytes) of root_pid and its descendants that are not the fakes."""
    children = {}
    for pid in os.listdir("/proc"):
        if pid.isdigit():
            try:
                with open("/proc/%s/stat" % pid) as f:
                    fields = f.read().rsplit(")", 1)[1].split()
                children.setdefault(int(fields[1]), []).append(int(pid))
            except OSError:
                continue
    cpu, rss, todo, memory = {}, 0, [root_pid], {}
    tick, page = os.sysconf("SC_CLK_TCK"), os.sysconf("SC_PAGE_SIZE")
    while todo:
        pid = todo.pop()
        todo += children.get(pid, [])
        try:
            with open("/proc/%d/cmdline" % pid, "rb") as f:
                if b"ansible" not in f.read():
                    continue
            with open("/proc/%d/stat" % pid) as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        memory[pid] = (fields[20], fields[21])  # vsize, rss
        if memory.get(int(fields[1])) == memory[pid]:
            # a child vforked by the engine that has not yet exec'd its virsh or ipmitool: it
            # shares its parent's memory, which must not count twice
            continue
        cpu[pid] = (int(fields[11]) + int(fields[12])) / tick
        rss += int(fields[21]) * page
    return cpu, rss


def scaled(plan, scale):
    """The plan with every predicted time x scale: the engine times its waits on the plan."""
    out = json.loads(json.dumps(plan))
    for a in out["actions"]:
        for k in ("start_s", "end_s"):
            a[k] = a[k] * scale
    for k in ("completion_s", "mean_migration_s", "std_migration_s"):
        out["predicted"][k] = out["predicted"][k] * scale
    return out


def run_playbook(plan, scale, workdir, extra_vars=()):
    plan = scaled(plan, scale)
    dc = fake_dc.build(os.path.join(workdir, "dc"), plan, scale=1)
    hosts = {h: {"wavedrain_libvirt_uri": v["wavedrain_libvirt_uri"], "wavedrain_bmc_address": h}
             for h, v in fake_dc.hostvars(plan).items()}
    bmc = {"wavedrain_bmc_user": "admin", "wavedrain_bmc_password": fake_dc.PASSWORD}
    inventory = {"all": {"hosts": hosts, "vars": bmc}}
    inv, plan_file = os.path.join(workdir, "inventory.yml"), os.path.join(workdir, "plan.json")
    with open(inv, "w") as f:
        yaml.safe_dump(inventory, f)
    with open(plan_file, "w") as f:
        json.dump(plan, f)
    env = fake_dc.env(dc)
    env["ANSIBLE_COLLECTIONS_PATH"] = os.path.join(ROOT, "build", "collections")
    report = os.path.join(workdir, "report.json")
    cmd = [os.path.join(os.path.dirname(sys.executable), "ansible-playbook"), "-i", inv,
           "wavedrain.kvm.maintenance", "-e", "wavedrain_plan_file=" + plan_file,
           "-e", "wavedrain_report_file=" + report, "-e", "wavedrain_poll_s=%g" % (DEFAULT_POLL_S * scale),
           "-e", "wavedrain_progress_interval_s=5"]
    for extra in extra_vars:
        cmd += ["-e", extra]
    t0 = time.time()
    proc = subprocess.Popen(cmd, env=env, stdout=open(os.path.join(workdir, "out.txt"), "w"),
                            stderr=subprocess.STDOUT)
    cpu, peak = {}, 0
    while proc.poll() is None:
        now_cpu, rss = _ansible_processes(proc.pid)
        cpu.update(now_cpu)
        peak = max(peak, rss)
        time.sleep(0.25)
    wall = time.time() - t0
    if proc.returncode != 0:
        with open(os.path.join(workdir, "out.txt")) as f:
            sys.exit("maintenance failed (rc %d):\n%s" % (proc.returncode, f.read()[-3000:]))
    calls = 0
    for log in ("virsh.argv", "ipmitool.argv"):  # every command line the simulated programs ran
        with open(os.path.join(dc, log)) as f:
            calls += sum(1 for dummy in f)
    with open(report) as f:
        return json.load(f), wall, sum(cpu.values()), peak, calls


def start_delay(a, rows):
    """Seconds from the end of an action's last dependency (the run's start: none) to its start."""
    return rows[a["id"]]["measured_start_s"] - max((rows[d]["measured_end_s"] for d in a.get("after", [])),
                                                   default=0.0)


def _quantiles(values):
    ordered = sorted(values)
    return [1000 * ordered[int(q * (len(ordered) - 1))] for q in (0.5, 0.9)]


def per_type(plan, rows):
    """Per action type: how many, start delay (median, p90) and measured - predicted duration
    (median, p90), in ms: where the controller's delay and the simulation's own drift are."""
    out = {}
    for kind in sorted({a["type"] for a in plan["actions"]}):
        delays, drift = [], []
        for a in plan["actions"]:
            if a["type"] == kind:
                r = rows[a["id"]]
                delays.append(start_delay(a, rows))
                drift.append((r["measured_end_s"] - r["measured_start_s"]) - (a["end_s"] - a["start_s"]))
        out[kind] = [len(delays)] + _quantiles(delays) + _quantiles(drift)
    return out


def figures(name, plan, scale, workdir, extra_vars=()):
    rep, wall, cpu, rss, calls = run_playbook(plan, scale, workdir, extra_vars)
    plan = scaled(plan, scale)
    rows = {r["id"]: r for r in rep["actions"]}
    delays = [start_delay(a, rows) for a in plan["actions"]]
    floor = plan["predicted"]["completion_s"]
    planned, observed = rep["summary"]["predicted_max_in_flight"], rep["summary"]["measured_max_in_flight"]
    ideal = max_in_flight(replayed(plan, rows))
    n = len(plan["actions"])
    return {"plan": name, "actions": n, "wall_s": wall, "floor_s": floor,
            "run_s": rep["summary"]["measured_completion_s"],
            "start_delay_ms": 1000 * statistics.median(delays),
            "overhead_ms": 1000 * (rep["summary"]["measured_completion_s"] - floor) / n,
            "planned_inflight": planned, "ideal_inflight": ideal, "observed_inflight": observed,
            "planned_migrations": rep["summary"]["predicted_max_migrations_in_flight"],
            "observed_migrations": rep["summary"]["measured_max_migrations_in_flight"],
            "cpu_s": cpu, "rss_mb": rss / 2 ** 20, "calls_per_action": calls / n, "per_type": per_type(plan, rows)}


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--plans", default=",".join(PLANS), help="comma-separated: " + ", ".join(PLANS))
    parser.add_argument("--scale", type=float, default=0.01, help="simulated duration / predicted duration")
    parser.add_argument("--time-limit", type=float, default=60, help="planning time limit (plans are cached)")
    parser.add_argument("--no-statistics", action="store_true",
                        help="wavedrain_migration_statistics=false: no virsh domjobinfo per migration")
    parser.add_argument("--detail", action="store_true",
                        help="per action type: start delay and measured - predicted duration (median, p90)")
    parser.add_argument("--keep", metavar="DIR", help="keep each run's report, journal and output under DIR/PLAN")
    args = parser.parse_args()
    extra_vars = ["wavedrain_migration_statistics=false"] if args.no_statistics else []
    head = ("plan", "actions", "wall s", "floor s", "run s", "start delay ms (median)", "(run-floor)/action ms",
            "in flight plan/ideal/observed", "migrations in flight plan/observed", "controller CPU s", "peak RSS MB",
            "virsh+ipmitool calls per action")
    print(" | ".join(head))
    for name in args.plans.split(","):
        plan = plan_for(name, args.time_limit)
        if args.keep:
            workdir = os.path.join(args.keep, name)
            shutil.rmtree(workdir, ignore_errors=True)
            os.makedirs(workdir)
            f = figures(name, plan, args.scale, workdir, extra_vars)
        else:
            with tempfile.TemporaryDirectory() as workdir:
                f = figures(name, plan, args.scale, workdir, extra_vars)
        print("%s | %d | %.1f | %.1f | %.1f | %.1f | %.1f | %d/%d/%d | %d/%d | %.1f | %.0f | %.2f" % (
            f["plan"], f["actions"], f["wall_s"], f["floor_s"], f["run_s"], f["start_delay_ms"], f["overhead_ms"],
            f["planned_inflight"], f["ideal_inflight"], f["observed_inflight"], f["planned_migrations"],
            f["observed_migrations"], f["cpu_s"], f["rss_mb"], f["calls_per_action"]), flush=True)
        if args.detail:
            for kind, (count, delay, delay90, drift, drift90) in f["per_type"].items():
                print("  %s: %d actions, start delay ms median %.1f p90 %.1f, measured - predicted duration ms "
                      "median %.1f p90 %.1f" % (kind, count, delay, delay90, drift, drift90), flush=True)


if __name__ == "__main__":
    main()
