"""Datacenter model: hosts, VMs, network, what to drain, operator constraints.

The model is the public contract documented in docs/model.md. ``parse_model``
turns a plain dict (from YAML or JSON) into typed objects, fills documented
defaults and collects *every* error before raising ``ModelError``.
Units: cpu in cores, memory in MB, rates in MB/s, link speeds in Mbit/s,
times in s, power in W.
"""

from __future__ import annotations

import difflib
import functools
import re
from collections import deque
from dataclasses import dataclass, field

from .._documents import finite_number_problem
from .._names import bmc_address_problem, host_name_problem, shown, vm_name_problem
from .constraints import parse_registered, registered_keys

HOST_DEFAULTS = {
    "power": "on",
    "boot_s": 120.0,
    "shutdown_s": 30.0,
    "nic_mbps": 1000.0,
    "switch": "default",
}
POWER_DEFAULTS = {"off": 0.0, "idle": 120.0, "boot": 130.0, "max": 170.0}
VM_DEFAULTS = {"cpu": 1, "dirty_mb_s": 0.0, "wws_mb": 0.0, "cpu_load": 1.0}
CONSTRAINT_DEFAULTS = {
    "max_online_hosts": None,
    "power_budget_w": None,
    "deadline_s": None,
    "max_downtime_ms": 30.0,
    "migration_timeout_s": 600.0,
    "allow_non_live": False,
}
NETWORK_DEFAULTS = {"efficiency": 0.94, "migration_setup_s": 0.0}
HASH_POLICIES = ("layer2", "balanced")

_KNOWN_TOP = {"hosts", "vms", "network", "maintenance", "constraints", "name", "description"}
_KNOWN_HOST = {"cpu", "memory_mb", "power", "boot_s", "shutdown_s", "nic_mbps", "mac",
               "switch", "power_w", "bmc", "labels"}
_KNOWN_POWER = set(POWER_DEFAULTS)
_KNOWN_VM = {"host", "cpu", "memory_mb", "used_mb", "dirty_mb_s", "wws_mb", "cpu_load",
             "destination"}
_KNOWN_LINK = {"name", "ends", "members", "member_mbps", "hash"}
_KNOWN_NETWORK = {"links", "efficiency", "migration_setup_s"}
_KNOWN_MAINT = {"drain", "targets"}
_KNOWN_CONSTRAINTS = set(CONSTRAINT_DEFAULTS) | {"spread"} | registered_keys()
_MAC_RE = re.compile(r"^[0-9a-fA-F]{2}([:-][0-9a-fA-F]{2}){5}$")


class ModelError(ValueError):
    """Invalid model. ``errors`` lists every problem, each naming object and fix."""

    def __init__(self, errors, warnings=()):
        self.errors = list(errors)
        self.warnings = list(warnings)
        super().__init__("invalid datacenter model:\n  - " + "\n  - ".join(self.errors))


@dataclass(frozen=True)
class PowerProfile:
    off: float
    idle: float
    boot: float
    max: float


@dataclass
class Host:
    name: str
    cpu: float
    memory_mb: float
    on: bool
    boot_s: float
    shutdown_s: float
    nic_mbps: float
    mac: str
    switch: str
    power_w: PowerProfile

    @functools.cached_property
    def mac_last_byte(self) -> int:
        """Last byte of the MAC, what layer2 hashing uses (asked for on every flow: parsed once)."""
        return int(self.mac.replace("-", ":").rsplit(":", maxsplit=1)[-1], 16)


@dataclass
class VM:
    name: str
    host: str
    cpu: float
    memory_mb: float
    used_mb: float
    dirty_mb_s: float
    wws_mb: float
    cpu_load: float = 1.0
    destination: str | None = None


@dataclass
class Link:
    name: str
    ends: tuple
    members: int
    member_mbps: float
    hash: str


@dataclass
class Constraints:
    max_online_hosts: int | None = None
    power_budget_w: float | None = None
    deadline_s: float | None = None
    max_downtime_ms: float = 30.0
    migration_timeout_s: float = 600.0
    allow_non_live: bool = False
    spread: list = field(default_factory=list)
    registered: dict = field(default_factory=dict)   # keys of constraints/ (e.g. concurrency caps)


@dataclass
class Model:
    hosts: dict
    vms: dict
    links: list
    drain: list
    targets: list
    constraints: Constraints
    efficiency: float = 0.94
    warnings: list = field(default_factory=list)
    migration_setup_s: float = 0.0

    def __post_init__(self):
        self._paths = {}
        self._adjacency = {}
        for link in self.links:
            a, b = link.ends
            self._adjacency.setdefault(a, []).append((b, link))
            self._adjacency.setdefault(b, []).append((a, link))

    # -- queries -----------------------------------------------------------
    def vms_on(self, host):
        return [vm for vm in self.vms.values() if vm.host == host]

    def island_of_switch(self, switch):
        """Index of the network island (switches joined by links) ``switch`` belongs to.

        A model may have several islands (pods with no links between them): migrations stay
        inside an island, and the planner plans each VM into a target of its own island."""
        if not hasattr(self, "_islands"):
            self._islands = {}
            for start in sorted({h.switch for h in self.hosts.values()} | set(self._adjacency)):
                if start in self._islands:
                    continue
                index, queue = len(set(self._islands.values())), [start]
                self._islands[start] = index
                while queue:
                    for there, dummy in self._adjacency.get(queue.pop(), ()):
                        if there not in self._islands:
                            self._islands[there] = index
                            queue.append(there)
        return self._islands[switch]

    def island_of(self, host):
        cache = self.__dict__.setdefault("_host_islands", {})   # asked millions of times at scale
        got = cache.get(host)
        if got is None:
            got = cache[host] = self.island_of_switch(self.hosts[host].switch)
        return got

    def reachable(self, source, destination):
        """Whether a migration can go from host ``source`` to host ``destination``."""
        return self.island_of(source) == self.island_of(destination)

    def switches(self):
        names = {h.switch for h in self.hosts.values()}
        for link in self.links:
            names.update(link.ends)
        return sorted(names)

    def switch_path(self, src_switch, dst_switch):
        """Links crossed from one switch to another, as (link, forward) pairs.

        ``forward`` is True when the flow goes from ``link.ends[0]`` to
        ``link.ends[1]``: links are full duplex, each direction is a resource.
        """
        key = (src_switch, dst_switch)
        if key in self._paths:
            return self._paths[key]
        previous = {src_switch: None}
        queue = deque([src_switch])
        while queue:
            here = queue.popleft()
            if here == dst_switch:
                break
            for there, link in self._adjacency.get(here, ()):
                if there not in previous:
                    previous[there] = (here, link)
                    queue.append(there)
        if dst_switch not in previous:
            raise ModelError([f"switch {dst_switch!r} is not reachable from {src_switch!r}"])
        path = []
        here = dst_switch
        while previous[here] is not None:
            before, link = previous[here]
            path.append((link, link.ends[0] == before))
            here = before
        path.reverse()
        self._paths[key] = path
        return path

    def flow_resources(self, source, destination):
        """Resources a migration flow crosses, with their capacity in MB/s.

        Returns a list of (resource_id, capacity_mb_s). On a ``layer2`` bundle
        the flow is pinned to member (src MAC XOR dst MAC) mod members, as the
        Linux bonding driver does; a ``balanced`` bundle is one pipe.
        """
        src, dst = self.hosts[source], self.hosts[destination]
        eff = self.efficiency / 8.0
        resources = [(("tx", source), src.nic_mbps * eff), (("rx", destination), dst.nic_mbps * eff)]
        for link, forward in self.switch_path(src.switch, dst.switch):
            direction = ">" if forward else "<"
            if link.hash == "layer2":
                member = (src.mac_last_byte ^ dst.mac_last_byte) % link.members
                resources.append((("member", link.name, member, direction), link.member_mbps * eff))
            else:
                resources.append((("bundle", link.name, direction),
                                  link.member_mbps * link.members * eff))
        return resources

    def path_bandwidth_mb_s(self, source, destination):
        """Bandwidth a lone flow gets between two hosts (its bottleneck)."""
        return min(cap for dummy, cap in self.flow_resources(source, destination))

    def initially_on(self):
        return [h for h in self.hosts.values() if h.on]

    def host_power_w(self, host, load_cpu):
        """Power of a running host given the vCPU load it carries."""
        profile = host.power_w
        util = min(1.0, load_cpu / host.cpu) if host.cpu else 1.0
        return profile.idle + (profile.max - profile.idle) * util

    def power_in_state(self, name, state, load_cpu):
        """Power of host ``name`` in state off / booting / halting / on (with its load)."""
        host = self.hosts[name]
        if state == "off":
            return host.power_w.off
        if state == "booting":
            return host.power_w.boot
        if state == "halting":
            return host.power_w.idle   # shutting down: the OS still runs, the VMs are gone
        return self.host_power_w(host, load_cpu)


# -- parsing ---------------------------------------------------------------

def _number(value, what, errors, positive=True, allow_zero=False, integer=False):
    """A finite number (never inf/NaN, never a bool), > 0 or >= 0 when ``positive``."""
    problem = finite_number_problem(value, what, minimum=0 if positive else None,
                                    allow_equal=allow_zero, integer=integer)
    if problem:
        errors.append(problem)
        return None
    return int(value) if integer else float(value)


def _power_state(value, what, errors):
    # YAML 1.1 reads unquoted on/off as booleans: accept both spellings.
    if value is True or (isinstance(value, str) and value.lower() in ("on", "true", "yes")):
        return True
    if value is False or (isinstance(value, str) and value.lower() in ("off", "false", "no")):
        return False
    errors.append(f"{what} must be 'on' or 'off', got {shown(value)}")
    return None


def _did_you_mean(key, known):
    close = difflib.get_close_matches(key, sorted(known), n=1) if isinstance(key, str) else []
    return f"did you mean {close[0]!r}? " if close else ""


def _unknown(mapping, known, what, warnings):
    """Unknown keys are ignored with a warning naming the closest known key (typos)."""
    for key in mapping:
        if key not in known:
            warnings.append(f"{what}: unknown key {shown(key)} ignored ({_did_you_mean(key, known)}"
                            f"known: {', '.join(sorted(known))})")


def _name_key_problem(name, section):
    """A host (section 'hosts') or VM ('vms') name used as a key: None or the reason."""
    problem = host_name_problem(name) if section == "hosts" else vm_name_problem(name)
    return None if problem is None else f"{section}: {problem}"


def _host_ref(value, what, hosts, errors, required=False):
    """A reference to a host by name: a string naming a defined host, else an error."""
    if value is None:
        if required:
            errors.append(f"{what}: missing; name the host, e.g. {what.rsplit('.', 1)[-1]}: h1")
        return None
    if not isinstance(value, str):
        errors.append(f"{what} must be one host name (a string), got {type(value).__name__} "
                      f"{shown(value)}; write e.g. {what.rsplit('.', 1)[-1]}: h1")
        return None
    if value not in hosts:
        errors.append(f"{what}: unknown host {shown(value)}; define it under hosts or fix the name")
        return None
    return value


def _mapping(value, what, errors):
    if value is None:
        return {}
    if not isinstance(value, dict):
        errors.append(f"{what} must be a mapping, got {type(value).__name__}")
        return {}
    return value


def _names(value, what, errors):
    if value is None:
        return None
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        errors.append(f"{what} must be a list of host names (strings), got {shown(value)}; "
                      f"write e.g. [h1, h2]")
        return []
    seen, out = set(), []
    for name in value:
        if name in seen:
            errors.append(f"{what}: host {shown(name)} listed twice; list each host once")
        seen.add(name)
        out.append(name)
    return out


def _default_mac(index):
    return "02:00:00:%02x:%02x:%02x" % ((index >> 16) & 0xFF, (index >> 8) & 0xFF, index & 0xFF)


def _parse_host(name, raw, index, errors, warnings):
    what = f"hosts.{name}"
    raw = _mapping(raw, what, errors)
    _unknown(raw, _KNOWN_HOST, what, warnings)
    values = {**HOST_DEFAULTS, **raw}
    cpu = _number(raw.get("cpu"), f"{what}.cpu", errors) if "cpu" in raw else None
    mem = _number(raw.get("memory_mb"), f"{what}.memory_mb", errors) if "memory_mb" in raw else None
    if "cpu" not in raw:
        errors.append(f"{what}: missing 'cpu' (cores); add e.g. cpu: 8")
    if "memory_mb" not in raw:
        errors.append(f"{what}: missing 'memory_mb'; add e.g. memory_mb: 24576")
    on = _power_state(values["power"], f"{what}.power", errors)
    boot = _number(values["boot_s"], f"{what}.boot_s", errors, allow_zero=True)
    shutdown = _number(values["shutdown_s"], f"{what}.shutdown_s", errors, allow_zero=True)
    nic = _number(values["nic_mbps"], f"{what}.nic_mbps", errors)
    mac = raw.get("mac", _default_mac(index))
    if not isinstance(mac, str) or not _MAC_RE.match(mac):
        errors.append(f"{what}.mac {shown(mac)} is not a MAC address; write it as 02:00:00:00:01:11")
        mac = _default_mac(index)
    switch = values["switch"]
    if not isinstance(switch, str) or not switch:
        errors.append(f"{what}.switch must be a switch name (a string), got {shown(switch)}")
        switch = "default"
    praw = _mapping(raw.get("power_w"), f"{what}.power_w", errors)
    _unknown(praw, _KNOWN_POWER, f"{what}.power_w", warnings)
    power = {}
    for key, default in POWER_DEFAULTS.items():
        power[key] = _number(praw.get(key, default), f"{what}.power_w.{key}", errors, allow_zero=True)
        if power[key] is None:
            power[key] = default
    if power["max"] < power["idle"]:
        errors.append(f"{what}.power_w: max ({power['max']}) is below idle ({power['idle']}); swap them")
    _check_bmc(raw.get("bmc"), f"{what}.bmc", errors)
    if None in (cpu, mem, on, boot, shutdown, nic):
        return None
    return Host(name, cpu, mem, on, boot, shutdown, nic, mac, switch, PowerProfile(**power))


def _check_bmc(raw, what, errors):
    """The optional BMC settings: an address that is an IP or DNS name, a plain user name."""
    if raw is None:
        return
    if not isinstance(raw, dict):
        errors.append(f"{what} must be a mapping {{address, user}}, got {type(raw).__name__}")
        return
    if "address" in raw:
        problem = bmc_address_problem(raw["address"])
        if problem:
            errors.append(f"{what}.address: {problem}")
    user = raw.get("user")
    if user is not None and (not isinstance(user, str) or not re.fullmatch(r"[A-Za-z0-9_][A-Za-z0-9_.@-]*", user)):
        errors.append(f"{what}.user {shown(user)} is not a plain user name; use letters, digits, "
                      f"'_', '.', '@', '-'")


def _parse_vm(name, raw, hosts, errors, warnings):
    what = f"vms.{name}"
    raw = _mapping(raw, what, errors)
    _unknown(raw, _KNOWN_VM, what, warnings)
    if "host" not in raw:
        errors.append(f"{what}: missing 'host' (the host it runs on)")
        host = None
    else:
        host = _host_ref(raw.get("host"), f"{what}.host", hosts, errors, required=True)
    values = {**VM_DEFAULTS, **raw}
    cpu = _number(values["cpu"], f"{what}.cpu", errors)
    if "memory_mb" not in raw:
        errors.append(f"{what}: missing 'memory_mb'; add e.g. memory_mb: 2048")
        mem = None
    else:
        mem = _number(raw["memory_mb"], f"{what}.memory_mb", errors)
    used = _number(raw.get("used_mb", mem or 0), f"{what}.used_mb", errors, allow_zero=True)
    dirty = _number(values["dirty_mb_s"], f"{what}.dirty_mb_s", errors, allow_zero=True)
    wws = _number(values["wws_mb"], f"{what}.wws_mb", errors, allow_zero=True)
    load = _number(values["cpu_load"], f"{what}.cpu_load", errors, allow_zero=True)
    if load is not None and load > 1:
        errors.append(f"{what}.cpu_load is a fraction of its vCPUs (0..1), got {load}")
    if mem is not None and used is not None and used > mem:
        errors.append(f"{what}.used_mb ({used}) exceeds memory_mb ({mem}); lower used_mb")
    dest = _host_ref(raw.get("destination"), f"{what}.destination", hosts, errors)
    if None in (host, cpu, mem, used, dirty, wws, load):
        return None
    return VM(name, host, cpu, mem, used, dirty, wws, load, dest)


def _parse_links(raw, errors, warnings):
    links, seen = [], set()
    if raw is None:
        return links
    if not isinstance(raw, list):
        errors.append("network.links must be a list of links")
        return links
    for i, item in enumerate(raw):
        what = f"network.links[{i}]"
        item = _mapping(item, what, errors)
        name = item.get("name", f"link{i}")
        if not isinstance(name, str) or not name:
            errors.append(f"{what}.name must be a link name (a string), got {shown(name)}")
            continue
        what = f"network.links[{shown(name)}]"
        _unknown(item, _KNOWN_LINK, what, warnings)
        if name in seen:
            errors.append(f"{what}: duplicate link name {name!r}; give each link its own name")
        seen.add(name)
        ends = item.get("ends")
        if not (isinstance(ends, list) and len(ends) == 2 and all(isinstance(e, str) for e in ends)
                and ends[0] != ends[1]):
            errors.append(f"{what}.ends must name two different switches, got {shown(ends)}; "
                          f"write e.g. ends: [sw1, sw2]")
            continue
        members = _number(item.get("members", 1), f"{what}.members", errors, integer=True)
        mbps = _number(item.get("member_mbps"), f"{what}.member_mbps", errors)
        policy = item.get("hash", "balanced")
        if policy not in HASH_POLICIES:
            errors.append(f"{what}.hash must be one of {', '.join(HASH_POLICIES)}, got {shown(policy)}")
            continue
        if members is None or mbps is None:
            continue
        links.append(Link(name, tuple(ends), members, mbps, policy))
    return links


def _parse_constraints(raw, vms, targets, errors, warnings):
    raw = _mapping(raw, "constraints", errors)
    _unknown(raw, _KNOWN_CONSTRAINTS, "constraints", warnings)
    values = {**CONSTRAINT_DEFAULTS, **raw}
    out = Constraints()
    if values["max_online_hosts"] is not None:
        out.max_online_hosts = _number(values["max_online_hosts"], "constraints.max_online_hosts",
                                       errors, integer=True)
    for key in ("power_budget_w", "deadline_s"):
        if values[key] is not None:
            setattr(out, key, _number(values[key], f"constraints.{key}", errors))
    for key in ("max_downtime_ms", "migration_timeout_s"):
        number = _number(values[key], f"constraints.{key}", errors)
        setattr(out, key, number if number is not None else CONSTRAINT_DEFAULTS[key])
    if not isinstance(values["allow_non_live"], bool):
        errors.append("constraints.allow_non_live must be true or false")
    else:
        out.allow_non_live = values["allow_non_live"]
    spread = _spread_groups(raw.get("spread"), errors)
    for i, group in enumerate(spread):
        for vm in group:
            if vm not in vms:
                errors.append(f"constraints.spread[{i}]: unknown VM {shown(vm)}; fix the name or "
                              f"define the VM under vms")
        if targets and len(group) > len(targets):
            errors.append(f"constraints.spread[{i}] has {len(group)} VMs but only {len(targets)} "
                          f"target hosts: each VM of the group needs its own host; add targets or "
                          f"split the group")
    out.spread = [list(g) for g in spread]
    out.registered = parse_registered(raw, errors)
    return out


def _spread_groups(spread, errors):
    """constraints.spread: a list of groups, each a list of distinct VM names (strings)."""
    if spread is None:
        return []
    if not isinstance(spread, list) or not all(isinstance(g, list) for g in spread):
        errors.append("constraints.spread must be a list of VM-name lists, e.g. [[web1, web2]]")
        return []
    groups = []
    for i, group in enumerate(spread):
        wrong = [v for v in group if not isinstance(v, str)]
        if wrong:
            errors.append(f"constraints.spread[{i}] must list VM names (strings), got "
                          f"{type(wrong[0]).__name__} {shown(wrong[0])}; groups cannot be nested: "
                          f"write one flat list per group, e.g. [web1, web2]")
            continue
        twice = sorted({v for v in group if group.count(v) > 1})
        if twice:
            errors.append(f"constraints.spread[{i}] lists {', '.join(twice)} twice; list each VM once")
            continue
        groups.append(group)
    return groups


def _section_names(raw, section, errors):
    """Keys of ``hosts`` or ``vms`` that are valid names; the others get one error each."""
    good = {}
    for name, value in raw.items():
        problem = _name_key_problem(name, section)
        if problem:
            errors.append(problem)
        else:
            good[name] = value
    return good


def parse_model(data) -> Model:
    """Build a validated ``Model`` from a dict; raise ``ModelError`` listing all errors."""
    errors, warnings = [], []
    if not isinstance(data, dict):
        raise ModelError([f"the model must be a mapping with hosts, vms, ..., got {type(data).__name__}"])
    for key in data:
        # a misspelled section would silently plan nothing; x-* keys hold YAML anchors (&defaults)
        if key not in _KNOWN_TOP and not (isinstance(key, str) and key.startswith("x-")):
            errors.append(f"model: unknown top-level key {shown(key)}; {_did_you_mean(key, _KNOWN_TOP)}"
                          f"known: {', '.join(sorted(_KNOWN_TOP))}")
    raw_hosts = _mapping(data.get("hosts"), "hosts", errors)
    if not raw_hosts:
        errors.append("hosts: no host defined; a model needs at least the hosts to drain and targets")
    raw_hosts = _section_names(raw_hosts, "hosts", errors)
    hosts = {}
    for index, (name, raw) in enumerate(raw_hosts.items(), start=1):
        host = _parse_host(name, raw, index, errors, warnings)
        if host is not None:
            hosts[host.name] = host
    raw_vms = _section_names(_mapping(data.get("vms"), "vms", errors), "vms", errors)
    vms = {}
    for name, raw in raw_vms.items():
        if name in raw_hosts:
            errors.append(f"vms.{name}: name also used by a host; names must be unique")
        vm = _parse_vm(name, raw, raw_hosts, errors, warnings)
        if vm is not None:
            vms[vm.name] = vm
    network = _mapping(data.get("network"), "network", errors)
    _unknown(network, _KNOWN_NETWORK, "network", warnings)
    links = _parse_links(network.get("links"), errors, warnings)
    efficiency = _number(network.get("efficiency", NETWORK_DEFAULTS["efficiency"]),
                         "network.efficiency", errors) or NETWORK_DEFAULTS["efficiency"]
    if efficiency > 1:
        errors.append(f"network.efficiency is the fraction of line rate migrations reach (0..1], got {efficiency}")
    setup = _number(network.get("migration_setup_s", NETWORK_DEFAULTS["migration_setup_s"]),
                    "network.migration_setup_s", errors, allow_zero=True)
    maintenance = _mapping(data.get("maintenance"), "maintenance", errors)
    _unknown(maintenance, _KNOWN_MAINT, "maintenance", warnings)
    drain = _names(maintenance.get("drain"), "maintenance.drain", errors) or []
    for name in drain:
        if name not in raw_hosts:
            errors.append(f"maintenance.drain: unknown host {shown(name)}; define it under hosts or fix the name")
    targets = _names(maintenance.get("targets"), "maintenance.targets", errors)
    if targets is None:
        targets = [h for h in hosts if h not in drain]
    for name in targets:
        if name not in raw_hosts:
            errors.append(f"maintenance.targets: unknown host {shown(name)}; define it under hosts or fix the name")
        if name in drain:
            errors.append(f"maintenance: host {shown(name)} is both drained and a target; remove it from one list")
    targets = [t for t in targets if t in hosts and t not in drain]
    constraints = _parse_constraints(data.get("constraints"), raw_vms, targets, errors, warnings)

    if not errors:
        _check_capacity(hosts, vms, drain, targets, constraints, errors)
    if errors:
        raise ModelError(errors, warnings)
    return Model(hosts, vms, links, drain, targets, constraints, efficiency, warnings, setup or 0.0)


def _check_capacity(hosts, vms, drain, targets, constraints, errors):
    moving = [vm for vm in vms.values() if vm.host in drain]
    if moving and not targets:
        errors.append("maintenance.targets: no host can receive the VMs of the drained hosts; add targets")
        return
    largest_cpu = max((hosts[t].cpu for t in targets), default=0)
    largest_mem = max((hosts[t].memory_mb for t in targets), default=0)
    for vm in moving:
        if vm.cpu > largest_cpu or vm.memory_mb > largest_mem:
            errors.append(f"vms.{vm.name} ({vm.cpu:g} cpu, {vm.memory_mb:g} MB) is bigger than any "
                          f"target host (largest: {largest_cpu:g} cpu, {largest_mem:g} MB); add a larger target")
        if vm.destination is not None and vm.destination not in targets:
            errors.append(f"vms.{vm.name}.destination {vm.destination!r} is not an allowed target "
                          f"(drained or not in maintenance.targets)")
    free_cpu = sum(hosts[t].cpu - sum(v.cpu for v in vms.values() if v.host == t) for t in targets)
    free_mem = sum(hosts[t].memory_mb - sum(v.memory_mb for v in vms.values() if v.host == t)
                   for t in targets)
    need_cpu = sum(vm.cpu for vm in moving)
    need_mem = sum(vm.memory_mb for vm in moving)
    if need_cpu > free_cpu + 1e-9:
        errors.append(f"targets have {free_cpu:g} free cpu but the drained hosts' VMs need {need_cpu:g}; "
                      f"add targets or drain fewer hosts")
    if need_mem > free_mem + 1e-9:
        errors.append(f"targets have {free_mem:g} MB free memory but the drained hosts' VMs need "
                      f"{need_mem:g} MB; add targets or drain fewer hosts")
    for name in drain:
        host = hosts[name]
        if not host.on and any(vm.host == name for vm in vms.values()):
            errors.append(f"hosts.{name} is off but VMs run on it; fix its power state or the VMs' host")
    cap = constraints.max_online_hosts
    if cap is not None:
        online = sum(1 for h in hosts.values() if h.on)
        if cap < online:
            errors.append(f"constraints.max_online_hosts is {cap} but {online} hosts are already on; "
                          f"raise it to at least {online}")
    for i, group in enumerate(constraints.spread):
        _check_spread_pinning(i, group, vms, drain, errors)


def _check_spread_pinning(index, group, vms, drain, errors):
    """VMs of a spread group whose final host is already fixed must not share one.

    A VM on a host that is not drained stays there; a drained VM with a ``destination``
    goes there. Two of them ending on one host break the group whatever the planner does.
    """
    fixed = {}
    for vm_name in group:
        vm = vms.get(vm_name)
        if vm is None:
            continue
        if vm.host not in drain:
            end, why = vm.host, f"{vm_name} stays on {vm.host}, which is not drained"
        elif vm.destination is not None:
            end, why = vm.destination, f"{vm_name} is pinned there by vms.{vm_name}.destination"
        else:
            continue
        if end in fixed:
            errors.append(f"constraints.spread[{index}]: {fixed[end][0]} and {vm_name} would both end on "
                          f"{end} ({fixed[end][1]}; {why}); change a destination or split the group")
        else:
            fixed[end] = (vm_name, why)
