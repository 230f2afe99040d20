#!/usr/bin/env python
"""Planner benchmark: size, build/solve time, gap, completion vs lower bound vs the yardsticks.

    python bench/bench_planner.py                       # examples + generated 512 / 2048 hosts
    python bench/bench_planner.py --sizes 2048:400 --runs 1

Each row is the median of --runs runs; peak memory is the process's max RSS (getrusage).
Yardsticks: sequential, parallel and the best hand-tuned hybrid over the planner's grid (coarse
at datacenter scale), each replayed in the simulator; * marks a yardstick that breaks a
constraint (e.g. non-live migrations) and so could not be run as is.
"""
import argparse
import os
import resource
import statistics
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, HERE)
import _collection  # noqa: E402

_collection.on_path()

import yaml  # noqa: E402

from gen_datacenter import generate  # noqa: E402
from ansible_collections.wavedrain.kvm.plugins.module_utils._planner import baselines  # noqa: E402
from ansible_collections.wavedrain.kvm.plugins.module_utils._planner.checker import check_plan  # noqa: E402
from ansible_collections.wavedrain.kvm.plugins.module_utils._planner.hand_tuned import hand_tuned_plans  # noqa: E402
from ansible_collections.wavedrain.kvm.plugins.module_utils._planner.model import parse_model  # noqa: E402
from ansible_collections.wavedrain.kvm.plugins.module_utils._planner.planner import _hand_tuned_grid, plan_drain  # noqa: E402


def _best_hand_tuned(model):
    """The planner's hand-tuned grid (coarse at datacenter scale): best valid plan, else best invalid one."""
    plans = sorted(hand_tuned_plans(model, **_hand_tuned_grid(model)),
                   key=lambda p: (p.predicted["completion_s"], p.predicted["mean_migration_s"]))
    return next((p for p in plans if not check_plan(model, p)), plans[0] if plans else None)


def yardsticks(model, limit):
    """Completion of each yardstick, marked with * when the plan breaks a constraint (e.g. non-live)."""
    moving = sum(1 for v in model.vms.values() if v.host in set(model.drain))
    plans = {"sequential": baselines.sequential(model)}
    if not limit or moving <= limit:
        plans["parallel"] = baselines.parallel(model)
        plans["hand_tuned"] = _best_hand_tuned(model)
    out = {}
    for name in ("sequential", "parallel", "hand_tuned"):
        plan = plans.get(name)
        if plan is None:
            out[name] = "-"
            continue
        invalid = check_plan(model, plan)
        out[name] = f"{plan.predicted['completion_s']:.0f}" + ("*" if invalid else "")
    return out


def bench(label, data, runs, time_limit, limit):
    rows = []
    for dummy in range(runs):
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
    planner_rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024   # before the yardsticks
    t3 = time.monotonic()
    refs = yardsticks(model, limit)
    ref_s = time.monotonic() - t3
    lb = plan.extra["lower_bound"]["completion_s"]
    comp = plan.predicted["completion_s"]
    moving = sum(1 for v in model.vms.values() if v.host in set(model.drain))
    gap = plan.extra["solver"]["gap"]
    print(f"| {label} | {len(model.hosts)} / {len(model.drain)} / {moving} | {build:.2f} | {solve:.2f} | "
          f"{'-' if gap is None else f'{100 * gap:.2f} %'} | {comp:.0f} | {lb:.0f} ({100 * (comp / lb - 1):.1f} %) | "
          f"{refs['sequential']} | {refs['parallel']} | {refs['hand_tuned']} | {ref_s:.1f} | "
          f"{plan.predicted['mean_migration_s']:.1f} | {rows[-1][3]} | "
          f"{planner_rss_mb:.0f} | {plan.extra['solver']['status']} |",
          flush=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="512:100,2048:400", help="hosts:drained,... for generated models")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--time-limit", type=float, default=60)
    parser.add_argument("--yardstick-limit", type=int, default=0,
                        help="skip the parallel and hand-tuned yardsticks above this many moving VMs (0: never)")
    parser.add_argument("--no-examples", action="store_true")
    args = parser.parse_args()
    print("| model | hosts / drained / VMs | build s | solve s | MILP gap | completion s | lower bound s (excess) "
          "| sequential | parallel | hand-tuned | yardstick replay s | mean migration s | violations | peak RSS MB | solver status |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
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
