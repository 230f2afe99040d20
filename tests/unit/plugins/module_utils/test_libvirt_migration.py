"""One migration's virsh calls while `virsh migrate` runs, on the simulated hypervisors of
tests/fakes: the downtime limit is set once the job exists, a migration past its timeout is
aborted."""
import os
import sys
import threading
import time

import pytest

from ansible_collections.wavedrain.kvm.plugins.module_utils._libvirt import (
    Migration, MigrationError, Virsh, job_statistics, migrate)

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "..", "fakes"))
import fake_dc  # noqa: E402

SRC, DST = "qemu+tcp://h1/system", "qemu+tcp://h2/system"


@pytest.fixture
def dc(tmp_path, monkeypatch):
    def build(seconds):
        plan = {"actions": [{"id": "migrate/v1", "type": "migrate", "vm": "v1", "source": "h1", "destination": "h2",
                             "start_s": 0.0, "end_s": seconds}]}
        root = fake_dc.build(str(tmp_path / "dc"), plan, scale=1)
        for k, v in fake_dc.env(root).items():
            monkeypatch.setenv(k, v)
        return root
    return build


def calls(root):
    with open(os.path.join(root, "virsh.argv")) as f:
        return [line.split()[3] for line in f]


def test_the_downtime_limit_is_set_while_the_job_runs(dc):
    root = dc(0.4)
    out = migrate(Virsh(), Migration("v1", SRC, DST, max_downtime_ms=300), careful=False)
    assert out["outcome"] == "migrated" and fake_dc.has_domain(root, "h2", "v1")
    assert not fake_dc.has_domain(root, "h1", "v1")
    assert calls(root) == ["migrate", "migrate-setmaxdowntime", "domjobinfo"]
    assert out["jobinfo"]["time_elapsed_ms"] == 400


def test_a_migration_over_before_the_first_poll_needs_no_downtime_call(dc):
    root = dc(0.001)
    out = migrate(Virsh(), Migration("v1", SRC, DST, max_downtime_ms=300), careful=False)
    assert out["outcome"] == "migrated" and calls(root) == ["migrate", "domjobinfo"]


def test_a_migration_past_its_timeout_is_aborted(dc):
    root = dc(1.5)
    with pytest.raises(MigrationError) as err:
        migrate(Virsh(), Migration("v1", SRC, DST, timeout_s=0.2, on_timeout="abort", retries=0), careful=False)
    assert "did not converge within 0 s and was aborted" in str(err.value)
    assert "domjobabort" in calls(root) and fake_dc.has_domain(root, "h1", "v1")
    assert not fake_dc.has_domain(root, "h2", "v1")


def test_statistics_can_come_after_the_move(dc):
    root = dc(0.001)
    m = Migration("v1", SRC, DST)
    out = migrate(Virsh(), m, careful=False, statistics=False)
    assert out["outcome"] == "migrated" and "jobinfo" not in out and calls(root) == ["migrate"]
    assert fake_dc.has_domain(root, "h2", "v1")
    assert job_statistics(Virsh(), m)["time_elapsed_ms"] == 1


def _libvirt_of(root, host, down_after_s, up_after_s):
    """The host's libvirt stops answering after down_after_s and answers again after up_after_s
    (a libvirtd restart; its guests live on). up_after_s None: it never comes back."""
    up = os.path.join(root, "hosts", host, "up")

    def outage():
        time.sleep(down_after_s)
        os.unlink(up)
        if up_after_s is not None:
            time.sleep(up_after_s - down_after_s)
            open(up, "w").close()
    t = threading.Thread(target=outage)
    t.start()
    return t


def test_a_source_libvirtd_restart_is_waited_for_then_retried(dc):
    root = dc(0.6)
    outage = _libvirt_of(root, "h1", 0.2, 2.0)
    out = migrate(Virsh(), Migration("v1", SRC, DST, retries=1, retry_delay_s=0.1, reconnect_wait_s=30), careful=False)
    outage.join()
    assert out["outcome"] == "migrated" and out["attempts"] == 2
    assert "Disconnected from" in out["errors"][0]
    assert fake_dc.has_domain(root, "h2", "v1") and not fake_dc.has_domain(root, "h1", "v1")


def test_a_source_that_stays_silent_fails_the_migration_after_the_wait(dc):
    root = dc(0.6)
    outage = _libvirt_of(root, "h1", 0.2, None)
    with pytest.raises(MigrationError) as err:
        migrate(Virsh(), Migration("v1", SRC, DST, retries=1, retry_delay_s=0.1, reconnect_wait_s=1), careful=False)
    outage.join()
    assert "now on the source: unreachable" in str(err.value)
    assert err.value.details["attempts"] == 1
