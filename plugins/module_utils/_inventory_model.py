# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Build the planner's datacenter model from Ansible inventory variables and live facts.

Pure Python (no Ansible import): the filter ``wavedrain.kvm.model_from_inventory``
is a thin adapter over :func:`build_model`. Variables are documented in
docs/inventory.md; the facts are what ``wavedrain.kvm.hypervisor_info`` returns.

Rules:
* a host whose facts were gathered is ``on``; its cpu/memory/VMs/MAC/NIC speed come
  from the facts, and inventory values may only *lower* cpu/memory (a cap), never
  contradict the MAC;
* a host without facts is ``off`` when its BMC (``power``) or ``wavedrain_power`` says
  so; then ``wavedrain_cpu``, ``wavedrain_memory_mb``, ``wavedrain_mac`` and
  ``wavedrain_nic_mbps`` are required;
* a host that is on but does not answer is fatal when it must be drained, otherwise
  it stays in the model (its power and its license count) but is no target;
* every problem is collected; one line per host.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import math
from collections.abc import Mapping

from ansible_collections.wavedrain.kvm.plugins.module_utils._names import (
    bmc_address_problem, host_name_problem, shown, vm_name_problem)
from ansible_collections.wavedrain.kvm.plugins.module_utils._planner.model import _MAC_RE

# inventory variable -> (model section, key); the same value must hold for every host
GLOBAL_VARS = (
    ("wavedrain_links", "network", "links"),
    ("wavedrain_network_efficiency", "network", "efficiency"),
    ("wavedrain_migration_setup_s", "network", "migration_setup_s"),
    ("wavedrain_max_online_hosts", "constraints", "max_online_hosts"),
    ("wavedrain_power_budget_w", "constraints", "power_budget_w"),
    ("wavedrain_deadline_s", "constraints", "deadline_s"),
    ("wavedrain_max_downtime_ms", "constraints", "max_downtime_ms"),
    ("wavedrain_migration_timeout_s", "constraints", "migration_timeout_s"),
    ("wavedrain_allow_non_live", "constraints", "allow_non_live"),
    ("wavedrain_spread", "constraints", "spread"),
    ("wavedrain_max_migrations_per_source", "constraints", "max_migrations_per_source"),
    ("wavedrain_max_migrations_per_destination", "constraints", "max_migrations_per_destination"),
    ("wavedrain_max_migrations_per_switch", "constraints", "max_migrations_per_switch"),
    ("wavedrain_max_migrations_total", "constraints", "max_migrations_total"),
    ("wavedrain_vm_defaults", None, None),
    ("wavedrain_vms", None, None),
)
# site-wide values given as strings (-e key=value, survey text) are converted
_COERCE = {"wavedrain_max_online_hosts": int, "wavedrain_power_budget_w": float,
           "wavedrain_deadline_s": float, "wavedrain_max_downtime_ms": float,
           "wavedrain_migration_timeout_s": float, "wavedrain_network_efficiency": float,
           "wavedrain_migration_setup_s": float, "wavedrain_allow_non_live": bool,
           "wavedrain_max_migrations_per_source": int, "wavedrain_max_migrations_per_destination": int,
           "wavedrain_max_migrations_per_switch": int, "wavedrain_max_migrations_total": int}
DEFAULT_VM = {"wws_mb": 0.5, "cpu_load": 1.0}
# characters of an Ansible pattern (rack12:&kvm, h1:h2), never of a host name
_PATTERN_CHARS = set(",:&!*?[~")


class InventoryModelError(ValueError):
    """Missing or contradictory inventory; ``errors`` has one line per host (or global)."""

    def __init__(self, errors):
        self.errors = list(errors)
        super().__init__("cannot build the datacenter model from the inventory:\n  - "
                         + "\n  - ".join(self.errors))


def _unset(value):
    return value is None or (isinstance(value, str) and value.strip() == "")


def _get(hv, key):
    try:
        value = hv.get(key)
    except Exception:  # an undefined variable inside a templated value: treat as unset
        return None
    return None if _unset(value) else value


def _plain(value):
    """Tagged/templated Ansible containers -> plain Python (for the model and YAML dumps)."""
    if isinstance(value, dict):
        return dict((str(k), _plain(v)) for k, v in value.items())
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, bool):
        return bool(value)
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return float(value)
    if isinstance(value, str):
        return str(value)
    return value


def _finite(value):
    """float(value) if it is a finite number (or its text), else None; never a bool."""
    if isinstance(value, bool):
        return None
    try:
        out = float(value)
    except (TypeError, ValueError, OverflowError):
        return None
    return out if math.isfinite(out) else None


def _num(value, name, problems, integer=False):
    out = _finite(value)
    if out is None:
        problems.append("%s=%s is not a finite number" % (name, shown(value)))
        return None
    if out <= 0:
        problems.append("%s=%s must be > 0" % (name, shown(value)))
        return None
    return int(out) if integer and out == int(out) else out


def _mapping_fact(facts, key, problems):
    """A sub-mapping of the facts ({} when absent); anything else is a problem."""
    value = facts.get(key)
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        problems.append("facts %s is %s, not a mapping: gather the facts again with "
                        "wavedrain.kvm.hypervisor_facts" % (key, type(value).__name__))
        return {}
    return value


def _power_word(value):
    if isinstance(value, bool):
        return "on" if value else "off"
    if isinstance(value, str) and value.lower() in ("on", "off"):
        return value.lower()
    return None


def _globals(hostvars, hosts, overrides, errors):
    """Site-wide variables: equal on every host (group_vars) or given as overrides."""
    out = {}
    for var, _section, _key in GLOBAL_VARS:
        if var in overrides and not _unset(overrides[var]):
            out[var] = _plain(overrides[var])
            continue
        seen = {}
        for host in hosts:
            value = _get(hostvars[host], var)
            if value is not None:
                seen.setdefault(repr(_plain(value)), (_plain(value), []))[1].append(host)
        if len(seen) > 1:
            detail = "; ".join("%s on %s" % (text, ", ".join(hs)) for text, (_v, hs) in seen.items())
            errors.append("%s differs between hosts (%s): it is site-wide, set it once in "
                          "group_vars of the hypervisors group" % (var, detail))
        elif seen:
            out[var] = next(iter(seen.values()))[0]
    for var, kind in _COERCE.items():
        if var in out:
            value = _coerce(out[var], kind)
            if value is None:
                what = {int: "an integer", float: "a number", bool: "a boolean"}[kind]
                errors.append("%s=%r is not %s" % (var, out[var], what))
                del out[var]
            else:
                out[var] = value
    for var, what in (("wavedrain_vm_defaults", "of VM keys the facts cannot measure, e.g. "
                                                "{wws_mb: 0.5, cpu_load: 1.0}"),
                      ("wavedrain_vms", "VM name -> its overrides, e.g. {web-01: {dirty_mb_s: 3}}")):
        if var in out and not isinstance(out[var], Mapping):
            errors.append("%s=%r is not a mapping: it must be a mapping %s (docs/inventory.md)"
                          % (var, out[var], what))
            del out[var]
    for name, entry in list((out.get("wavedrain_vms") or {}).items()):
        if not isinstance(entry, Mapping):
            errors.append("wavedrain_vms.%s=%r is not a mapping: write the VM's overrides as "
                          "{dirty_mb_s: 3, wws_mb: 2, ...}" % (name, entry))
            del out["wavedrain_vms"][name]
    return out


def _names(value, option, errors):
    """Host names given as a list; a single string is one host name (never its characters)."""
    if value is None:
        return []
    if isinstance(value, str):
        return [value]
    if isinstance(value, Mapping) or not hasattr(value, "__iter__"):
        errors.append("%s=%r is not a list of host names: give a list, e.g. %s=['h1', 'h2']"
                      % (option, value, option))
        return []
    names = []
    for host in value:
        problem = host_name_problem(host)
        if problem:
            errors.append("%s: %s" % (option, problem))
        else:
            names.append(host)
    return names


def _not_in_scope(name, var):
    hint = ""
    if _PATTERN_CHARS & set(name):
        hint = (" (it looks like a pattern: resolve it first with "
                "query('ansible.builtin.inventory_hostnames', %s))" % var)
    return "%s: in %s but not among the hypervisors in scope%s" % (name, var, hint)


def _coerce(value, kind):
    if kind is bool:
        if isinstance(value, bool):
            return value
        text = str(value).strip().lower()
        return {"true": True, "yes": True, "1": True, "on": True,
                "false": False, "no": False, "0": False, "off": False}.get(text)
    number = _finite(value)
    if number is None:
        return None
    if kind is int:
        return int(number) if number == int(number) else None
    return number


def _host_common(hv, problems):
    """Keys every host gets from the inventory (on or off)."""
    out = {}
    switch = _get(hv, "wavedrain_switch")
    if switch is None:
        problems.append("missing wavedrain_switch (the switch its migration NIC is plugged into)")
    else:
        out["switch"] = str(switch)
    for var, key in (("wavedrain_boot_s", "boot_s"), ("wavedrain_shutdown_s", "shutdown_s")):
        value = _get(hv, var)
        if value is not None:
            number = _finite(value)
            if number is None or number < 0:
                problems.append("%s=%s is not a number of seconds (finite, >= 0)" % (var, shown(value)))
            else:
                out[key] = number
    power_w = _get(hv, "wavedrain_power_w")
    if power_w is not None:
        if isinstance(power_w, dict):
            out["power_w"] = _plain(power_w)
        else:
            problems.append("wavedrain_power_w must be a mapping {off, idle, boot, max} in W")
    bmc = _get(hv, "wavedrain_bmc_address")
    if bmc is not None and bmc_address_problem(bmc):
        problems.append("wavedrain_bmc_address: %s" % bmc_address_problem(bmc))
    elif bmc is not None:   # never the password: the model and plan files are not secret
        out["bmc"] = {"address": str(bmc)}
        user = _get(hv, "wavedrain_bmc_user")
        if user is not None:
            out["bmc"]["user"] = str(user)
    return out


def _mac(value, name, problems):
    if value is None:
        return None
    text = str(value)
    if not _MAC_RE.match(text):
        problems.append("%s=%r is not a MAC address (write 02:00:00:00:01:11)" % (name, text))
        return None
    return text.lower().replace("-", ":")


def _host_on(hv, facts, problems):
    out = {"power": "on"}
    hyp = _mapping_fact(facts, "hypervisor", problems)
    iface = _mapping_fact(facts, "migration_interface", problems)
    for var, key, fact in (("wavedrain_cpu", "cpu", hyp.get("cpu")),
                           ("wavedrain_memory_mb", "memory_mb", hyp.get("memory_mb"))):
        if fact is not None and (_finite(fact) is None or _finite(fact) <= 0 or isinstance(fact, str)):
            problems.append("the facts report %s=%s, not a positive number: gather the facts again "
                            "or set %s" % (key, shown(fact), var))
            fact = None
        declared = _get(hv, var)
        if declared is not None:
            declared = _num(declared, var, problems, integer=(key == "cpu"))
        if declared is not None and fact and declared > fact:
            problems.append("%s=%s but the host reports %s: the inventory may lower a capacity, "
                            "not raise it; fix or remove %s" % (var, declared, fact, var))
        value = declared if declared is not None else fact
        if not value:
            problems.append("no %s: the facts do not report it; set %s" % (key, var))
        else:
            out[key] = value
    declared_mac = _mac(_get(hv, "wavedrain_mac"), "wavedrain_mac", problems)
    measured_mac = _mac(iface.get("mac"), "measured MAC", []) if iface.get("mac") else None
    if declared_mac and measured_mac and declared_mac != measured_mac:
        problems.append("wavedrain_mac=%s but the migration interface %s has MAC %s: LACP hashing "
                        "depends on it; fix wavedrain_mac or wavedrain_migration_address"
                        % (declared_mac, iface.get("name"), measured_mac))
    mac = measured_mac or declared_mac
    if mac:
        out["mac"] = mac
    else:
        problems.append("no MAC: the migration interface was not found; set wavedrain_mac "
                        "or wavedrain_migration_address")
    nic = _get(hv, "wavedrain_nic_mbps")
    if nic is not None:
        nic = _num(nic, "wavedrain_nic_mbps", problems)
    speed = iface.get("speed_mbps")
    if speed is not None and (isinstance(speed, str) or _finite(speed) is None or speed <= 0):
        speed = None   # an unknown link speed is reported as -1 or garbage: ask for the variable
    nic = nic or speed
    if nic:
        out["nic_mbps"] = nic
    else:
        problems.append("no NIC speed: the interface does not report one; set wavedrain_nic_mbps")
    return out


def _host_off(hv, problems):
    out = {"power": "off"}
    for var, key in (("wavedrain_cpu", "cpu"), ("wavedrain_memory_mb", "memory_mb"),
                     ("wavedrain_nic_mbps", "nic_mbps")):
        value = _get(hv, var)
        if value is None:
            problems.append("missing %s (the host is off: it cannot be measured)" % var)
        else:
            value = _num(value, var, problems, integer=(key == "cpu"))
            if value is not None:
                out[key] = value
    mac = _mac(_get(hv, "wavedrain_mac"), "wavedrain_mac", problems)
    if mac:
        out["mac"] = mac
    elif _get(hv, "wavedrain_mac") is None:
        problems.append("missing wavedrain_mac (the host is off: its MAC cannot be read)")
    return out


def _domains(host, facts, errors):
    """The running domains of the facts; malformed entries are errors naming the host."""
    domains = facts.get("domains") or []
    if not isinstance(domains, list):
        errors.append("%s: facts domains is %s, not a list: gather the facts again"
                      % (host, type(domains).__name__))
        return []
    out = []
    for i, dom in enumerate(domains):
        if not isinstance(dom, Mapping):
            errors.append("%s: facts domains[%d] is %s, not a mapping: gather the facts again"
                          % (host, i, type(dom).__name__))
            continue
        if not dom.get("running"):
            continue
        problem = vm_name_problem(dom.get("name"))
        if problem:
            errors.append("%s: facts domains[%d]: %s" % (host, i, problem))
            continue
        out.append(dom)
    return out


def _vm_override(name, override, host, errors):
    """wavedrain_vms.<name>: keys the facts cannot measure; where a VM runs is never one."""
    moved = [k for k in ("host",) if k in override]
    if moved:
        errors.append("wavedrain_vms.%s.host=%s: %s runs on %s (measured); the inventory cannot move "
                      "a VM, remove host from its overrides (use destination to pin where it goes)"
                      % (name, shown(override["host"]), name, host))
        return None
    return override


def _vms_of(host, facts, vm_defaults, vm_overrides, vms, where, errors, warnings):
    for dom in _domains(host, facts, errors):
        name = dom["name"]
        if name in where:
            errors.append("VM %s runs on %s and on %s (a migration in progress?): gather the "
                          "facts again" % (name, where[name], host))
            continue
        where[name] = host
        vm = {"host": host, "cpu": dom.get("vcpus") or 1, "memory_mb": dom.get("memory_mb")}
        for key in ("used_mb", "dirty_mb_s"):
            if dom.get(key) is not None:
                vm[key] = dom[key]
        for key, value in vm_defaults.items():
            vm.setdefault(key, value)
        override = _vm_override(name, vm_overrides.get(name) or {}, host, errors)
        if override is None:
            continue
        for key, value in override.items():
            vm[key] = value
        vms[name] = vm
        error = _finite(dom.get("dirty_error_mb_s"))
        dirty = _finite(vm.get("dirty_mb_s", 0)) or 0.0
        if "dirty_mb_s" not in override and error and error > max(1.0, 0.25 * dirty):
            warnings.append("%s on %s: dirty rate measured %s +- %s MB/s (page sampling): the plan may be "
                            "off by that much; measure more rounds (plan_dirty_rate_rounds) or set "
                            "wavedrain_vms.%s.dirty_mb_s" % (name, host, vm.get("dirty_mb_s"), error, name))


def build_model(hostvars, hosts, drain, targets=None, facts_var="wavedrain_facts", power=None,
                overrides=None):
    """Return ``(model_dict, warnings, excluded)``; raise ``InventoryModelError``.

    ``hostvars``: mapping host -> its variables (Ansible ``hostvars`` works);
    ``hosts``: hypervisors in scope; ``drain``/``targets``: host names (targets
    default to every in-scope host not drained); ``power``: optional mapping
    host -> ``on``/``off`` from the BMCs; ``overrides``: site-wide variables
    (e.g. survey answers) that win over group_vars.
    """
    errors, warnings, excluded = [], [], {}
    if not isinstance(hostvars, Mapping):
        raise InventoryModelError(["the input is %s, not a mapping host -> its variables: apply the "
                                   "filter to hostvars" % type(hostvars).__name__])
    for option, value, example in (("overrides", overrides, "{'wavedrain_deadline_s': 600}"),
                                   ("power", power, "{'h5': 'off'}")):
        if value is not None and not isinstance(value, Mapping):
            errors.append("%s=%r is not a mapping: give a dict, e.g. %s=%s"
                          % (option, value, option, example))
    overrides = dict(overrides) if isinstance(overrides, Mapping) else {}
    power = dict(power) if isinstance(power, Mapping) else {}
    hosts = _names(hosts, "hosts", errors)
    drain = _names(drain, "drain", errors)
    if not hosts:
        raise InventoryModelError(errors + ["no hypervisors in scope: check wavedrain_hypervisors "
                                            "(a group or pattern of the inventory)"])
    unknown = [h for h in hosts if h not in hostvars]
    for host in unknown:
        errors.append("%s: in hosts but not in hostvars: fix the host name or add it to the "
                      "inventory" % host)
    hosts = [h for h in hosts if h not in unknown]
    for name in drain:
        if name not in hosts and name not in unknown:
            errors.append(_not_in_scope(name, "wavedrain_drain"))
    if not drain:
        errors.append("wavedrain_drain selects no host: give a group or pattern, e.g. "
                      "-e wavedrain_drain=rack12")
    site = _globals(hostvars, hosts, overrides, errors)
    vm_defaults = dict(DEFAULT_VM)
    vm_defaults.update(site.get("wavedrain_vm_defaults") or {})
    vm_overrides = site.get("wavedrain_vms") or {}

    model_hosts, vms, where = {}, {}, {}
    unreachable_on = set()
    for host in hosts:
        hv = hostvars[host]
        problems = []
        entry = _host_common(hv, problems)
        facts = _get(hv, facts_var) or {}
        if not isinstance(facts, Mapping):
            problems.append("%s=%r is not a mapping: it must hold the result of "
                            "wavedrain.kvm.hypervisor_info (register it, or gather the facts again)"
                            % (facts_var, facts))
            errors.append("%s: %s" % (host, "; ".join(problems)))
            continue
        if facts.get("reachable") and facts.get("hypervisor"):
            entry.update(_host_on(hv, facts, problems))
            _vms_of(host, facts, vm_defaults, vm_overrides, vms, where, errors, warnings)
        else:
            state = _power_word(power.get(host)) or _power_word(_get(hv, "wavedrain_power"))
            why = facts.get("msg") or "no facts gathered: outside --limit, or the gather play did not run"
            if state == "off":
                entry.update(_host_off(hv, problems))
            elif host in drain:
                problems.append("must be drained but does not answer (%s); its BMC says %s"
                                % (why, power.get(host) or "nothing"))
            else:
                unreachable_on.add(host)
                excluded[host] = why
                lost = []
                for var, key in (("wavedrain_cpu", "cpu"), ("wavedrain_memory_mb", "memory_mb")):
                    value = _get(hv, var)
                    if value is None:
                        lost.append(var)
                    else:
                        entry[key] = value
                if lost:
                    warnings.append("%s: does not answer (%s); left out of the model, so power and "
                                    "license counts may be under-estimated" % (host, why))
                    continue
                entry.update(power="on", mac=_mac(_get(hv, "wavedrain_mac"), "wavedrain_mac", problems)
                             or "02:00:00:00:00:00", nic_mbps=_get(hv, "wavedrain_nic_mbps") or 1000)
                warnings.append("%s: does not answer (%s); counted as on (power, licenses) but not "
                                "a target, and its VMs are unknown" % (host, why))
        if problems:
            errors.append("%s: %s" % (host, "; ".join(problems)))
        else:
            model_hosts[host] = entry

    for name in sorted(set(vm_overrides) - set(where), key=str):
        warnings.append("wavedrain_vms.%s: no running VM of that name in the facts; its overrides "
                        "are ignored (fix the name if it is a typo)" % shown(name))
    if targets is None:
        targets = [h for h in hosts if h not in drain]
    targets = _names(targets, "targets", errors)
    for name in targets:
        if name in unknown:
            continue   # reported above
        if name not in hosts:
            errors.append(_not_in_scope(name, "wavedrain_targets"))
        elif name in drain:
            errors.append("%s: both drained and a target; fix wavedrain_drain or wavedrain_targets"
                          % name)
    kept = [h for h in targets if h in hosts and h not in drain and h not in unreachable_on]
    for name in sorted(set(targets) & unreachable_on):
        warnings.append("%s: not a target, it does not answer" % name)
    if errors:
        raise InventoryModelError(errors)

    model = {"description": "built from the inventory by wavedrain.kvm.model_from_inventory",
             "hosts": model_hosts, "vms": vms,
             "network": {"links": site.get("wavedrain_links") or []},
             "maintenance": {"drain": drain, "targets": kept}}
    for var, section, key in GLOBAL_VARS:
        if section == "network" and key != "links" and var in site:
            model["network"][key] = site[var]
    constraints = {}
    for var, section, key in GLOBAL_VARS:
        if section == "constraints" and var in site:
            constraints[key] = site[var]
    if constraints:
        model["constraints"] = constraints
    return _plain(model), warnings, excluded


def validate(model):
    """Run the planner's parser: returns its warnings, raises ``ModelError``."""
    from ansible_collections.wavedrain.kvm.plugins.module_utils._planner.model import parse_model
    return parse_model(model).warnings
