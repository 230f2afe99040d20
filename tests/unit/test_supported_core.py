"""The supported ansible-core range is stated once (meta/runtime.yml) and tested at both ends:
`make test` runs the unit tests on requirements.txt's core and on requirements-oldest.txt's."""
import os
import re

import yaml
from ansible.release import __version__ as running_core

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def pins(name):
    with open(os.path.join(ROOT, name)) as handle:
        lines = [line.split("#")[0].strip() for line in handle]
    return dict(line.split("==") for line in lines if "==" in line)


def lower_bound():
    with open(os.path.join(ROOT, "meta", "runtime.yml")) as handle:
        spec = yaml.safe_load(handle)["requires_ansible"]
    match = re.fullmatch(r">=(\d+)\.(\d+)\.(\d+)", spec)
    assert match, f"requires_ansible {spec!r}: state only a lower bound, >=X.Y.Z"
    return tuple(int(g) for g in match.groups())


def test_oldest_venv_pins_the_stated_lower_bound():
    oldest = pins("requirements-oldest.txt")["ansible-core"]
    assert tuple(int(x) for x in oldest.split(".")[:2]) == lower_bound()[:2]


def test_oldest_venv_differs_only_by_the_core():
    newest, oldest = pins("requirements.txt"), pins("requirements-oldest.txt")
    for name in set(newest) - {"ansible-core"}:
        assert oldest.get(name) == newest[name], f"{name}: requirements-oldest.txt drifts from requirements.txt"


def test_this_run_uses_a_supported_core():
    running = tuple(int(x) for x in re.findall(r"\d+", running_core)[:3])
    assert running >= lower_bound()
    assert running_core in (pins("requirements.txt")["ansible-core"], pins("requirements-oldest.txt")["ansible-core"])


def test_makefile_runs_the_oldest_in_make_test():
    with open(os.path.join(ROOT, "Makefile")) as handle:
        text = handle.read()
    test_target = text[text.index("\ntest:"):].split("\n\n")[0]
    assert "unit-oldest" in test_target and "requirements-oldest.txt" in text
