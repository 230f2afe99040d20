"""Plan format v1: typed actions with dependencies (see docs/plan.md).

An action may start once every action in its ``after`` list has finished.
``start_s``/``end_s`` are predictions filled in by the simulator. The plan is
self-contained: executors and other tools need nothing else to run or judge it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

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


_STRING_KEYS = {"host": "host", "vm": "VM", "source": "host", "destination": "host"}
_NUMBER_KEYS = ("start_s", "end_s", "bandwidth_mbps")


def _wrong_types(raw):
    """Type problems of one action's known keys (null counts as absent)."""
    out = []
    for key, what in _STRING_KEYS.items():
        value = raw.get(key)
        if value is not None and not isinstance(value, str):
            out.append(f"{key} must be a {what} name (a string), got {value!r}")
    for key in _NUMBER_KEYS:
        value = raw.get(key)
        if value is not None and (isinstance(value, bool) or not isinstance(value, (int, float))):
            out.append(f"{key} must be a number, got {value!r}; write it unquoted or remove it")
    return out


def plan_from_dict(data) -> Plan:
    """Read a plan v1 dict (e.g. from JSON); raise ``PlanFormatError`` on bad shape."""
    errors = []
    if not isinstance(data, dict):
        raise PlanFormatError(["a plan must be a mapping with version, waves and actions"])
    if data.get("version") != PLAN_VERSION:
        errors.append(f"version must be {PLAN_VERSION}, got {data.get('version')!r}")
    actions = []
    for i, raw in enumerate(data.get("actions") or []):
        if not isinstance(raw, dict) or "id" not in raw or raw.get("type") not in ACTION_TYPES:
            errors.append(f"actions[{i}]: needs an id and a type among {', '.join(ACTION_TYPES)}")
            continue
        if not isinstance(raw["id"], str) or not raw["id"]:
            errors.append(f"actions[{i}]: id must be a non-empty string such as migrate/VM, "
                          f"got {raw['id']!r}")
            continue
        needed = ("vm", "source", "destination") if raw["type"] == "migrate" else ("host",)
        missing = [k for k in needed if not raw.get(k)]
        if missing:
            errors.append(f"action {raw['id']}: missing {', '.join(missing)}")
            continue
        wrong = _wrong_types(raw)
        if wrong:
            errors.extend(f"action {raw['id']} (actions[{i}]): {w}" for w in wrong)
            continue
        after = raw.get("after") or []
        if not isinstance(after, list) or not all(isinstance(d, str) for d in after):
            errors.append(f"action {raw['id']}: after must be a list of action ids")
            after = []
        wave = raw.get("wave", 1)
        if isinstance(wave, bool) or not isinstance(wave, int):
            errors.append(f"action {raw['id']}: wave must be a whole number, got {wave!r}")
            wave = 1
        actions.append(Action(
            id=raw["id"], type=raw["type"], wave=wave, after=list(after),
            host=raw.get("host"), vm=raw.get("vm"), source=raw.get("source"),
            destination=raw.get("destination"), start_s=raw.get("start_s"), end_s=raw.get("end_s"),
            extra={k: v for k, v in raw.items() if k not in _ACTION_KEYS}))
    if errors:
        raise PlanFormatError(errors)
    extra = {k: v for k, v in data.items()
             if k not in ("version", "strategy", "waves", "actions", "predicted")}
    return Plan(actions, data.get("strategy", "custom"), list(data.get("waves") or []),
                dict(data.get("predicted") or {}), extra)
