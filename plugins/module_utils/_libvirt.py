# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The one libvirt path of the collection: `virsh -c URI ...` with an argv list.

Shared by the engine (plugins/module_utils/_executor), the virt_migrate and host_power modules
(behind the migrate/power_on/power_off roles). Names reach virsh only after validation, and
always after the options (virsh reads a name starting with '-' as an option, so names that start
with one are refused at the boundary, plugins/module_utils/_names.py).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import math
import re
import subprocess
import time

from ansible_collections.wavedrain.kvm.plugins.module_utils._process import Child, run_command

DEFAULT_URI = "qemu+ssh://root@%s/system"
_UNITS = {"B": 1.0 / 1048576, "KiB": 1.0 / 1024, "MiB": 1.0, "GiB": 1024.0, "TiB": 1048576.0}
_NOT_FOUND = ("failed to get domain", "Domain not found", "no domain with")


def default_uri(host):
    """The libvirt URI of a host whose inventory sets no wavedrain_libvirt_uri."""
    return DEFAULT_URI % host


class LibvirtError(Exception):
    """libvirt did not answer or refused; the message names the host or the domain."""


class MigrationError(LibvirtError):
    """``details``: what the attempts did (attempts, errors), for reports."""

    def __init__(self, message, details=None):
        super().__init__(message)
        self.details = details


def parse_virsh_list(text):
    """`virsh list --all` table -> {domain: state}."""
    doms = {}
    for line in (text or "").splitlines():
        parts = line.split()
        if len(parts) < 3 or parts[0] == "Id" or set(line.strip()) <= {"-"}:
            continue
        doms[parts[1]] = " ".join(parts[2:])
    return doms


def parse_jobinfo(text):
    """`virsh domjobinfo` output -> dict with raw lines and parsed main figures."""
    raw = {}
    for line in text.splitlines():
        if ":" in line:
            k, v = line.split(":", 1)
            raw[k.strip()] = v.strip()
    out = {"raw": raw}

    def num(key):
        m = re.match(r"([\d.]+)", raw.get(key, ""))
        return float(m.group(1)) if m else None

    def mib(key):
        m = re.match(r"([\d.]+)\s*(B|KiB|MiB|GiB|TiB)", raw.get(key, ""))
        return round(float(m.group(1)) * _UNITS[m.group(2)], 3) if m else None

    for key, name in (("Time elapsed", "time_elapsed_ms"), ("Total downtime", "downtime_ms"),
                      ("Iteration", "iterations"), ("Expected downtime", "expected_downtime_ms")):
        if num(key) is not None:
            out[name] = num(key)
    for key, name in (("Data processed", "data_processed_mib"),
                      ("Memory processed", "memory_processed_mib"),
                      ("Memory bandwidth", "memory_bandwidth_mibs")):
        if mib(key) is not None:
            out[name] = mib(key)
    return out


class Virsh:
    """Runs virsh against one libvirt URI at a time; every call has a timeout."""

    def __init__(self, binary="virsh", call_timeout_s=30, nice=0):
        self.binary = binary
        self.call_timeout_s = call_timeout_s
        self.nice = nice  # > 0: calls that nothing waits for (job statistics) yield the CPU

    def lower_priority(self, nice=10):
        """The same virsh, its calls run at a lower CPU priority."""
        return Virsh(self.binary, self.call_timeout_s, nice)

    def run(self, uri, *args, timeout=None):
        """(rc, stdout, stderr); rc 124 when the call timed out (like timeout(1))."""
        argv = [self.binary, "-q", "-c", uri] + [str(a) for a in args]
        try:
            return run_command(argv, timeout or self.call_timeout_s, nice=self.nice)
        except subprocess.TimeoutExpired:
            return 124, "", "virsh %s timed out after %s s" % (args[0] if args else "", timeout or self.call_timeout_s)
        except OSError as exc:
            raise LibvirtError("cannot run %s: %s (install the libvirt client on the controller)" % (self.binary, exc))

    def answers(self, uri, timeout=10):
        return self.run(uri, "uri", timeout=timeout)[0] == 0

    def domains(self, uri, timeout=10):
        """{domain: state} of every domain the host runs or defines; None when libvirt does not answer."""
        rc, out, dummy = self.run(uri, "list", "--all", timeout=timeout)
        return parse_virsh_list(out) if rc == 0 else None

    def state(self, uri, name):
        """'running', 'paused', 'shut off', ... or None when not defined; raises if unreachable."""
        rc, out, err = self.run(uri, "domstate", "--", name)
        if rc == 0:
            return out.strip()
        if any(s in err for s in _NOT_FOUND):
            return None
        raise LibvirtError("libvirt at %s does not answer: %s" % (uri, (err or out).strip()))

    def job_active(self, uri, name):
        rc, out, dummy = self.run(uri, "domjobinfo", "--", name)
        if rc != 0:
            return False
        m = re.search(r"Job type:\s*(\S+)", out)
        return bool(m) and m.group(1) not in ("None", "Completed", "Failed", "Cancelled")

    def wait_job(self, uri, name, limit_s, poll_s=1.0):
        end = time.monotonic() + limit_s
        while self.job_active(uri, name):
            if time.monotonic() > end:
                raise MigrationError("a migration job of %s is still running on the source after %d s" % (name, limit_s))
            time.sleep(poll_s)


class Migration:
    """One VM's move: the settings of virt_migrate (and of a plan's migrate action)."""

    def __init__(self, name, source_uri, destination_uri, migrate_uri=None, timeout_s=600,
                 on_timeout="suspend", max_downtime_ms=0, bandwidth_mbps=0, retries=1,
                 retry_delay_s=5, job_wait_s=900, reconnect_wait_s=60):
        self.name = name
        self.source_uri = source_uri
        self.destination_uri = destination_uri
        self.migrate_uri = migrate_uri
        self.timeout_s = timeout_s
        self.on_timeout = on_timeout
        self.max_downtime_ms = max_downtime_ms
        self.bandwidth_mbps = bandwidth_mbps
        self.retries = retries
        self.retry_delay_s = retry_delay_s
        self.job_wait_s = job_wait_s
        # how long a failed attempt waits for a source whose libvirt stopped answering (a libvirtd
        # restart cancels the job; the guest lives on and can be moved once libvirt is back)
        self.reconnect_wait_s = reconnect_wait_s

    def argv(self, virsh):
        cmd = [virsh.binary, "-q", "-c", self.source_uri, "migrate", "--live", "--persistent", "--undefinesource"]
        if self.on_timeout == "suspend":
            cmd += ["--timeout", str(int(self.timeout_s)), "--timeout-suspend"]
        if self.bandwidth_mbps and self.bandwidth_mbps > 0:
            cmd += ["--bandwidth", str(int(math.ceil(self.bandwidth_mbps * 1e6 / 8 / 1048576)))]
        if self.migrate_uri:
            cmd += ["--migrateuri", self.migrate_uri]
        return cmd + ["--domain", self.name, "--desturi", self.destination_uri]


def _attempt(virsh, m):
    """One `virsh migrate`; returns (outcome, wall seconds); raises MigrationError."""
    t0 = time.monotonic()
    # Popen, not run: the downtime limit can only be set once the job exists, and an abort
    # at the timeout needs the job running.
    # A session of its own: a controller stopped by Ctrl-C or killed does not abort a migration
    # half-way; the next run finds the job and waits for it.
    # A pidfd wakes the wait when the child exits, instead of Popen.wait's sleep-and-retry, which
    # adds up to tens of milliseconds per call and wakes every waiting thread again and again:
    # hundreds of migrations wait at once at datacenter scale.
    child = Child(m.argv(virsh), new_session=True)
    downtime_set = not m.max_downtime_ms
    aborted = False
    hard_end = t0 + m.timeout_s
    wait_s = 0.05
    try:
        while not child.finished_within(wait_s):
            wait_s = min(wait_s * 2, 0.5)
            now = time.monotonic()
            if not downtime_set:
                downtime_set = virsh.run(m.source_uri, "migrate-setmaxdowntime", "--domain", m.name,
                                         "--downtime", int(m.max_downtime_ms))[0] == 0
            if m.on_timeout == "abort" and not aborted and now > hard_end:
                virsh.run(m.source_uri, "domjobabort", "--", m.name)
                aborted = True
            if m.on_timeout == "suspend" and now > hard_end + 600:
                virsh.run(m.source_uri, "domjobabort", "--", m.name)  # stuck even after suspending
                hard_end = now  # abort once more in another 600 s at most
    except BaseException:
        child.close()  # the migration itself goes on (own session): the next run finds its job
        raise
    returncode, out, err = child.result()
    wall = time.monotonic() - t0
    if aborted:
        raise MigrationError("migration of %s did not converge within %d s and was aborted; "
                             "it keeps running on the source" % (m.name, m.timeout_s))
    if returncode != 0:
        raise MigrationError("virsh migrate of %s failed (rc %d): %s" % (m.name, returncode, (err or out).strip()[-500:]))
    outcome = "non_live" if m.on_timeout == "suspend" and wall >= m.timeout_s else "migrated"
    return outcome, wall


def migrate(virsh, m, check_mode=False, careful=True, statistics=True):
    """Move one VM, idempotently; returns a result dict (outcome, attempts, errors, duration_s,
    jobinfo). outcome: already_done, would_migrate, migrated, non_live. Raises MigrationError
    with every attempt's error when the VM could not be moved (it then still runs on its source
    whenever libvirt lets it).

    careful=False skips the checks before the move, for a caller that has just seen the VM on its
    source (the engine's live-state scan): libvirt itself refuses to move a domain that is not on
    the source or already on the destination, and a refusal is then examined like any failure.

    statistics=False leaves out the job statistics of a migration that went through live (no
    jobinfo key): `virsh migrate --live` exits 0 only once the domain runs on the destination,
    so a caller that has work waiting for the move fetches them afterwards (job_statistics)."""
    result = {"outcome": "already_done", "attempts": 0, "errors": []}
    started = time.monotonic()
    if careful or check_mode:
        done = _already_done(virsh, m)
        if done:
            return result
        if check_mode:
            result["outcome"] = "would_migrate"
            return result
    while True:
        result["attempts"] += 1
        try:
            outcome, wall = _attempt(virsh, m)
            break
        except MigrationError as exc:
            result["errors"].append(str(exc))
            retry_left = result["attempts"] <= m.retries
            now_src, now_dst = _settle(virsh, m, m.reconnect_wait_s if retry_left else 0)
            if now_src == "paused" and now_dst != "running":  # suspended, then failed: run it again where it is
                virsh.run(m.source_uri, "resume", "--", m.name)
                now_src = _settle(virsh, m)[0]
            if now_dst == "running" and now_src is None:  # it went through after all
                outcome, wall = "migrated", time.monotonic() - started
                break
            if now_src != "running" or not retry_left:
                raise MigrationError("migration of %s failed: %s (now on the source: %s, on the destination: %s)"
                                     % (m.name, "; ".join(result["errors"]), now_src, now_dst), details=result)
            time.sleep(m.retry_delay_s)
    if outcome == "migrated" and not statistics:
        result.update(outcome=outcome, duration_s=round(wall, 3))
        return result
    return _verify(virsh, m, result, outcome, wall)


def job_statistics(virsh, m):
    """The destination's figures of the VM's last completed job (downtime, data, ...); {"raw": {}}
    when libvirt no longer has them."""
    rc, out, dummy = virsh.run(m.destination_uri, "domjobinfo", "--completed", "--", m.name)
    return parse_jobinfo(out) if rc == 0 else {"raw": {}}


def _settle(virsh, m, reconnect_wait_s=0):
    """(source state, destination state) once no job of the VM runs on the source; a host whose
    libvirt does not answer (a destination that died) reads as 'unreachable'. A source that does
    not answer is asked again for up to reconnect_wait_s seconds."""
    def state(uri):
        try:
            return virsh.state(uri, m.name)
        except LibvirtError:
            return "unreachable"
    end = time.monotonic() + reconnect_wait_s
    while True:
        try:
            virsh.wait_job(m.source_uri, m.name, m.job_wait_s)
        except MigrationError:
            pass  # reported through the states below
        now_src = state(m.source_uri)
        if now_src != "unreachable" or time.monotonic() >= end:
            return now_src, state(m.destination_uri)
        time.sleep(min(1.0, max(0.0, end - time.monotonic())))


def _already_done(virsh, m):
    """True when the VM already runs on the destination and is gone from the source; raises when it
    cannot be migrated from where it is."""
    src = virsh.state(m.source_uri, m.name)
    if src is not None and virsh.job_active(m.source_uri, m.name):  # a job left by a killed run
        virsh.wait_job(m.source_uri, m.name, m.job_wait_s)
        src = virsh.state(m.source_uri, m.name)
    dst = virsh.state(m.destination_uri, m.name)
    if dst == "running" and src is None:
        return True
    if src is None:
        raise MigrationError("domain %s is neither on the source nor running on the destination "
                             "(destination state: %s)" % (m.name, dst))
    if src != "running":
        raise MigrationError("domain %s is %s on the source, not running: no live migration" % (m.name, src))
    if dst is not None:
        raise MigrationError("domain %s also exists on the destination (%s): refusing to migrate" % (m.name, dst))
    return False


def _verify(virsh, m, result, outcome, wall):
    rc, out, dummy = virsh.run(m.destination_uri, "domjobinfo", "--completed", "--", m.name)
    if outcome == "migrated" and rc == 0:
        # virsh migrate --live --undefinesource succeeded and the destination knows the job:
        # the domain runs there and is gone from the source
        result.update(outcome=outcome, duration_s=round(wall, 3), jobinfo=parse_jobinfo(out))
        return result
    dst = virsh.state(m.destination_uri, m.name)
    if dst == "paused":  # finished non-live (--timeout-suspend): it arrives paused
        virsh.run(m.destination_uri, "resume", "--", m.name)
        dst = virsh.state(m.destination_uri, m.name)
    src = virsh.state(m.source_uri, m.name)
    if dst != "running" or src is not None:
        raise MigrationError("after migration %s is %s on the destination and %s on the source"
                             % (m.name, dst, src or "undefined"))
    result["jobinfo"] = parse_jobinfo(out) if rc == 0 else {"raw": {}}
    result.update(outcome=outcome, duration_s=round(wall, 3))
    return result
