"""A broken rule found by the checker (shared by the checker and every constraint's check)."""

from __future__ import annotations

from dataclasses import dataclass

EPS = 1e-6


@dataclass(frozen=True)
class Violation:
    rule: str
    message: str
    time_s: float | None = None
    objects: tuple = ()

    def __str__(self):
        when = f" at t={self.time_s:.1f}s" if self.time_s is not None else ""
        return f"[{self.rule}]{when} {self.message}"
