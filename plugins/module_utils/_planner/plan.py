"""Plan format v1: typed actions with dependencies (see docs/plan.md).

An action may start once every action in its ``after`` list has finished.
``start_s``/``end_s`` are predictions filled in by the simulator. The plan is
self-contained: executors and other tools need nothing else to run or judge it.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field

from .._names import host_name_problem, shown, vm_name_problem

PLAN_VERSION = 1
ACTION_TYPES = ("power_on", "migrate", "power_off")
PREDICTED_KEYS = ("completion_s", "mean_migration_s", "std_migration_s", "energy_wh",
                  "peak_power_w", "max_online_hosts", "non_live_migrations")


@dataclass
class Action:
    id: str
    type: str
    wave: int
    after: list = field(default_factory=list)
    host: str | None = None          # power_on / power_off
    vm: str | None = None            # migrate
    source: str | None = None
    destination: str | None = None
    start_s: float | None = None
    end_s: float | None = None
    extra: dict = field(default_factory=dict)   # optional keys, e.g. non_live, downtime_ms

    def to_dict(self):
        out = {"id": self.id, "type": self.type}
        if self.type == "migrate":
            out.update(vm=self.vm, source=self.source, destination=self.destination)
        else:
            out["host"] = self.host
        out.update(wave=self.wave, after=list(self.after))
        if self.start_s is not None:
            out["start_s"] = round(self.start_s, 3)
        if self.end_s is not None:
            out["end_s"] = round(self.end_s, 3)
        out.update(self.extra)
        return out


def power_on(host, wave, after=()):
    return Action(f"boot/{host}", "power_on", wave, list(after), host=host)


def power_off(host, wave, after=()):
    return Action(f"halt/{host}", "power_off", wave, list(after), host=host)


def migrate(vm, source, destination, wave, after=()):
    return Action(f"migrate/{vm}", "migrate", wave, list(after), vm=vm, source=source,
                  destination=destination)


@dataclass
class Plan:
    actions: list
    strategy: str = "custom"
    waves: list = field(default_factory=list)
    predicted: dict = field(default_factory=dict)
    extra: dict = field(default_factory=dict)   # solver, lower_bound, ...

    def by_id(self):
        return {a.id: a for a in self.actions}

    def compute_waves(self):
        """Derive the ``waves`` summary from the actions' wave numbers."""
        waves = {}
        for action in self.actions:
            wave = waves.setdefault(action.wave, {"index": action.wave, "drain": [],
                                                  "power_on": [], "power_off": []})
            if action.type == "power_on":
                wave["power_on"].append(action.host)
            elif action.type == "power_off":
                wave["power_off"].append(action.host)
            elif action.source not in wave["drain"]:
                wave["drain"].append(action.source)
        self.waves = [waves[k] for k in sorted(waves)]
        return self.waves

    def to_dict(self):
        if not self.waves:
            self.compute_waves()
        out = {"version": PLAN_VERSION, "strategy": self.strategy, "waves": self.waves,
               "actions": [a.to_dict() for a in self.actions], "predicted": dict(self.predicted)}
        out.update(self.extra)
        return out


class PlanFormatError(ValueError):
    def __init__(self, errors):
        self.errors = list(errors)
        super().__init__("invalid plan:\n  - " + "\n  - ".join(self.errors))


_ACTION_KEYS = {"id", "type", "wave", "after", "host", "vm", "source", "destination",
                "start_s", "end_s"}


_NAME_KEYS = {"host": host_name_problem, "vm": vm_name_problem, "source": host_name_problem,
              "destination": host_name_problem}
_NUMBER_KEYS = ("start_s", "end_s", "bandwidth_mbps", "downtime_ms")
_ID_MAX = 512
_ID_RE = re.compile(r"[^\x00-\x20\x7f]+")   # no whitespace or control character


def _number_problem(key, value):
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return f"{key} must be a number, got {shown(value)}; write it unquoted or remove it"
    if not math.isfinite(value) or abs(value) > 1e12:
        return f"{key} must be a finite number of realistic size, got {shown(value)}"
    return None


def _wrong_types(raw):
    """Problems of one action's known keys (null counts as absent): names, numbers."""
    out = []
    for key, problem_of in _NAME_KEYS.items():
        value = raw.get(key)
        if value is not None and not isinstance(value, str):
            what = "VM" if key == "vm" else "host"
            out.append(f"{key} must be a {what} name (a string), got {shown(value)}")
        elif value is not None and problem_of(value):
            out.append(f"{key}: {problem_of(value)}")
    for key in _NUMBER_KEYS:
        value = raw.get(key)
        if value is not None:
            problem = _number_problem(key, value)
            if problem:
                out.append(problem)
    return out


def _id_problem(value):
    if not isinstance(value, str) or not value:
        return f"id must be a non-empty string such as migrate/VM, got {shown(value)}"
    if len(value) > _ID_MAX or not _ID_RE.fullmatch(value):
        return (f"id {shown(value)} must be at most {_ID_MAX} characters without spaces or "
                f"control characters, such as migrate/VM")
    return None


def _parse_action(i, raw, errors):
    """One action dict -> Action, or None after adding its problems to ``errors``."""
    if not isinstance(raw, dict) or "id" not in raw or raw.get("type") not in ACTION_TYPES:
        errors.append(f"actions[{i}]: needs an id and a type among {', '.join(ACTION_TYPES)}")
        return None
    problem = _id_problem(raw["id"])
    if problem:
        errors.append(f"actions[{i}]: {problem}")
        return None
    name = f"action {raw['id']} (actions[{i}])"
    needed = ("vm", "source", "destination") if raw["type"] == "migrate" else ("host",)
    missing = [k for k in needed if raw.get(k) is None or raw.get(k) == ""]
    if missing:
        errors.append(f"{name}: missing {', '.join(missing)}")
        return None
    wrong = _wrong_types(raw)
    if wrong:
        errors.extend(f"{name}: {w}" for w in wrong)
        return None
    after = raw.get("after") or []
    if not isinstance(after, list) or any(_id_problem(d) for d in after):
        errors.append(f"{name}: after must be a list of action ids (strings), got {shown(after)}")
        after = []
    wave = raw.get("wave", 1)
    if isinstance(wave, bool) or not isinstance(wave, int) or not 0 <= wave <= 10 ** 6:
        errors.append(f"{name}: wave must be a whole number from 0 to 1000000, got {shown(wave)}")
        wave = 1
    return Action(
        id=raw["id"], type=raw["type"], wave=wave, after=list(after),
        host=raw.get("host"), vm=raw.get("vm"), source=raw.get("source"),
        destination=raw.get("destination"), start_s=raw.get("start_s"), end_s=raw.get("end_s"),
        extra={k: v for k, v in raw.items() if k not in _ACTION_KEYS})


def _top_level_problems(data):
    out = []
    version = data.get("version")
    if isinstance(version, bool) or version != PLAN_VERSION:
        out.append(f"version must be {PLAN_VERSION}, got {shown(version)}")
    for key, kind in (("actions", list), ("waves", list), ("predicted", dict)):
        value = data.get(key)
        if value is not None and not isinstance(value, kind):
            out.append(f"{key} must be a {'list' if kind is list else 'mapping'}, got "
                       f"{type(value).__name__}")
    if not isinstance(data.get("strategy", "custom"), str):
        out.append(f"strategy must be a string, got {shown(data.get('strategy'))}")
    for key, value in (data.get("predicted") or {}).items() if isinstance(data.get("predicted"), dict) else ():
        if isinstance(value, float) and not math.isfinite(value):
            out.append(f"predicted.{shown(key)} must be a finite number, got {value!r}")
    return out


def plan_from_dict(data) -> Plan:
    """Read a plan v1 dict (e.g. from JSON); raise ``PlanFormatError`` on bad shape.

    Every host and VM name must pass ``_names`` (they reach commands), ids are plain
    strings, numbers are finite: nothing a later step could trip on.
    """
    if not isinstance(data, dict):
        raise PlanFormatError(["a plan must be a mapping with version, waves and actions"])
    errors = _top_level_problems(data)
    actions = []
    raw_actions = data.get("actions") if isinstance(data.get("actions"), list) else []
    for i, raw in enumerate(raw_actions):
        action = _parse_action(i, raw, errors)
        if action is not None:
            actions.append(action)
    if errors:
        raise PlanFormatError(errors)
    extra = {k: v for k, v in data.items()
             if k not in ("version", "strategy", "waves", "actions", "predicted")}
    return Plan(actions, data.get("strategy", "custom"), list(data.get("waves") or []),
                dict(data.get("predicted") or {}), extra)
