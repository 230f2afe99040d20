"""Collection-wide rules: README commands, role argument specs matching defaults, fragments."""
import glob
import os

import pytest
import yaml

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
ROLES = sorted(os.path.basename(p) for p in glob.glob(os.path.join(ROOT, "roles", "*"))
               if os.path.isdir(p))


def test_readme_opens_with_the_two_commands():
    with open(os.path.join(ROOT, "README.md")) as handle:
        head = handle.read(400)
    assert head.index("make demo") < head.index("make test")


def test_ci_runs_make_test():
    with open(os.path.join(ROOT, ".ci", "run")) as handle:
        assert "make test" in handle.read()


@pytest.mark.skipif(not ROLES, reason="no roles in this checkout")
@pytest.mark.parametrize("role", ROLES)
def test_role_argument_specs_match_defaults(role):
    base = os.path.join(ROOT, "roles", role)
    with open(os.path.join(base, "meta", "argument_specs.yml")) as handle:
        specs = yaml.safe_load(handle)["argument_specs"]["main"]["options"]
    defaults_path = os.path.join(base, "defaults", "main.yml")
    defaults = {}
    if os.path.exists(defaults_path):
        with open(defaults_path) as handle:
            defaults = yaml.safe_load(handle) or {}
    public = {k for k in defaults if not k.startswith("__")}
    assert public <= set(specs), f"defaults without an argument spec: {sorted(public - set(specs))}"
    for name, spec in specs.items():
        assert name.startswith(f"{role}_") or name.startswith("wavedrain_"), \
            f"{role}: option {name} must be prefixed {role}_ (or wavedrain_ for shared inventory vars)"
        if name in defaults and "default" in spec:
            assert spec["default"] == defaults[name], f"{role}: {name} default differs from defaults/main.yml"
        assert spec.get("description"), f"{role}: option {name} has no description"


def test_changelog_fragments_are_valid():
    sections = {"major_changes", "minor_changes", "breaking_changes", "deprecated_features",
                "removed_features", "security_fixes", "bugfixes", "known_issues", "trivial"}
    fragments = glob.glob(os.path.join(ROOT, "changelogs", "fragments", "*.yml"))
    assert fragments
    for path in fragments:
        with open(path) as handle:
            data = yaml.safe_load(handle)
        assert set(data) <= sections, f"{path}: unknown sections {set(data) - sections}"
        assert all(isinstance(v, list) and v for v in data.values()), path
        # an unquoted "x - y: z" item is a mapping, which antsibull-changelog refuses
        assert all(isinstance(item, str) for v in data.values() for item in v), f"{path}: quote items holding ': '"
