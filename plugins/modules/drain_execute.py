#!/usr/bin/python
# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: drain_execute
short_description: Execute a drain plan - boot spares over IPMI, live-migrate, power drained hosts off
version_added: 0.2.0
description:
  - Runs the action graph of a plan (format v1, docs/plan.md) on the controller - each action
    starts the moment every action in its C(after) list is done, never earlier, so at most as
    many actions run at once as the plan allows.
  - Before anything acts, checks the plan (format, graph and, with a model, every rule of the
    checker), reads the live state of every host of the plan concurrently and refuses to start
    when it contradicts the plan (a VM not on its source, a host to power off that would keep a
    domain, a destination that is off and not booted), listing every reason; nothing is touched.
  - Every event is appended to a run journal as it happens. A run that was killed is resumed by
    running again with the same plan - finished actions are not redone, actions that were in
    flight are verified against the live state first. One run at a time per plan (a lock next to
    the journal).
  - Prints one line per action start and end, per wave start and end, and a progress line every
    O(progress_interval_s) seconds; C(-v) adds the live-state scan.
  - Power-off is safe by default - a host is powered off only when its own libvirt answers and
    shows no domain at all, whatever the plan says.
  - This is an action plugin - it runs on the controller, with C(virsh) (libvirt client) and
    C(ipmitool) from the controller's PATH. Host access comes from the inventory -
    C(wavedrain_libvirt_uri) (default C(qemu+ssh://root@HOST/system)),
    C(wavedrain_migration_address), C(wavedrain_bmc_address), C(wavedrain_bmc_port),
    C(wavedrain_bmc_user), C(wavedrain_bmc_password), C(wavedrain_bmc_interface),
    C(wavedrain_bmc_cipher_suite), C(wavedrain_bmc_privilege_level). The BMC password reaches
    ipmitool only through its environment (C(ipmitool -E)), never a command line or a file.
author:
  - wavedrain maintainers (@wavedrain)
requirements:
  - C(virsh) and C(ipmitool) on the controller.
attributes:
  check_mode:
    support: full
    description: Reads the live state, prints the plan and what each action would do; changes nothing.
options:
  plan:
    description: The plan (format v1). Mutually exclusive with O(plan_file).
    type: dict
  plan_file:
    description: A plan file (JSON or YAML).
    type: path
  model:
    description: The datacenter model the plan was made for; enables the full check of the plan and the replan.
    type: dict
  model_file:
    description: A model file (YAML or JSON).
    type: path
  report_file:
    description: Where the JSON run report is written (docs/execution.md).
    type: path
    default: wavedrain-report.json
  journal_file:
    description: The run journal; default O(plan_file) or O(report_file) with C(.journal) appended.
    type: path
  waves:
    description: Waves to run, for example V(1), V(2-), V(1-2) or V(1,3); all when unset.
    type: str
  islands:
    description: Network islands to run (the plan's C(island) names, or any host of the island); all when unset.
    type: list
    elements: str
  replan_file:
    description: Where a plan made again after a spare did not come up is written.
    type: path
  objective:
    description: Objective of a replan (see M(wavedrain.kvm.drain_plan)).
    type: str
    default: completion
  time_limit_s:
    description: Planning time limit of a replan.
    type: float
    default: 60
  migration_timeout_s:
    description: Seconds a migration may run live before O(migration_on_timeout) applies.
    type: float
    default: 600
  migration_on_timeout:
    description: V(suspend) finishes the migration with the guest paused; V(abort) aborts, the guest stays on its source.
    type: str
    choices: [suspend, abort]
    default: suspend
  max_downtime_ms:
    description: Downtime limit of each migration unless the action sets one; 0 leaves libvirt's.
    type: float
    default: 0
  migration_retries:
    description: Retries of a failed migration that left the VM running on its source.
    type: int
    default: 1
  migration_retry_delay_s:
    description: Seconds before a retry.
    type: float
    default: 5
  migration_job_wait_s:
    description: Seconds to wait for a migration job left by a killed run.
    type: float
    default: 900
  power_on_timeout_s:
    description: Seconds from power-on until the host's libvirt must answer.
    type: float
    default: 300
  power_off_method:
    description: V(soft) (ACPI shutdown through the BMC) or V(off) (immediate).
    type: str
    choices: [soft, "off"]
    default: soft
  power_off_soft_timeout_s:
    description: Seconds for a soft-off to complete.
    type: float
    default: 300
  power_off_force:
    description: Force the power off after O(power_off_soft_timeout_s).
    type: bool
    default: false
  power_off_force_timeout_s:
    description: Seconds for the BMC to report off after a forced or immediate off.
    type: float
    default: 60
  power_off_safe_mode:
    description: Refuse to power off a host whose libvirt does not answer or shows any domain.
    type: bool
    default: true
  poll_s:
    description: Probe interval of the waits (libvirt after a boot, BMC after a power-off).
    type: float
    default: 0.5
  progress_interval_s:
    description: Seconds between progress lines.
    type: float
    default: 30
  migration_statistics:
    description:
      - Fetch libvirt's job statistics of each migration that went through (C(virsh domjobinfo --completed)
        on its destination, after the actions waiting for it have started), for the report's C(jobinfo) and
        C(measured_mean_migration_job_s).
      - V(false) saves one C(virsh) call per migration; the report then has neither.
    type: bool
    default: true
  scan_workers:
    description: Concurrent C(virsh) calls of the live-state scan.
    type: int
    default: 32
  replan_on_failure:
    description: When spares do not come up and a model is given, plan again without them and run the new plan.
    type: bool
    default: false
"""

EXAMPLES = r"""
- name: Execute a plan, waves 1 and 2 only
  wavedrain.kvm.drain_execute:
    plan_file: plan.json
    waves: 1-2
    report_file: /runner/artifacts/wavedrain-report.json

- name: Resume it later, everything that is left
  wavedrain.kvm.drain_execute:
    plan_file: plan.json
"""

RETURN = r"""
summary:
  description: Predicted vs measured completion and mean migration, counts of outcomes, and
    C(end_state) (how many moved VMs were checked on their destination at the end, and the
    problems found).
  returned: when the run started
  type: dict
report_file:
  description: Path of the JSON run report.
  returned: when the run started
  type: str
journal_file:
  description: Path of the run journal.
  returned: when the run started
  type: str
failed_actions:
  description: Action id -> error message.
  returned: failure
  type: dict
not_run:
  description: Ids of actions not run because they depend on a failed one.
  returned: failure
  type: list
  elements: str
end_state_problems:
  description: VMs this run migrated that do not run on their destination once the run is over
    (a guest that stopped or paused after a move libvirt called a success).
  returned: failure
  type: list
  elements: str
problems:
  description: Why the run was refused before touching anything.
  returned: refusal
  type: list
  elements: str
"""

from ansible.module_utils.basic import AnsibleModule


def argument_spec():
    """The options the action plugin reads (plugins/action/drain_execute.py)."""
    return dict(
        plan=dict(type="dict"), plan_file=dict(type="path"), model=dict(type="dict"), model_file=dict(type="path"),
        report_file=dict(type="path", default="wavedrain-report.json"), journal_file=dict(type="path"),
        waves=dict(type="str"), islands=dict(type="list", elements="str"), replan_file=dict(type="path"),
        objective=dict(type="str", default="completion"), time_limit_s=dict(type="float", default=60),
        migration_timeout_s=dict(type="float", default=600),
        migration_on_timeout=dict(type="str", default="suspend", choices=["suspend", "abort"]),
        max_downtime_ms=dict(type="float", default=0), migration_retries=dict(type="int", default=1),
        migration_retry_delay_s=dict(type="float", default=5), migration_job_wait_s=dict(type="float", default=900),
        power_on_timeout_s=dict(type="float", default=300),
        power_off_method=dict(type="str", default="soft", choices=["soft", "off"]),
        power_off_soft_timeout_s=dict(type="float", default=300), power_off_force=dict(type="bool", default=False),
        power_off_force_timeout_s=dict(type="float", default=60), power_off_safe_mode=dict(type="bool", default=True),
        poll_s=dict(type="float", default=0.5), progress_interval_s=dict(type="float", default=30),
        migration_statistics=dict(type="bool", default=True),
        scan_workers=dict(type="int", default=32), replan_on_failure=dict(type="bool", default=False),
    )


def main():
    # The work is done by the action plugin of the same name, on the controller.
    module = AnsibleModule(argument_spec=argument_spec(), supports_check_mode=True,
                           mutually_exclusive=[("plan", "plan_file"), ("model", "model_file")])
    module.fail_json(msg="wavedrain.kvm.drain_execute runs as an action plugin on the controller")


if __name__ == "__main__":
    main()
