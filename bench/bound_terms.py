#!/usr/bin/env python
"""Each term of the proven lower bound, per bench shape (gen_shapes.py), with its time.

    python bench/bound_terms.py                      # every shape
    python bench/bound_terms.py --shapes dense-200,islands-512

Prints, per shape, every term ``bound.bound_terms`` computes (seconds) and how long each took:
the term that binds is the largest. Use it to see why a bound is low on a shape.
"""
import argparse
import os
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))


def _import():
    sys.path.insert(0, HERE)
    import _collection
    _collection.on_path()
    from ansible_collections.wavedrain.kvm.plugins.module_utils._planner import bound, milp, model
    return bound, milp, model


def main():
    sys.path.insert(0, HERE)
    from gen_shapes import SHAPES, build
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--shapes", default=",".join(SHAPES), help="comma-separated shape names")
    args = parser.parse_args()
    bound, milp, model_mod = _import()
    for name in args.shapes.split(","):
        model = model_mod.parse_model(build(name))
        started = time.monotonic()
        problem = milp.PlacementProblem(model)
        setup = time.monotonic() - started
        terms = bound.bound_terms(model, problem)
        total = time.monotonic() - started
        best = max(terms, key=lambda k: terms[k][0])
        print(f"{name}: bound {terms[best][0]:.1f} s ({best}); problem {setup:.1f} s, all terms {total:.1f} s")
        for key, (seconds, spent) in terms.items():
            print(f"    {key:<16} {seconds:9.1f} s   ({spent:.2f} s to compute)")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
