"""make demo: plan a datacenter model and compare the plan with the yardstick strategies.

Usage: python bench/demo.py MODEL.yml [--out DIR]
Writes DIR/plan.json (the best plan) and DIR/plan.html (Gantt, power, hosts online).
"""
import argparse
import json
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import _collection  # noqa: E402

_collection.on_path()

from ansible_collections.wavedrain.kvm.plugins.module_utils._documents import DocumentError, load_document_file  # noqa: E402
from ansible_collections.wavedrain.kvm.plugins.module_utils._planner import (  # noqa: E402
    checker, model as dc_model, planner, report, simulator)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model")
    parser.add_argument("--out", default="build/demo")
    parser.add_argument("--time-limit", type=float, default=30.0, help="solver time limit (s)")
    args = parser.parse_args()
    try:  # the collection's own loader: duplicate keys, alias bombs and oversized files are refused
        model = dc_model.parse_model(load_document_file(args.model))
    except (DocumentError, dc_model.ModelError) as err:
        sys.exit(str(err))
    for warning in model.warnings:
        print(f"warning: {warning}")
    moving = sum(len(model.vms_on(h)) for h in model.drain)
    print(f"{args.model}: {len(model.hosts)} hosts, drain {len(model.drain)} hosts "
          f"({moving} VMs) into {len(model.targets)} targets\n")

    started = time.perf_counter()
    try:
        best = planner.plan_drain(model, time_limit_s=args.time_limit)
    except planner.PlanningError as err:
        sys.exit("cannot plan this drain:\n  - " + "\n  - ".join(err.errors))
    seconds = time.perf_counter() - started
    violations = checker.check_plan(model, best)
    solver = best.extra["solver"]
    print(f"optimized plan: {len(best.waves)} waves, planned in {seconds:.1f} s "
          f"(solver {solver['name']}: {solver['status']}, gap {solver['gap']}), "
          f"checker: {'valid' if not violations else f'{len(violations)} violations'}")
    print(f"proven lower bound on completion: {best.extra['lower_bound']['completion_s']} s\n")
    rows = [(name, figures) for name, figures in best.extra["yardsticks"].items() if figures]
    rows.append(("optimized", dict(best.predicted, breaks=[r.rule for r in violations])))
    print(report.comparison_table_text(rows))

    os.makedirs(args.out, exist_ok=True)
    plan_path = os.path.join(args.out, "plan.json")
    html_path = os.path.join(args.out, "plan.html")
    with open(plan_path, "w") as handle:
        json.dump(best.to_dict(), handle, indent=1)
    result = simulator.simulate(model, best, record_links=True)   # the link chart shows the point
    with open(html_path, "w") as handle:
        handle.write(report.plan_html(model, best, result, rows))
    print(f"\nplan: {plan_path}\npicture of the plan: {html_path}")


if __name__ == "__main__":
    main()
