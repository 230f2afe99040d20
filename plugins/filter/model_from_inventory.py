# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
name: model_from_inventory
short_description: Build the drain planner's datacenter model from inventory variables and live facts
version_added: 0.1.0
author:
  - wavedrain maintainers (@wavedrain)
description:
  - Combines the C(wavedrain_*) inventory variables of the hypervisors (switch, MAC, NIC speed,
    boot/shutdown times, power figures, links, license cap, power budget, ...) with the facts
    gathered by M(wavedrain.kvm.hypervisor_info) into the datacenter model that
    M(wavedrain.kvm.drain_plan) reads (docs/model.md), and validates it with the planner's parser.
  - A host with facts is on; its cpu, memory, VMs, MAC and NIC speed come from the facts. Inventory
    C(wavedrain_cpu)/C(wavedrain_memory_mb) may lower a measured capacity, never raise it; a
    C(wavedrain_mac) that differs from the measured one is an error.
  - A host without facts is off when O(power) (its BMC) or C(wavedrain_power) says so; it then needs
    C(wavedrain_cpu), C(wavedrain_memory_mb), C(wavedrain_mac) and C(wavedrain_nic_mbps).
  - A host that is on but does not answer fails the filter if it must be drained; otherwise it is
    kept out of the targets (and reported in RV(_value.excluded) with O(details=true)).
  - Missing or contradictory variables raise one error listing every problem, one line per host.
  - The variables are documented in docs/inventory.md of the collection.
options:
  _input:
    description: The C(hostvars) of the play (or any mapping host name -> its variables).
    type: dict
    required: true
  hosts:
    description: The hypervisors in scope (e.g. C(groups['hypervisors'])).
    type: list
    elements: str
    required: true
  drain:
    description: Hosts to empty and power off (resolve a group or pattern first, see the examples).
    type: list
    elements: str
    required: true
  targets:
    description: Hosts allowed to receive VMs; default every host in O(hosts) not drained that answers.
    type: list
    elements: str
  facts:
    description: Name of the host variable holding the facts of M(wavedrain.kvm.hypervisor_info),
      with C(reachable=true), or C(reachable=false) and C(msg) for a host that did not answer.
    type: str
    default: wavedrain_facts
  power:
    description: Mapping host -> V(on)/V(off), e.g. from the BMCs, for hosts without facts.
    type: dict
  overrides:
    description: Site-wide variables (C(wavedrain_max_online_hosts), C(wavedrain_power_budget_w),
      C(wavedrain_deadline_s), ...) that win over the inventory, e.g. AWX survey answers.
    type: dict
  details:
    description: Return C({model, warnings, excluded}) instead of the model alone.
    type: bool
    default: false
  validate:
    description: Check the result with the planner's C(parse_model) and fail on any problem.
    type: bool
    default: true
"""

EXAMPLES = r"""
- name: Build the model of the hypervisors, draining a group given on the command line
  ansible.builtin.set_fact:
    datacenter_model: >-
      {{ hostvars | wavedrain.kvm.model_from_inventory(
           hosts=groups['hypervisors'],
           drain=query('ansible.builtin.inventory_hostnames', wavedrain_drain)) }}

- name: With the BMC answers and the details
  ansible.builtin.set_fact:
    built: >-
      {{ hostvars | wavedrain.kvm.model_from_inventory(
           hosts=groups['hypervisors'], drain=['h1', 'h2'], targets=['h4', 'h5'],
           power={'h5': 'off', 'h6': 'off'}, details=true) }}
"""

RETURN = r"""
_value:
  description:
    - The datacenter model (hosts, vms, network, maintenance, constraints; see docs/model.md).
    - With O(details=true), a mapping with C(model), C(warnings) (list of str) and C(excluded)
      (host -> why it is not in the model or not a target).
  type: dict
"""

from ansible.errors import AnsibleFilterError

from ansible_collections.wavedrain.kvm.plugins.module_utils._inventory_model import (
    InventoryModelError, build_model, validate as validate_model)
from ansible_collections.wavedrain.kvm.plugins.module_utils._planner.model import ModelError


def model_from_inventory(hostvars, hosts, drain, targets=None, facts="wavedrain_facts", power=None,
                         overrides=None, details=False, validate=True):
    try:
        model, warnings, excluded = build_model(hostvars, hosts, drain, targets=targets,
                                                facts_var=facts, power=power, overrides=overrides)
        if validate:
            warnings = warnings + list(validate_model(model))
    except InventoryModelError as exc:
        raise AnsibleFilterError(str(exc))
    except ModelError as exc:
        raise AnsibleFilterError("the model built from the inventory is invalid:\n  - "
                                 + "\n  - ".join(exc.errors))
    except (TypeError, ValueError, KeyError, AttributeError) as exc:   # a shape nobody foresaw
        raise AnsibleFilterError("model_from_inventory: the inventory or the facts have an unexpected "
                                 "shape (%s: %s); check the wavedrain_* variables and gather the "
                                 "facts again" % (type(exc).__name__, str(exc)[:200]))
    if details:
        return {"model": model, "warnings": warnings, "excluded": excluded}
    return model


class FilterModule(object):
    def filters(self):
        return {"model_from_inventory": model_from_inventory}
