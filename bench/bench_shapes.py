#!/usr/bin/env python
"""Planner bench on diverse shapes (gen_shapes.py): one child process per shape, as the module runs.

    python bench/bench_shapes.py                         # every shape, 1 run each
    python bench/bench_shapes.py --shapes islands-512,dense-200 --runs 3
    python bench/bench_shapes.py --seed 2                # other instances of the same mixes

Per shape: hosts / drained / VMs to move, planning wall time as drain_plan runs it (parse +
plan_drain with the yardsticks, time limit 60 s by default), the child's peak RSS, completion,
proven lower bound, ratio, mean migration vs the sequential yardstick's, and which candidate won
(with the solver status, which says why). Times are medians of --runs (the machine may be shared).
"""
import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))


def _import_planner():
    sys.path.insert(0, HERE)
    import _collection
    _collection.on_path()
    from ansible_collections.wavedrain.kvm.plugins.module_utils._planner import model, planner
    return model, planner


def run_one(name, time_limit, seed=None):
    """Child: plan one shape as the module does; print one JSON line."""
    sys.path.insert(0, HERE)
    from gen_shapes import build
    model_mod, planner = _import_planner()
    data = build(name, seed)
    started = time.monotonic()
    out = {"shape": name}
    try:
        model = model_mod.parse_model(data)
        plan = planner.plan_drain(model, time_limit_s=time_limit)
    except (model_mod.ModelError, planner.PlanningError) as exc:
        out.update(error="; ".join(exc.errors)[:300], wall_s=time.monotonic() - started)
    else:
        seq = (plan.extra.get("yardsticks") or {}).get("sequential") or {}
        out.update(wall_s=time.monotonic() - started, completion_s=plan.predicted["completion_s"],
                   bound_s=plan.extra["lower_bound"]["completion_s"],
                   mean_s=plan.predicted["mean_migration_s"], seq_mean_s=seq.get("mean_migration_s"),
                   chosen=plan.extra["solver"]["chosen"], status=plan.extra["solver"]["status"])
    moving = sum(1 for v in data["vms"].values() if v["host"] in set(data["maintenance"]["drain"]))
    out.update(hosts=len(data["hosts"]), drained=len(data["maintenance"]["drain"]), vms=moving,
               rss_mb=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
    print(json.dumps(out))


def _row(runs):
    last = runs[-1]
    wall = statistics.median(r["wall_s"] for r in runs)
    head = f"| {last['shape']} | {last['hosts']} / {last['drained']} / {last['vms']} | {wall:.1f} | {last['rss_mb']:.0f} |"
    if "error" in last:
        return head + f" - | - | - | - | refused: {last['error']} |"
    ratio = last["completion_s"] / last["bound_s"] if last["bound_s"] else float("nan")
    seq = f"{last['seq_mean_s']:.1f}" if last.get("seq_mean_s") is not None else "-"
    return (head + f" {last['completion_s']:.0f} | {last['bound_s']:.0f} | {ratio:.3f} | "
            f"{last['mean_s']:.1f} / {seq} | {last['chosen']}: {last['status']} |")


def main():
    sys.path.insert(0, HERE)
    from gen_shapes import SHAPES
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--shapes", default=",".join(SHAPES), help="comma-separated shape names")
    parser.add_argument("--runs", type=int, default=1)
    parser.add_argument("--time-limit", type=float, default=60)
    parser.add_argument("--seed", help="another instance of each shape's mix (default: the shape's own)")
    parser.add_argument("--one", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        run_one(args.one, args.time_limit, args.seed)
        return
    print("| shape | hosts / drained / VMs | plan wall s | peak RSS MB | completion s | bound s | ratio "
          "| mean migration s (plan / sequential) | winner: solver status |")
    print("|---|---|---|---|---|---|---|---|---|")
    for name in filter(None, args.shapes.split(",")):
        runs = []
        for dummy in range(args.runs):
            child = subprocess.run([sys.executable, os.path.abspath(__file__), "--one", name,
                                    "--time-limit", str(args.time_limit)]
                                   + (["--seed", args.seed] if args.seed else []),
                                   capture_output=True, text=True, check=False)
            if child.returncode != 0:
                print(f"| {name} | crashed: {child.stderr.strip().splitlines()[-1:]} |", flush=True)
                break
            runs.append(json.loads(child.stdout.strip().splitlines()[-1]))
        if runs:
            print(_row(runs), flush=True)


if __name__ == "__main__":
    main()
