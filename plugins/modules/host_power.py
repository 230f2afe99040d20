#!/usr/bin/python
# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: host_power
short_description: Boot or halt a hypervisor through its BMC, safely
version_added: 0.2.0
description:
  - O(state=on) powers the host on through its BMC (IPMI, C(ipmitool)) and waits until its
    libvirt answers; O(state=off) powers it off once its libvirt answers and shows no domain at
    all (O(safe_mode)), then waits until the BMC reports off; O(state=status) only reads.
  - The same Python as the execution engine of M(wavedrain.kvm.drain_execute) - one
    implementation of the BMC steps and of the safe-mode check.
  - The BMC password reaches C(ipmitool) through its environment (C(-E)), never its command line
    nor a file.
  - Run it where C(ipmitool) and C(virsh) are, usually the controller (C(delegate_to)).
author:
  - wavedrain maintainers (@wavedrain)
requirements:
  - C(ipmitool) and C(virsh) where the module runs.
attributes:
  check_mode:
    support: full
    description: Reads the power state (and in safe mode the domains); changes nothing.
options:
  host:
    description: The host's name (for messages), its inventory hostname.
    type: str
    required: true
  state:
    description: V(on), V(off) or V(status).
    type: str
    choices: ["on", "off", status]
    required: true
  libvirt_uri:
    description: The host's libvirt URI.
    type: str
    required: true
  bmc_address:
    description: IP address or DNS name of the BMC.
    type: str
    required: true
  bmc_port:
    description: UDP port of the BMC.
    type: int
    default: 623
  bmc_user:
    description: BMC user.
    type: str
    required: true
  bmc_password:
    description: BMC password.
    type: str
    required: true
  bmc_interface:
    description: C(ipmitool -I) interface.
    type: str
    choices: [lan, lanplus]
    default: lanplus
  bmc_cipher_suite:
    description: C(ipmitool -C) cipher suite id.
    type: int
    default: 3
  bmc_privilege_level:
    description: C(ipmitool -L) privilege level.
    type: str
    choices: [CALLBACK, USER, OPERATOR, ADMINISTRATOR]
    default: ADMINISTRATOR
  bmc_timeout_s:
    description: Seconds one C(ipmitool) call may take before the BMC counts as not answering.
    type: float
    default: 20
  boot_timeout_s:
    description: Seconds from power-on until libvirt must answer.
    type: float
    default: 300
  method:
    description: V(soft) (ACPI shutdown) or V(off) (immediate) for O(state=off).
    type: str
    choices: [soft, "off"]
    default: soft
  soft_timeout_s:
    description: Seconds for a soft-off to complete.
    type: float
    default: 300
  force:
    description: Force the power off after O(soft_timeout_s).
    type: bool
    default: false
  force_timeout_s:
    description: Seconds for the BMC to report off after a forced or immediate off.
    type: float
    default: 60
  safe_mode:
    description: Refuse to power off a host whose libvirt does not answer or shows any domain.
    type: bool
    default: true
  poll_s:
    description: Probe interval of the waits.
    type: float
    default: 1.0
"""

EXAMPLES = r"""
- name: Boot h5 and wait for its libvirt
  wavedrain.kvm.host_power:
    host: h5
    state: "on"
    libvirt_uri: qemu+ssh://root@h5/system
    bmc_address: 10.0.9.5
    bmc_user: admin
    bmc_password: "{{ vault_bmc_password }}"
  delegate_to: localhost
"""

RETURN = r"""
outcome:
  description: C(booted), C(already_on), C(halted), C(already_off), C(would_boot), C(would_halt), or for O(state=status) the power state.
  returned: success
  type: str
power:
  description: The power state the BMC reported before acting (C(on) or C(off)).
  returned: success
  type: str
libvirt_answers:
  description: Whether the host's libvirt answered (O(state=status); not asked when the host is off).
  returned: O(state=status)
  type: bool
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.wavedrain.kvm.plugins.module_utils._ipmi import Bmc, BmcError
from ansible_collections.wavedrain.kvm.plugins.module_utils._libvirt import LibvirtError, Virsh
from ansible_collections.wavedrain.kvm.plugins.module_utils._names import host_name_problem, libvirt_uri_problem
from ansible_collections.wavedrain.kvm.plugins.module_utils._power import PowerError, PowerSettings, boot, halt


def run_module():
    module = AnsibleModule(
        argument_spec=dict(
            host=dict(type="str", required=True),
            state=dict(type="str", required=True, choices=["on", "off", "status"]),
            libvirt_uri=dict(type="str", required=True),
            bmc_address=dict(type="str", required=True),
            bmc_port=dict(type="int", default=623),
            bmc_user=dict(type="str", required=True),
            bmc_password=dict(type="str", required=True, no_log=True),
            bmc_interface=dict(type="str", default="lanplus", choices=["lan", "lanplus"]),
            bmc_cipher_suite=dict(type="int", default=3),
            bmc_privilege_level=dict(type="str", default="ADMINISTRATOR",
                                     choices=["CALLBACK", "USER", "OPERATOR", "ADMINISTRATOR"]),
            bmc_timeout_s=dict(type="float", default=20),
            boot_timeout_s=dict(type="float", default=300),
            method=dict(type="str", default="soft", choices=["soft", "off"]),
            soft_timeout_s=dict(type="float", default=300),
            force=dict(type="bool", default=False),
            force_timeout_s=dict(type="float", default=60),
            safe_mode=dict(type="bool", default=True),
            poll_s=dict(type="float", default=1.0),
        ),
        supports_check_mode=True,
    )
    p = module.params
    bmc = Bmc(p["host"], p["bmc_address"], p["bmc_user"], p["bmc_password"], port=p["bmc_port"],
              interface=p["bmc_interface"], cipher_suite=p["bmc_cipher_suite"], privilege_level=p["bmc_privilege_level"],
              timeout_s=p["bmc_timeout_s"])
    problems = [x for x in (host_name_problem(p["host"]), libvirt_uri_problem(p["libvirt_uri"])) if x] + bmc.problems()
    for name in ("bmc_timeout_s", "boot_timeout_s", "soft_timeout_s", "force_timeout_s", "poll_s"):
        if not p[name] > 0:  # also refuses nan
            problems.append("%s must be a number > 0, not %r" % (name, p[name]))
    if problems:
        module.fail_json(msg="; ".join(problems), problems=problems)
    settings = PowerSettings(boot_timeout_s=p["boot_timeout_s"], method=p["method"], soft_timeout_s=p["soft_timeout_s"],
                             force=p["force"], force_timeout_s=p["force_timeout_s"], safe_mode=p["safe_mode"],
                             poll_s=p["poll_s"])
    virsh = Virsh()
    try:
        power = bmc.power_status()
        if p["state"] == "status":
            answers = power == "on" and virsh.answers(p["libvirt_uri"])
            module.exit_json(changed=False, outcome=power, power=power, libvirt_answers=answers)
        act = boot if p["state"] == "on" else halt
        outcome = act(bmc, virsh, p["libvirt_uri"], settings, check_mode=module.check_mode)
    except (BmcError, PowerError, LibvirtError) as exc:
        module.fail_json(msg=str(exc))
    module.exit_json(changed=not outcome.startswith("already"), outcome=outcome, power=power)


def main():
    run_module()


if __name__ == "__main__":
    main()
