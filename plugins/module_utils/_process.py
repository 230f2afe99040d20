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
    """Make a child (and what it starts) yield the CPU to the controller's other work."""
    try:
        os.setpriority(os.PRIO_PROCESS, pid, min(19, os.getpriority(os.PRIO_PROCESS, 0) + nice))
    except (AttributeError, OSError):  # it already exited, or no setpriority here: no matter
        pass


def _read_until_exit(proc, pidfd, timeout_s):
    """{fd: [chunks]} once both pipes are closed and the child has exited; None at the time limit."""
    chunks = {proc.stdout.fileno(): [], proc.stderr.fileno(): []}
    poller = select.poll()
    for fd in chunks:
        poller.register(fd, select.POLLIN)
    poller.register(pidfd, select.POLLIN)
    waiting, end = len(chunks) + 1, time.monotonic() + timeout_s
    while waiting:
        left = end - time.monotonic()
        if left <= 0:
            return None
        for fd, dummy in poller.poll(left * 1000):
            data = os.read(fd, 65536) if fd != pidfd else b""
            if data:
                chunks[fd].append(data)
            else:  # a pipe closed, or the child exited
                poller.unregister(fd)
                waiting -= 1
    return chunks


def run_command(argv, timeout_s, env=None, nice=0):
    """(returncode, stdout, stderr) as text; raises subprocess.TimeoutExpired (the child is
    killed) or OSError (the program cannot be run). ``nice`` > 0 lowers the child's priority."""
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)  # pylint: disable=ansible-bad-function
    if nice:
        _lower_priority(proc.pid, nice)
    try:
        pidfd = os.pidfd_open(proc.pid)
    except (AttributeError, OSError):  # not Linux >= 5.3: subprocess's own wait
        try:
            out, err = proc.communicate(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.communicate()
            raise
        return proc.returncode, out.decode(errors="replace"), err.decode(errors="replace")
    try:
        chunks = _read_until_exit(proc, pidfd, timeout_s)
    finally:
        os.close(pidfd)
    if chunks is None:
        proc.kill()
        proc.communicate()
        raise subprocess.TimeoutExpired(argv, timeout_s)
    out, err = (b"".join(chunks[f.fileno()]).decode(errors="replace") for f in (proc.stdout, proc.stderr))
    proc.stdout.close()
    proc.stderr.close()
    return proc.wait(), out, err
