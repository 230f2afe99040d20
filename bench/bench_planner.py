#!/usr/bin/env python
"""Planner benchmark: size, build/solve time, gap, completion vs lower bound vs the yardsticks.

    python bench/bench_planner.py                       # examples + generated 512 / 2048 hosts
    python bench/bench_planner.py --sizes 2048:400 --runs 1

Each row is the median of --runs runs; peak memory is the process's max RSS (getrusage).
Yardsticks at datacenter scale: sequential is replayed; parallel and hand-tuned are skipped
above --yardstick-limit moving VMs (replaying thousands of concurrent flows is slow).
"""
import argparse
import os
import resource
import statistics
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(ROOT, "build", "collections"))
sys.path.insert(0, HERE)
if not os.path.exists(os.path.join(ROOT, "build", "collections", "ansible_collections", "wavedrain", "kvm")):
    os.makedirs(os.path.join(ROOT, "build", "collections", "ansible_collections", "wavedrain"), exist_ok=True)
    os.symlink(ROOT, os.path.join(ROOT, "build", "collections", "ansible_collections", "wavedrain", "kvm"))

import yaml  # noqa: E402

from gen_datacenter import generate  # noqa: E402
from ansible_collections.wavedrain.kvm.plugins.module_utils._planner import baselines  # noqa: E402
from ansible_collections.wavedrain.kvm.plugins.module_utils._planner.checker import check_plan  # noqa: E402
from ansible_collections.wavedrain.kvm.plugins.module_utils._planner.hand_tuned import hand_tuned  # noqa: E402
from ansible_collections.wavedrain.kvm.plugins.module_utils._planner.model import parse_model  # noqa: E402
from ansible_collections.wavedrain.kvm.plugins.module_utils._planner.planner import plan_drain  # noqa: E402


def yardsticks(model, limit):
    moving = sum(1 for v in model.vms.values() if v.host in set(model.drain))
    out = {"sequential": baselines.sequential(model).predicted["completion_s"]}
    if moving <= limit:
        out["parallel"] = baselines.parallel(model).predicted["completion_s"]
        best = hand_tuned(model)
        out["hand_tuned"] = best.predicted["completion_s"] if best else None
    else:
        out["parallel"] = out["hand_tuned"] = None
    return out


def bench(label, data, runs, time_limit, limit):
    rows = []
    for _ in range(runs):
        t0 = time.monotonic()
        model = parse_model(data)
        t1 = time.monotonic()
        plan = plan_drain(model, time_limit_s=time_limit, compare=False)
        t2 = time.monotonic()
        violations = check_plan(model, plan)
        rows.append((t1 - t0, t2 - t1, plan, len(violations)))
    build = statistics.median(r[0] for r in rows)
    solve = statistics.median(r[1] for r in rows)
    plan = rows[-1][2]
    refs = yardsticks(model, limit)
    lb = plan.extra["lower_bound"]["completion_s"]
    comp = plan.predicted["completion_s"]
    moving = sum(1 for v in model.vms.values() if v.host in set(model.drain))

    def fmt(x):
        return "-" if x is None else f"{x:.0f}"
    gap = plan.extra["solver"]["gap"]
    print(f"| {label} | {len(model.hosts)} / {len(model.drain)} / {moving} | {build:.2f} | {solve:.2f} | "
          f"{'-' if gap is None else f'{100 * gap:.2f} %'} | {comp:.0f} | {lb:.0f} ({100 * (comp / lb - 1):.1f} %) | "
          f"{fmt(refs['sequential'])} | {fmt(refs['parallel'])} | {fmt(refs['hand_tuned'])} | "
          f"{plan.predicted['mean_migration_s']:.1f} | {rows[-1][3]} | "
          f"{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} | {plan.extra['solver']['status']} |",
          flush=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="512:100,2048:400", help="hosts:drained,... for generated models")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--time-limit", type=float, default=60)
    parser.add_argument("--yardstick-limit", type=int, default=800)
    parser.add_argument("--no-examples", action="store_true")
    args = parser.parse_args()
    print("| model | hosts / drained / VMs | build s | solve s | MILP gap | completion s | lower bound s (excess) "
          "| sequential | parallel | hand-tuned | mean migration s | violations | peak RSS MB | solver status |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    if not args.no_examples:
        for name in ("bladecenter", "refresh"):
            with open(os.path.join(ROOT, "examples", name + ".yml")) as handle:
                bench(name, yaml.safe_load(handle), args.runs, args.time_limit, args.yardstick_limit)
    for size in filter(None, args.sizes.split(",")):
        hosts, drained = (int(x) for x in size.split(":"))
        bench(f"generated {hosts}", generate(hosts, drained), max(1, args.runs if hosts <= 512 else 1),
              args.time_limit, args.yardstick_limit)


if __name__ == "__main__":
    main()
