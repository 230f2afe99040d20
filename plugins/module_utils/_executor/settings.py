# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Execution settings: every default in one table, every value checked once."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import math

# name: (default, kind, lower bound or choices, meaning). Defaults documented in docs/execution.md.
SETTINGS = {
    "migration_timeout_s": (600, "number", 1, "live phase limit of each migration"),
    "migration_on_timeout": ("suspend", "choice", ("suspend", "abort"), "finish paused or abort"),
    "max_downtime_ms": (0, "number", 0, "downtime limit (0: libvirt's)"),
    "migration_retries": (1, "int", 0, "retries of a failed migration that left the VM on its source"),
    "migration_retry_delay_s": (5, "number", 0, "pause before a retry"),
    "migration_job_wait_s": (900, "number", 1, "wait for a migration job left by a killed run"),
    "power_on_timeout_s": (300, "number", 1, "power-on until libvirt answers"),
    "power_off_method": ("soft", "choice", ("soft", "off"), "graceful or immediate"),
    "power_off_soft_timeout_s": (300, "number", 1, "graceful shutdown limit"),
    "power_off_force": (False, "bool", None, "force off after the graceful limit"),
    "power_off_force_timeout_s": (60, "number", 1, "wait for the BMC after a forced off"),
    "power_off_safe_mode": (True, "bool", None, "refuse to power off a host holding any domain"),
    "poll_s": (0.5, "number", 0.001, "probe interval of the waits"),
    "progress_interval_s": (30, "number", 0.1, "seconds between progress lines"),
    "migration_statistics": (True, "bool", None, "fetch libvirt's job statistics of each migration"),
    "scan_workers": (32, "int", 1, "concurrent virsh calls of the live-state scan"),
    "replan_on_failure": (False, "bool", None, "replan without spares that did not come up"),
}


class SettingsError(ValueError):
    def __init__(self, errors):
        super().__init__("; ".join(errors))
        self.errors = errors


def _bool(value):
    if isinstance(value, bool):
        return value
    if str(value).strip().lower() in ("1", "true", "yes", "on"):
        return True
    if str(value).strip().lower() in ("0", "false", "no", "off", ""):
        return False
    raise ValueError


def _one(name, value, kind, bound):
    if kind == "bool":
        return _bool(value)
    if kind == "choice":
        if value not in bound:
            raise ValueError
        return value
    number = float(value) if kind == "number" else int(str(value).strip())
    if isinstance(value, bool) or not math.isfinite(number) or number < bound:
        raise ValueError
    return number


class ExecutionSettings:
    """Attributes named as in SETTINGS; unset or None values take the default."""

    def __init__(self, **values):
        errors = []
        unknown = sorted(set(values) - set(SETTINGS))
        if unknown:
            errors.append("unknown execution settings: %s" % ", ".join(unknown))
        for name, (default, kind, bound, meaning) in SETTINGS.items():
            value = values.get(name)
            if value is None or value == "":
                setattr(self, name, default)
                continue
            try:
                setattr(self, name, _one(name, value, kind, bound))
            except (TypeError, ValueError):
                want = ("one of " + ", ".join(bound)) if kind == "choice" else (
                    "true or false" if kind == "bool" else "a finite number >= %s" % bound)
                errors.append("wavedrain_%s=%r (%s): use %s" % (name, value, meaning, want))
        if errors:
            raise SettingsError(errors)

    def as_dict(self):
        return {name: getattr(self, name) for name in SETTINGS}
