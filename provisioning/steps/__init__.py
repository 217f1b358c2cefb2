"""Provisioning steps: each one idempotent, each reporting ``ok``, ``changed`` or ``failed``.

A step is a module with ``NAME`` and ``run(ctx: HostContext, result: StepResult)``; it
records what it changed in ``result`` as it goes and raises :class:`StepFailed` to stop
(what it did before that stays reported).  With ``ctx.plan_only`` it changes nothing
and reports what it would change (``changed`` then means "would change"), with the
unified diff of every file.  Steps tell the
handlers what to restart through ``ctx.notify``.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from drivers.clock import Clock
    from provisioning.inventory import Box
    from provisioning.release import ReleaseBuilder
    from provisioning.remote import Remote

__all__ = ["OK", "CHANGED", "FAILED", "SKIPPED", "UNREACHABLE", "StepResult", "HostContext", "StepFailed"]

OK, CHANGED, FAILED, SKIPPED, UNREACHABLE = "ok", "changed", "failed", "skipped", "unreachable"


class StepFailed(Exception):
    """Raised inside a step to end it as ``failed`` with this one-line message."""


@dataclass
class StepResult:
    name: str
    status: str = OK
    changes: list[str] = field(default_factory=list)
    diffs: list[dict[str, str]] = field(default_factory=list)
    message: str = ""
    details: dict[str, Any] = field(default_factory=dict)

    def change(self, what: str) -> None:
        self.changes.append(what)
        if self.status == OK:
            self.status = CHANGED

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"name": self.name, "status": self.status, "changes": self.changes}
        if self.diffs:
            out["diffs"] = self.diffs
        if self.message:
            out["message"] = self.message
        if self.details:
            out["details"] = self.details
        return out


@dataclass
class HostContext:
    """What a step needs to work on one box."""

    box: "Box"
    remote: "Remote"
    builder: "ReleaseBuilder"
    clock: "Clock"
    command: str                     # plan, apply, verify, collect, rollback, upgrade
    plan_only: bool = False
    notified: set[str] = field(default_factory=set)
    options: dict[str, Any] = field(default_factory=dict)

    def notify(self, *handlers: str) -> None:
        self.notified.update(handlers)
