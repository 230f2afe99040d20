#!/usr/bin/python
# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: virt_migrate
short_description: Live-migrate a libvirt domain between two hypervisors, with a timeout, and verify it
version_added: 0.1.0
description:
  - Runs C(virsh migrate --live --persistent --undefinesource) from the machine the module runs on,
    talking to the source and the destination libvirt through their URIs; the memory flows
    directly from the source to O(migrate_uri) on the destination.
  - Every migration has a timeout (O(timeout_s)). With O(on_timeout=suspend) (libvirt's
    C(--timeout-suspend)) a migration that has not converged by then is finished with the guest
    paused (non-live); with O(on_timeout=abort) the job is aborted and the guest keeps running on
    the source.
  - Sets the maximum downtime (C(virsh migrate-setmaxdowntime)) once the job runs and the
    bandwidth cap (C(--bandwidth)).
  - Verifies that the domain runs on the destination and is no longer defined on the source,
    resumes it if it arrived paused, and returns the figures of C(virsh domjobinfo --completed).
  - Idempotent - a domain already running on the destination and gone from the source is left
    alone; a migration job already running for the domain (for example started by a controller
    that was killed) is waited for, not started twice.
  - A failed attempt that left the domain running on the source is retried O(retries) times.
author:
  - wavedrain maintainers (@wavedrain)
requirements:
  - C(virsh) on the machine that runs the module, able to reach both libvirt URIs.
options:
  name:
    description: Name of the domain.
    type: str
    required: true
  source_uri:
    description: libvirt URI of the source hypervisor, for example C(qemu+ssh://root@h1/system).
    type: str
    required: true
  destination_uri:
    description: libvirt URI of the destination hypervisor.
    type: str
    required: true
  migrate_uri:
    description:
      - Migration data URI on the destination (C(--migrateuri)), for example C(tcp://10.0.2.15),
        to use the migration network. Omit to let libvirt choose.
    type: str
  timeout_s:
    description: Seconds a migration may run live before O(on_timeout) applies (C(--timeout)).
    type: int
    default: 600
  on_timeout:
    description:
      - V(suspend) pauses the guest and finishes the migration (non-live, as the planner's model
        assumes).
      - V(abort) aborts the job (C(virsh domjobabort)); the guest keeps running on the source and
        the module fails (after O(retries)).
    type: str
    default: suspend
    choices: [suspend, abort]
  max_downtime_ms:
    description: Maximum downtime of the final stop-and-copy, in ms; V(0) keeps libvirt's.
    type: int
    default: 0
  bandwidth_mbps:
    description: Bandwidth cap in Mbit/s (rounded up to whole MiB/s for C(--bandwidth)); V(0) for none.
    type: float
    default: 0
  retries:
    description: Further attempts after a failed one that left the guest running on the source.
    type: int
    default: 1
  retry_delay_s:
    description: Seconds between attempts.
    type: float
    default: 5
  job_wait_s:
    description: How long to wait for a migration job of this domain that is already running.
    type: int
    default: 900
  virsh:
    description: Path of the virsh program.
    type: path
    default: virsh
notes:
  - Check mode reports whether the domain would be migrated, and changes nothing.
seealso:
  - name: Plan format
    description: The C(migrate) actions of a plan (docs/plan.md in the collection).
    link: https://github.com/wavedrain/kvm/blob/main/docs/plan.md
"""

EXAMPLES = r"""
- name: Move vm1 from h1 to h5 over the migration network, at most 120 s live
  wavedrain.kvm.virt_migrate:
    name: vm1
    source_uri: qemu+ssh://root@h1/system
    destination_uri: qemu+ssh://root@h5/system
    migrate_uri: tcp://10.0.2.15
    timeout_s: 120
    max_downtime_ms: 300
    bandwidth_mbps: 800
  delegate_to: localhost
  register: moved

- name: Show how long it took
  ansible.builtin.debug:
    msg: "{{ moved.duration_s }} s, downtime {{ moved.jobinfo.downtime_ms | default('?') }} ms"
"""

RETURN = r"""
outcome:
  description: V(migrated), V(non_live) (finished after the timeout with the guest paused), or V(already_done).
  returned: always
  type: str
  sample: migrated
attempts:
  description: Migration attempts made (0 when nothing was to do).
  returned: always
  type: int
  sample: 1
start_time:
  description: When the module started (epoch seconds).
  returned: always
  type: float
end_time:
  description: When the module ended (epoch seconds).
  returned: always
  type: float
duration_s:
  description: Wall-clock seconds of the successful attempt.
  returned: when a migration ran
  type: float
  sample: 8.4
jobinfo:
  description:
    - C(virsh domjobinfo --completed) on the destination; C(raw) holds every line, and the
      main figures are parsed into C(time_elapsed_ms), C(downtime_ms), C(data_processed_mib),
      C(memory_processed_mib), C(memory_bandwidth_mibs), C(iterations).
  returned: when a migration ran
  type: dict
  sample: {"time_elapsed_ms": 8312, "downtime_ms": 41, "data_processed_mib": 104.2}
errors:
  description: Messages of the failed attempts.
  returned: always
  type: list
  elements: str
"""

import math
import re
import subprocess
import time

from ansible.module_utils.basic import AnsibleModule

_UNITS = {"B": 1.0 / 1048576, "KiB": 1.0 / 1024, "MiB": 1.0, "GiB": 1024.0, "TiB": 1048576.0}


class MigrationError(Exception):
    pass


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


class Virsh(object):
    def __init__(self, module):
        self.module = module
        self.bin = module.params["virsh"]

    def run(self, uri, *args, **kw):
        cmd = [self.bin, "-c", uri] + [str(a) for a in args]
        rc, out, err = self.module.run_command(cmd, **kw)
        return rc, out, err

    def state(self, uri, name):
        """'running', 'paused', 'shut off', ... or None when not defined; raises if unreachable."""
        rc, out, err = self.run(uri, "domstate", name)
        if rc == 0:
            return out.strip()
        if "failed to get domain" in err or "Domain not found" in err or "no domain with" in err:
            return None
        raise MigrationError("libvirt at %s does not answer: %s" % (uri, (err or out).strip()))

    def job_active(self, uri, name):
        rc, out, err = self.run(uri, "domjobinfo", name)
        if rc != 0:
            return False
        m = re.search(r"Job type:\s*(\S+)", out)
        return bool(m) and m.group(1) not in ("None", "Completed", "Failed", "Cancelled")


def wait_job(v, uri, name, limit_s):
    end = time.time() + limit_s
    while v.job_active(uri, name):
        if time.time() > end:
            raise MigrationError("a migration job of %s is still running on the source after %d s"
                                 % (name, limit_s))
        time.sleep(1)


def one_attempt(module, v, p):
    """Run one migration; returns (outcome, wall seconds)."""
    cmd = [v.bin, "-c", p["source_uri"], "migrate", "--live", "--persistent", "--undefinesource"]
    if p["on_timeout"] == "suspend":
        cmd += ["--timeout", str(p["timeout_s"]), "--timeout-suspend"]
    if p["bandwidth_mbps"] and p["bandwidth_mbps"] > 0:
        cmd += ["--bandwidth", str(int(math.ceil(p["bandwidth_mbps"] * 1e6 / 8 / 1048576)))]
    cmd += [p["name"], p["destination_uri"]]
    if p["migrate_uri"]:
        cmd += ["--migrateuri", p["migrate_uri"]]
    t0 = time.time()
    # not run_command: virsh migrate must run while we poll it (set the max downtime once the job
    # exists, abort it at the timeout)
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,  # pylint: disable=ansible-bad-function
                            universal_newlines=True)
    downtime_set = not p["max_downtime_ms"]
    aborted = False
    hard_end = t0 + p["timeout_s"]
    while proc.poll() is None:
        time.sleep(0.5)
        if not downtime_set:
            rc, dummy, dummy2 = v.run(p["source_uri"], "migrate-setmaxdowntime", p["name"],
                                      "--downtime", p["max_downtime_ms"])
            downtime_set = rc == 0
        if p["on_timeout"] == "abort" and not aborted and time.time() > hard_end:
            v.run(p["source_uri"], "domjobabort", p["name"])
            aborted = True
        if p["on_timeout"] == "suspend" and time.time() > hard_end + 600:
            v.run(p["source_uri"], "domjobabort", p["name"])  # stuck even after suspending
    out, err = proc.communicate()
    wall = time.time() - t0
    if aborted:
        raise MigrationError("migration of %s did not converge within %d s and was aborted; "
                             "it keeps running on the source" % (p["name"], p["timeout_s"]))
    if proc.returncode != 0:
        raise MigrationError("virsh migrate failed (rc %d): %s" % (proc.returncode, (err or out).strip()))
    outcome = "non_live" if p["on_timeout"] == "suspend" and wall >= p["timeout_s"] else "migrated"
    return outcome, wall


def run_module():
    module = AnsibleModule(
        argument_spec=dict(
            name=dict(type="str", required=True),
            source_uri=dict(type="str", required=True),
            destination_uri=dict(type="str", required=True),
            migrate_uri=dict(type="str"),
            timeout_s=dict(type="int", default=600),
            on_timeout=dict(type="str", default="suspend", choices=["suspend", "abort"]),
            max_downtime_ms=dict(type="int", default=0),
            bandwidth_mbps=dict(type="float", default=0),
            retries=dict(type="int", default=1),
            retry_delay_s=dict(type="float", default=5),
            job_wait_s=dict(type="int", default=900),
            virsh=dict(type="path", default="virsh"),
        ),
        supports_check_mode=True,
    )
    p = module.params
    v = Virsh(module)
    started = time.time()
    result = dict(changed=False, outcome="already_done", attempts=0, errors=[], start_time=started)
    if p["timeout_s"] <= 0:
        module.fail_json(msg="timeout_s must be > 0: every migration has a timeout", **result)
    name = p["name"]
    try:
        src = v.state(p["source_uri"], name)
        if src is not None and v.job_active(p["source_uri"], name):
            wait_job(v, p["source_uri"], name, p["job_wait_s"])
            src = v.state(p["source_uri"], name)
        dst = v.state(p["destination_uri"], name)
        if dst == "running" and src is None:
            result["end_time"] = time.time()
            module.exit_json(**result)
        if src is None:
            raise MigrationError("domain %s is neither on the source nor running on the destination "
                                 "(destination state: %s)" % (name, dst))
        if src != "running":
            raise MigrationError("domain %s is %s on the source, not running: no live migration"
                                 % (name, src))
        if dst is not None:
            raise MigrationError("domain %s also exists on the destination (%s): refusing to migrate"
                                 % (name, dst))
        result["changed"] = True
        if module.check_mode:
            result["outcome"] = "would_migrate"
            result["end_time"] = time.time()
            module.exit_json(**result)
        while True:
            result["attempts"] += 1
            try:
                outcome, wall = one_attempt(module, v, p)
                break
            except MigrationError as e:
                result["errors"].append(str(e))
                wait_job(v, p["source_uri"], name, p["job_wait_s"])
                now_src = v.state(p["source_uri"], name)
                now_dst = v.state(p["destination_uri"], name)
                if now_dst == "running" and now_src is None:  # it went through after all
                    outcome, wall = "migrated", time.time() - started
                    break
                if now_src != "running" or result["attempts"] > p["retries"]:
                    raise MigrationError("; ".join(result["errors"]) +
                                         " (source: %s, destination: %s)" % (now_src, now_dst))
                time.sleep(p["retry_delay_s"])
        # verify
        dst = v.state(p["destination_uri"], name)
        if dst == "paused":
            v.run(p["destination_uri"], "resume", name)
            dst = v.state(p["destination_uri"], name)
        src = v.state(p["source_uri"], name)
        if dst != "running" or src is not None:
            raise MigrationError("after migration %s is %s on the destination and %s on the source"
                                 % (name, dst, src or "undefined"))
        rc, out, err = v.run(p["destination_uri"], "domjobinfo", name, "--completed")
        result["jobinfo"] = parse_jobinfo(out) if rc == 0 else {"raw": {}}
        result.update(outcome=outcome, duration_s=round(wall, 3), end_time=time.time())
        module.exit_json(**result)
    except MigrationError as e:
        result["end_time"] = time.time()
        module.fail_json(msg=str(e), **result)


def main():
    run_module()


if __name__ == "__main__":
    main()
