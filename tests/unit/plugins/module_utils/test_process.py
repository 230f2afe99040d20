"""Short commands: output, exit status and time limit, with a pidfd and without one."""
import os
import subprocess
import time

import pytest

from ansible_collections.wavedrain.kvm.plugins.module_utils import _process
from ansible_collections.wavedrain.kvm.plugins.module_utils._process import Child, run_command

SCRIPT = ["/bin/sh", "-c", 'echo "out $1"; echo "err $1" >&2; exit 3', "sh", "x y"]


@pytest.fixture(params=["pidfd", "no pidfd"])
def pidfd(request, monkeypatch):
    if request.param == "no pidfd":
        monkeypatch.delattr(os, "pidfd_open")
    return request.param


def test_output_and_status(pidfd):
    assert run_command(SCRIPT, 10) == (3, "out x y\n", "err x y\n")


def test_time_limit_kills_the_child(pidfd):
    t = time.monotonic()
    with pytest.raises(subprocess.TimeoutExpired):
        run_command(["/bin/sh", "-c", "sleep 5"], 0.3)
    assert time.monotonic() - t < 3


def test_a_child_is_awaited_in_steps(pidfd):
    child = Child(["/bin/sh", "-c", "sleep 0.3; echo done"])
    assert not child.finished_within(0.05)
    assert child.finished_within(10)
    assert child.result() == (0, "done\n", "")


def test_output_larger_than_a_pipe_is_read_while_it_runs(pidfd):
    rc, out, err = run_command(["/bin/sh", "-c", "i=0; while [ $i -lt 4000 ]; do echo 0123456789abcdef0123456789abcdef; i=$((i+1)); done"], 20)
    assert rc == 0 and len(out) == 4000 * 33 and err == ""


def test_lower_priority_runs_the_child_only_when_the_cpu_is_idle():
    child = Child(["sleep", "0.3"], nice=10)
    try:
        assert os.sched_getscheduler(child.proc.pid) == os.SCHED_IDLE
    finally:
        assert child.finished_within(10) and child.result()[0] == 0
    plain = Child(["sleep", "0.3"])
    try:
        assert os.sched_getscheduler(plain.proc.pid) == os.SCHED_OTHER
    finally:
        assert plain.finished_within(10)
        plain.result()


def test_lower_priority_falls_back_to_nice(monkeypatch):
    def refused(*args):
        raise OSError("not permitted")

    seen = []
    monkeypatch.setattr(_process.os, "sched_setscheduler", refused)
    monkeypatch.setattr(_process.os, "setpriority", lambda which, pid, value: seen.append((pid, value)))
    child = Child(["/bin/true"], nice=10)
    assert child.finished_within(10) and child.result()[0] == 0
    assert seen == [(child.proc.pid, min(19, os.getpriority(os.PRIO_PROCESS, 0) + 10))]
