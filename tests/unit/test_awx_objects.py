"""docs/awx/*.yml are awx.awx module parameters: each object is checked against the DOCUMENTATION
(options, types, choices, suboptions) of the awx.awx module that creates it, read from the awx.awx
collection (the one installed, else the one the `ansible` 7.7.0 wheel ships, fetched with pip);
the survey against AWX's survey format; the workflow's graph and paths against the engine's options."""
import ast
import glob
import json
import os
import re
import subprocess
import sys
import zipfile

import pytest
import yaml

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
AWX_DIR = os.path.join(ROOT, "docs", "awx")
CACHE = os.path.join(ROOT, "build", "awx-awx")
ANSIBLE_WITH_AWX = "ansible==7.7.0"      # the last `ansible` release that ships awx.awx (21.14.0)
MODULE_OF = {"credential_type_": "credential_type", "job_template_": "job_template",
             "workflow_": "workflow_job_template"}
TYPES = {"str": str, "dict": dict, "list": list, "bool": bool, "int": int, "float": (int, float)}
SURVEY_TYPES = {"text", "textarea", "password", "integer", "float", "multiplechoice", "multiselect"}


def _installed_awx():
    for base in sys.path + os.environ.get("ANSIBLE_COLLECTIONS_PATH", "").split(os.pathsep):
        path = os.path.join(base, "ansible_collections", "awx", "awx", "plugins", "modules")
        if base and os.path.isdir(path):
            return path
    return None


@pytest.fixture(scope="module")
def awx_modules():
    """Directory of awx.awx's modules."""
    path = _installed_awx() or os.path.join(CACHE, "ansible_collections", "awx", "awx", "plugins", "modules")
    if not os.path.isdir(path):
        wheels = os.path.join(CACHE, "wheel")
        subprocess.run([sys.executable, "-m", "pip", "download", "-q", "--no-deps", "-d", wheels, ANSIBLE_WITH_AWX],
                       capture_output=True, timeout=600, check=False)
        found = glob.glob(os.path.join(wheels, "ansible-*.whl"))
        if not found:
            pytest.skip(f"SKIPPED LOUDLY: awx.awx is not installed and pip could not fetch {ANSIBLE_WITH_AWX} "
                        "(it ships awx.awx); the AWX objects were NOT checked")
        with zipfile.ZipFile(found[0]) as wheel:
            wheel.extractall(CACHE, [n for n in wheel.namelist() if n.startswith("ansible_collections/awx/awx/")])
    return path


def module_options(modules_dir, name):
    with open(os.path.join(modules_dir, name + ".py")) as handle:
        tree = ast.parse(handle.read())
    doc = next(n.value.value for n in tree.body if isinstance(n, ast.Assign)
               and getattr(n.targets[0], "id", "") == "DOCUMENTATION")
    return yaml.safe_load(doc)["options"]


def _is_template(value):
    return isinstance(value, str) and "{{" in value


def check_against(value, spec, where, errors):
    """Collect every way ``value`` breaks the option ``spec`` (a Jinja string stands for anything)."""
    if _is_template(value) or value is None:
        return
    kind = spec.get("type", "str")
    if kind in TYPES and not isinstance(value, TYPES[kind]) or (kind == "int" and isinstance(value, bool)):
        if not (kind == "str" and isinstance(value, (int, float))):
            errors.append(f"{where}: {value!r} is not a {kind}")
            return
    if spec.get("choices") and value not in spec["choices"] and str(value) not in map(str, spec["choices"]):
        errors.append(f"{where}: {value!r} not in {spec['choices']}")
    subs = spec.get("suboptions")
    if subs and kind == "dict":
        check_keys(value, subs, where, errors)
    elif subs and kind == "list":
        for i, item in enumerate(value):
            check_keys(item, subs, f"{where}[{i}]", errors) if isinstance(item, dict) else errors.append(
                f"{where}[{i}]: {item!r} is not a mapping")


def check_keys(params, options, where, errors):
    aliases = {alias: name for name, spec in options.items() for alias in spec.get("aliases") or ()}
    for key, value in params.items():
        name = aliases.get(key, key)
        if name not in options:
            errors.append(f"{where}: unknown option {key!r} (known: {', '.join(sorted(options))})")
            continue
        check_against(value, options[name], f"{where}.{key}", errors)
    for name, spec in options.items():
        if spec.get("required") and name not in params:
            errors.append(f"{where}: {name} is required")


def objects():
    out = []
    for path in sorted(glob.glob(os.path.join(AWX_DIR, "*.yml"))):
        base = os.path.basename(path)
        module = next(m for prefix, m in MODULE_OF.items() if base.startswith(prefix))
        with open(path) as handle:
            out.append((base, module, yaml.safe_load(handle)))
    return out


@pytest.mark.parametrize("name,module,params", objects(), ids=[o[0] for o in objects()])
def test_object_matches_the_awx_module(awx_modules, name, module, params):
    errors = []
    check_keys(params, module_options(awx_modules, module), f"{name} (awx.awx.{module})", errors)
    assert not errors, "\n".join(errors)


def test_the_checker_catches_what_awx_would_refuse(awx_modules):
    """The old docs/awx/workflow.yml (nodes:, approval_template:) and a wrong choice are refused."""
    options = module_options(awx_modules, "workflow_job_template")
    errors = []
    check_keys({"name": "w", "nodes": [], "workflow_nodes": [{"identifier": "a", "approval_template": {}}]},
               options, "old", errors)
    check_keys({"name": "j", "job_type": "scan"}, module_options(awx_modules, "job_template"), "jt", errors)
    assert any("'nodes'" in e for e in errors) and any("'approval_template'" in e for e in errors)
    assert any("'scan' not in" in e for e in errors)


def test_survey_has_awx_shape():
    with open(os.path.join(AWX_DIR, "survey.json")) as handle:
        survey = json.load(handle)
    assert {"name", "description", "spec"} <= set(survey)
    seen = set()
    for q in survey["spec"]:
        assert {"question_name", "variable", "type", "required"} <= set(q), q
        assert q["type"] in SURVEY_TYPES and re.fullmatch(r"[a-z_][a-z0-9_]*", q["variable"])
        assert q["variable"] not in seen
        seen.add(q["variable"])
        if q["type"] == "multiplechoice":
            assert q.get("default") in q["choices"]
    assert "wavedrain_drain" in seen


def test_workflow_plan_approve_first_wave_approve_rest():
    wf = next(p for dummy, m, p in objects() if m == "workflow_job_template")
    nodes = {n["identifier"]: n for n in wf["workflow_nodes"]}
    order, current = [], "plan"
    while current:
        order.append(current)
        nxt = (nodes[current].get("related") or {}).get("success_nodes") or []
        assert len(nxt) <= 1
        current = nxt[0]["identifier"] if nxt else None
    kinds = [nodes[i]["unified_job_template"]["type"] for i in order]
    assert kinds == ["job_template", "workflow_approval", "job_template", "workflow_approval", "job_template"]
    assert [nodes[i].get("extra_data", {}).get("wavedrain_waves") for i in order] == [None, None, "1", None, "2-"]
    templates = {p["name"]: p for dummy, m, p in objects() if m == "job_template"}
    for i in order:
        ujt = nodes[i]["unified_job_template"]
        if ujt["type"] == "job_template":
            jt = templates[ujt["name"]]
            assert jt["ask_variables_on_launch"], f"{jt['name']} must accept the nodes' extra_data"
            # every job writes under the directory that outlives it, one per workflow run
            assert jt["extra_vars"]["wavedrain_output_dir"].startswith("/var/lib/wavedrain/runs/")


def test_awx_md_mounts_storage_that_survives_the_job():
    with open(os.path.join(ROOT, "docs", "awx.md")) as handle:
        text = handle.read()
    mounts = re.findall(r"(/var/lib/wavedrain\S*:/var/lib/wavedrain\S*)", text)
    assert mounts and not any(m.rstrip("`'\",").endswith(":O") for m in mounts), mounts
    for name in ("credential_type_ipmi.yml", "job_template_plan.yml", "job_template_maintenance.yml",
                 "workflow_plan_approve_drain.yml", "survey.json"):
        assert name in text, name
    for word in ("libvirt-client", "known_hosts", "ssh-agent", "wavedrain_waves"):
        assert word in text, word
