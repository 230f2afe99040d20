# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""One short command (`virsh`, `ipmitool`) with an argv list, its output and a time limit.

subprocess.run(timeout=...) reads the pipes, then waits for the exit by sleeping and retrying
(0.5 ms doubling to 50 ms), which costs controller CPU and wakes the thread again and again:
the engine runs thousands of these calls, from hundreds of threads at once. Here one poll()
waits for the output and for the exit together (a pidfd, Linux 5.3 and later), as _libvirt's
migrations already do.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import select
import subprocess
import time


def _lower_priority(pid, nice):
    """Make a child (and what it starts) yield the CPU to the controller's other work: it runs
    only when no other process wants the CPU (SCHED_IDLE), or else at a higher nice value."""
    try:
        os.sched_setscheduler(pid, os.SCHED_IDLE, os.sched_param(0))
        return
    except (AttributeError, OSError):  # not Linux, or it already exited
        pass
    try:
        os.setpriority(os.PRIO_PROCESS, pid, min(19, os.getpriority(os.PRIO_PROCESS, 0) + nice))
    except (AttributeError, OSError):  # it already exited, or no setpriority here: no matter
        pass


class Child:
    """A started command whose output is read, and whose exit awaited, in one poll()."""

    def __init__(self, argv, env=None, nice=0, new_session=False):
        self.argv = argv
        self.proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env,  # pylint: disable=ansible-bad-function
                                     start_new_session=new_session)
        if nice:
            _lower_priority(self.proc.pid, nice)
        self._fds = (self.proc.stdout.fileno(), self.proc.stderr.fileno())
        self._chunks = {fd: [] for fd in self._fds}
        self._output = None
        try:
            self._pidfd = os.pidfd_open(self.proc.pid)
        except (AttributeError, OSError):  # not Linux >= 5.3: subprocess's own wait
            self._pidfd = None
            return
        self._poller = select.poll()
        for fd in self._fds + (self._pidfd,):
            self._poller.register(fd, select.POLLIN)
        self._waiting = 3  # two pipes to close, one exit

    def finished_within(self, timeout_s):
        """True once the child has exited and closed its output (read meanwhile)."""
        if self._pidfd is None:
            if self._output is None:
                try:
                    self._output = self.proc.communicate(timeout=timeout_s)
                except subprocess.TimeoutExpired:
                    return False
            return True
        end = time.monotonic() + timeout_s
        while self._waiting:
            left = end - time.monotonic()
            if left <= 0:
                return False
            for fd, dummy in self._poller.poll(left * 1000):
                data = os.read(fd, 65536) if fd != self._pidfd else b""
                if data:
                    self._chunks[fd].append(data)
                else:  # a pipe closed, or the child exited
                    self._poller.unregister(fd)
                    self._waiting -= 1
        return True

    def result(self):
        """(returncode, stdout, stderr) as text, once finished_within said True."""
        if self._output is None:
            self._output = tuple(b"".join(self._chunks[fd]) for fd in self._fds)
        self.close()
        return self.proc.wait(), self._output[0].decode(errors="replace"), self._output[1].decode(errors="replace")

    def kill(self):
        """Kill it and reap it (not its output: a grandchild may hold the pipes, as subprocess.run)."""
        self.proc.kill()
        self.proc.wait()
        self.close()

    def close(self):
        if self._pidfd is not None:
            os.close(self._pidfd)
            self._pidfd = None
        for pipe in (self.proc.stdout, self.proc.stderr):
            pipe.close()


def run_command(argv, timeout_s, env=None, nice=0):
    """(returncode, stdout, stderr) as text; raises subprocess.TimeoutExpired (the child is
    killed) or OSError (the program cannot be run). ``nice`` > 0 lowers the child's priority."""
    child = Child(argv, env=env, nice=nice)
    if not child.finished_within(timeout_s):
        child.kill()
        raise subprocess.TimeoutExpired(argv, timeout_s)
    return child.result()
