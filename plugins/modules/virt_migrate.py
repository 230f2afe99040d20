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

import time

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.wavedrain.kvm.plugins.module_utils._libvirt import LibvirtError, Migration, Virsh, migrate
from ansible_collections.wavedrain.kvm.plugins.module_utils._names import libvirt_uri_problem, vm_name_problem


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
    started = time.time()
    result = dict(changed=False, outcome="already_done", attempts=0, errors=[], start_time=started)
    problems = [x for x in (vm_name_problem(p["name"]), libvirt_uri_problem(p["source_uri"]),
                            libvirt_uri_problem(p["destination_uri"])) if x]
    if p["timeout_s"] <= 0:
        problems.append("timeout_s must be > 0: every migration has a timeout")
    if problems:
        module.fail_json(msg="; ".join(problems), **result)
    m = Migration(p["name"], p["source_uri"], p["destination_uri"], migrate_uri=p["migrate_uri"],
                  timeout_s=p["timeout_s"], on_timeout=p["on_timeout"], max_downtime_ms=p["max_downtime_ms"],
                  bandwidth_mbps=p["bandwidth_mbps"], retries=p["retries"], retry_delay_s=p["retry_delay_s"],
                  job_wait_s=p["job_wait_s"])
    try:
        result.update(migrate(Virsh(p["virsh"]), m, check_mode=module.check_mode))
    except LibvirtError as exc:
        result["end_time"] = time.time()
        module.fail_json(msg=str(exc), **result)
    result.update(changed=result["outcome"] != "already_done", end_time=time.time())
    module.exit_json(**result)


def main():
    run_module()


if __name__ == "__main__":
    main()
