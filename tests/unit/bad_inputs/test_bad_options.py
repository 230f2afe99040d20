"""drain_plan's options: every bad value fails the module with the option named, never a traceback."""
import io
import json
import os
import sys

import pytest
from ansible.module_utils.testing import patch_module_args

from ansible_collections.wavedrain.kvm.plugins.modules import drain_plan

from catalogue import accepted, base_model, changed

EXAMPLE = os.path.join(os.path.dirname(__file__), "..", "..", "..", "examples", "bladecenter.yml")


def module_output(args):
    """Run drain_plan in the bounded child: its JSON answer (the module always exits)."""
    def run():
        # a real module process is not the controller: its warnings go into the result, as here
        from ansible.module_utils import _internal
        _internal.is_controller = False
        sys.stdout = io.StringIO()
        try:
            with patch_module_args(args):
                drain_plan.main()
        except SystemExit:
            pass
        return json.loads(sys.stdout.getvalue())
    return accepted(run)


def failed_with(args, *words):
    out = module_output(args)
    assert out.get("failed") is True, "the module accepted %r" % (args,)
    for word in words:
        assert word in out["msg"], "%r not in %s" % (word, out["msg"])
    assert "Traceback" not in json.dumps(out) and "exception" not in out
    return out


def warning_texts(out):
    """Warnings as text: ansible-core 2.21 returns them as {event: {msg}} summaries."""
    return [w["event"]["msg"] if isinstance(w, dict) else w for w in out.get("warnings", [])]


OPTIONS = [
    ("time-limit-zero", {"time_limit_s": 0}, ["time_limit_s must be a number of seconds greater than 0"]),
    ("time-limit-negative", {"time_limit_s": -5}, ["time_limit_s", "got -5.0"]),
    ("time-limit-nan", {"time_limit_s": "nan"}, ["time_limit_s", "got nan"]),
    ("time-limit-inf", {"time_limit_s": "inf"}, ["time_limit_s", "got inf"]),
    ("time-limit-year", {"time_limit_s": 365 * 86400}, ["at most 86400"]),
    ("time-limit-text", {"time_limit_s": "soon"}, ["time_limit_s"]),
    ("solver-injection", {"solver": "highs; rm -rf /"}, ["solver must be a solver name"]),
    ("solver-empty", {"solver": ""}, ["solver must be a solver name"]),
    ("objective-unknown", {"objective": "cheapest"}, ["objective"]),
    ("strategy-unknown", {"strategy": "yolo"}, ["strategy"]),
    ("model-and-file", {"model": {"hosts": {}}}, ["mutually exclusive"]),
    ("model-not-dict", {"model_file": None, "model": "hosts: {}"}, ["model"]),
]


@pytest.mark.parametrize("args, words", [c[1:] for c in OPTIONS], ids=[c[0] for c in OPTIONS])
def test_bad_option_fails_the_module(args, words):
    failed_with(dict({"model_file": EXAMPLE}, **args), *words)


@pytest.mark.parametrize("name, text, words", [
    ("missing.yml", None, ["cannot parse model_file", "missing.yml", "No such file"]),
    ("dup.yml", "hosts:\n  h1: {cpu: 1}\n  h1: {cpu: 2}\n", ["line 3", "'h1' appears twice"]),
    ("bomb.yml", "a: &a [1,1,1,1,1,1,1,1,1,1]\n" + "".join(
        "b%d: &b%d [%s]\n" % (i, i, ",".join(["*" + ("a" if i == 0 else "b%d" % (i - 1))] * 10)) for i in range(8)),
     ["aliases", "expand to"]),
    ("nan.json", '{"hosts": {"h1": {"cpu": NaN}}}', ["hosts.h1.cpu is nan"]),
])
def test_bad_model_file_fails_the_module(tmp_path, name, text, words):
    path = tmp_path / name
    if text is not None:
        path.write_text(text)
    out = failed_with({"model_file": str(path)}, *words)
    assert out["errors"] and out["msg"].endswith(out["errors"][0])


def test_a_directory_as_model_file_is_named(tmp_path):
    failed_with({"model_file": str(tmp_path)}, "cannot parse model_file", "Is a directory")


def test_typo_hint_survives_the_failure():
    model = changed("hosts.s2", {"cpu": 8, "memroy_mb": 16384, "switch": "sw2"})
    out = failed_with({"model": model}, "hosts.s2: missing 'memory_mb'")
    assert any("memroy_mb" in w and "did you mean 'memory_mb'" in w for w in warning_texts(out)), out


def test_misspelled_section_is_not_an_empty_success():
    model = base_model()
    model["maintenence"] = model.pop("maintenance")
    failed_with({"model": model}, "unknown top-level key 'maintenence'", "did you mean 'maintenance'")


def test_good_options_still_plan():
    out = module_output({"model": base_model(), "strategy": "sequential", "time_limit_s": 0.5})
    assert out.get("failed") is not True, out.get("msg")
    assert out["plan"]["version"] == 1 and len([a for a in out["plan"]["actions"] if a["type"] == "migrate"]) == 3
