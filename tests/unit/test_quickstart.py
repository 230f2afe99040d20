"""The README's operator quick start runs as written: build the tarball, install it (no Galaxy),
find the docs, plan the example model with the installed copy. Also: what the tarball holds."""
import json
import os
import re
import subprocess
import sys
import tarfile

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BIN = os.path.dirname(sys.executable)
MARKER = "<!-- quickstart: tests/unit/test_quickstart.py runs this block as written -->"


def quickstart_block():
    with open(os.path.join(ROOT, "README.md")) as handle:
        text = handle.read()
    assert MARKER in text, "the README lost its tested quick start"
    match = re.match(r"\s*```sh\n(.*?)```", text[text.index(MARKER) + len(MARKER):], re.S)
    return match.group(1)


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    """Run the quick start in a fresh HOME, from a copy of the checkout, with the venv's tools."""
    home = tmp_path_factory.mktemp("home")
    checkout = home / "wavedrain-kvm"
    files = subprocess.run(["git", "-C", ROOT, "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
                           check=True, capture_output=True).stdout.decode().split("\0")
    for name in filter(None, files):
        src = os.path.join(ROOT, name)
        if os.path.isfile(src):
            os.makedirs(checkout / os.path.dirname(name), exist_ok=True)
            with open(src, "rb") as fin, open(checkout / name, "wb") as fout:
                fout.write(fin.read())
    env = {k: v for k, v in os.environ.items() if not k.startswith("ANSIBLE_")}
    env.update(HOME=str(home), PATH=BIN + os.pathsep + env.get("PATH", ""))
    proc = subprocess.run(["bash", "-euo", "pipefail", "-c", quickstart_block()], cwd=str(checkout), env=env,
                          capture_output=True, text=True, timeout=600, check=False)
    return home, checkout, proc


def test_quickstart_runs_as_written(installed):
    home, checkout, proc = installed
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    installed_at = home / ".ansible" / "collections" / "ansible_collections" / "wavedrain" / "kvm"
    assert (installed_at / "MANIFEST.json").exists()
    assert "drain_plan" in proc.stdout and "optimal plan: " in proc.stdout and " waves, 60 migrations" in proc.stdout
    plan = json.loads((checkout / "plan.json").read_text())
    assert plan["version"] == 1 and plan["strategy"] == "optimal"
    # ansible-doc found the installed copy, not the checkout
    assert str(installed_at / "plugins" / "modules" / "drain_plan.py") in proc.stdout


def test_tarball_holds_what_users_need(installed):
    dummy, checkout, proc = installed
    assert proc.returncode == 0
    tarball = next((checkout / "dist").glob("wavedrain-kvm-*.tar.gz"))
    with tarfile.open(tarball) as tar:
        names = set(tar.getnames())
        manifest = json.load(tar.extractfile("MANIFEST.json"))
    for path in ("LICENSE", "README.md", "bindep.txt", "requirements.txt", "meta/runtime.yml",
                 "execution-environment.yml", "docs/index.md", "docs/awx.md", "docs/recipes.md",
                 "docs/awx/workflow_plan_approve_drain.yml", "examples/bladecenter.yml",
                 "plugins/modules/drain_plan.py", "plugins/modules/hypervisor_info.py",
                 "plugins/filter/report_html.py", "roles/plan/tasks/main.yml", "playbooks/plan.yml",
                 "playbooks/maintenance.yml", "changelogs/changelog.yaml"):
        assert path in names, f"{path} missing from the built collection"
    assert not any(n.startswith((".venv", "build/", ".pytest_cache", "dist/")) or n.endswith(".pyc") for n in names)
    info = manifest["collection_info"]
    # no plugin or role uses another collection: none is declared (issue 12: declared or removed)
    assert info["license"] == ["GPL-3.0-or-later"] and info["dependencies"] == {}
    assert not any("example.invalid" in str(v) for v in info.values())


def test_the_old_module_name_still_works_with_a_deprecation(installed):
    home, dummy, proc = installed
    assert proc.returncode == 0
    env = {k: v for k, v in os.environ.items() if not k.startswith("ANSIBLE_")}
    env.update(HOME=str(home))
    out = subprocess.run([os.path.join(BIN, "ansible-doc"), "-t", "module", "wavedrain.kvm.hypervisor_facts"],
                         env=env, capture_output=True, text=True, timeout=120, check=False)
    assert out.returncode == 0, out.stderr
    assert "hypervisor_info" in out.stdout and "deprecated" in (out.stderr + out.stdout).lower()
    assert "version 2.0.0" in out.stderr + out.stdout
