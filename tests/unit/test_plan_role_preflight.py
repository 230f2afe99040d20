"""The plan role's gather entry point refuses a facts bound too short for its dirty-rate rounds
(before any host is measured), naming the role variables to change."""
import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PLAYBOOK = """
- hosts: localhost
  connection: local
  gather_facts: false
  tasks:
    - ansible.builtin.include_role:
        name: wavedrain.kvm.plan
        tasks_from: gather
"""


def gather(tmp_path, *extra):
    play = tmp_path / "gather.yml"
    play.write_text(PLAYBOOK)
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=os.path.join(ROOT, "build", "collections"),
               ANSIBLE_NOCOLOR="1")
    return subprocess.run([os.path.join(os.path.dirname(sys.executable), "ansible-playbook"), "-i", "localhost,",
                           str(play), *extra], capture_output=True, text=True, timeout=120, env=env, check=False)


def test_facts_bound_too_short_for_the_rounds(tmp_path):
    r = gather(tmp_path, "-e", "plan_dirty_rate_s=10", "-e", "plan_dirty_rate_rounds=5",
               "--check")
    assert r.returncode != 0
    assert ("plan_facts_timeout_s=30 leaves no time for plan_dirty_rate_rounds=5 rounds of plan_dirty_rate_s=10 s: "
            "set plan_facts_timeout_s to at least 58") in r.stdout, r.stdout[-3000:]
    assert "Measure the hypervisor" not in r.stdout


def test_default_bound_passes_the_check(tmp_path):
    r = gather(tmp_path, "--check")
    assert "leaves no time" not in r.stdout
    assert "Measure the hypervisor" in r.stdout, r.stdout[-3000:]
