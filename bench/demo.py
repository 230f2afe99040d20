"""make demo: plan a datacenter model and compare the plan with the naive strategies.

Usage: python bench/demo.py MODEL.yml [--out DIR]
Writes DIR/plan.json (the best plan) and DIR/plan.html (Gantt, power, hosts online).
"""
import argparse
import json
import os
import sys
import time

import yaml

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "build", "collections"))

from ansible_collections.wavedrain.kvm.plugins.module_utils._planner import (  # noqa: E402
    baselines, checker, model as dc_model, report, simulator)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model")
    parser.add_argument("--out", default="build/demo")
    args = parser.parse_args()
    with open(args.model) as handle:
        try:
            model = dc_model.parse_model(yaml.safe_load(handle))
        except dc_model.ModelError as err:
            sys.exit(str(err))
    for warning in model.warnings:
        print(f"warning: {warning}")
    moving = sum(len(model.vms_on(h)) for h in model.drain)
    print(f"{args.model}: {len(model.hosts)} hosts, drain {len(model.drain)} hosts "
          f"({moving} VMs) into {len(model.targets)} targets\n")

    plans = []
    for name, strategy in (("sequential", baselines.sequential), ("parallel", baselines.parallel)):
        started = time.perf_counter()
        plan = strategy(model)
        plans.append((name, plan, time.perf_counter() - started))
    for name, plan, seconds in plans:
        violations = checker.check_plan(model, plan)
        status = "valid" if not violations else f"{len(violations)} violations"
        print(f"{name:>12}: planned in {seconds:.2f} s, {len(plan.waves)} waves, checker: {status}")
    print()
    print(report.comparison_table_text([(n, p.predicted) for n, p, _ in plans]))

    best_name, best, _ = min(plans, key=lambda item: (item[1].predicted["completion_s"],
                                                      item[1].predicted["mean_migration_s"]))
    os.makedirs(args.out, exist_ok=True)
    plan_path = os.path.join(args.out, "plan.json")
    html_path = os.path.join(args.out, "plan.html")
    with open(plan_path, "w") as handle:
        json.dump(best.to_dict(), handle, indent=1)
    result = simulator.simulate(model, best)
    with open(html_path, "w") as handle:
        handle.write(report.plan_html(model, best, result, [(n, p.predicted) for n, p, _ in plans]))
    print(f"\nbest plan ({best_name}): {plan_path}\npicture of the plan: {html_path}")


if __name__ == "__main__":
    main()
