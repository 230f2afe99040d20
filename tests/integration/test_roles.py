"""Molecule scenarios of the roles (driver `default`, against the drain testbed over SSH).

Each role has roles/<role>/molecule/<scenario>/ (molecule.yml, converge.yml, verify.yml); the
scenarios read the inventory and the hosts/guests to use from WAVEDRAIN_* variables, so they
also run by hand against any testbed (see docs/execution.md).
"""
import os
import subprocess

import pytest

# drain and drain_testbed are pytest fixtures
from test_maintenance_testbed import (  # noqa: F401  # pylint: disable=unused-import
    COLLECTIONS, ROOT, VENV_BIN, drain, drain_testbed, wdtestbed)

pytestmark = pytest.mark.integration


def molecule(c, role, scenario, **env):
    e = dict(os.environ, PATH=VENV_BIN + os.pathsep + os.environ.get("PATH", ""),
             ANSIBLE_COLLECTIONS_PATH=COLLECTIONS, WAVEDRAIN_TESTBED_INVENTORY=c["inventory"],
             ANSIBLE_FORCE_COLOR="0", NO_COLOR="1", PY_COLORS="0")
    e.update(env)
    return subprocess.run([os.path.join(VENV_BIN, "molecule"), "test", "-s", scenario],
                          cwd=os.path.join(ROOT, "roles", role), env=e, capture_output=True,
                          text=True, timeout=600, check=False)


def test_molecule_power_on_then_power_off(drain):
    r = molecule(drain, "power_on", "default", WAVEDRAIN_MOLECULE_SPARE="h3")
    assert r.returncode == 0, r.stdout[-4000:] + r.stderr[-2000:]
    assert wdtestbed.libvirt_answers(drain, "h3")
    r = molecule(drain, "power_off", "default", WAVEDRAIN_MOLECULE_SPARE="h3")
    assert r.returncode == 0, r.stdout[-4000:] + r.stderr[-2000:]
    assert "is off" in wdtestbed.ipmi(drain, "h3", "chassis", "power", "status").stdout


def test_molecule_power_off_refuses_a_busy_host(drain):
    r = molecule(drain, "power_off", "refuse", WAVEDRAIN_MOLECULE_BUSY="h1")
    assert r.returncode == 0, r.stdout[-4000:] + r.stderr[-2000:]
    assert wdtestbed.find_guest(drain, "a1") == "h1"


def test_molecule_migrate_there_and_back(drain):
    for h in ("h1", "h2"):  # same switch, unshaped: the scenario is about the role, not the link
        wdtestbed.shape_host(drain, h, 10000)
    try:
        r = molecule(drain, "migrate", "default", WAVEDRAIN_MOLECULE_VM="b1",
                     WAVEDRAIN_MOLECULE_SOURCE="h2", WAVEDRAIN_MOLECULE_DESTINATION="h1")
    finally:
        for h in ("h1", "h2"):
            wdtestbed.shape_host(drain, h, drain["hosts"][h]["nic_mbps"])
    assert r.returncode == 0, r.stdout[-4000:] + r.stderr[-2000:]
    assert wdtestbed.find_guest(drain, "b1") == "h2"
    assert wdtestbed.guest_alive(drain, "b1", wait=5)
