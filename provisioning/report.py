"""What a run did, per host and per step: the summary table, the plan, the JSON.

The JSON (``qbox provision --json``) is the stable form for scripts::

    {"command": "apply", "inventory": "...", "release": "0.1.0-3f2a9c81d0e4",
     "hosts": [{"name": "leeds-a", "address": "10.1.0.10:22", "region": "north",
                "branch": "leeds", "role": "primary", "status": "changed", "message": "",
                "steps": [{"name": "bootstrap", "status": "ok", "changes": []}, ...]}],
     "summary": {"ok": 1, "changed": 1, "failed": 0, "unreachable": 0, "skipped": 0},
     "stopped": null}

A host's status is the worst of its steps: ``unreachable``, ``failed``, ``changed``,
``ok``; ``skipped`` when a rolling run stopped before reaching it.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from appliance.cli._output import format_table
from provisioning.inventory import Box
from provisioning.steps import CHANGED, FAILED, OK, SKIPPED, UNREACHABLE, StepResult

__all__ = ["HostReport", "RunReport", "format_summary", "format_plan", "format_commissioning"]

_STATUSES = (OK, CHANGED, FAILED, UNREACHABLE, SKIPPED)


@dataclass
class HostReport:
    box: Box
    status: str = OK
    message: str = ""
    steps: list[StepResult] = field(default_factory=list)
    role_after: str | None = None

    def finish(self) -> "HostReport":
        """Set :attr:`status` from the steps (unless already unreachable or skipped)."""
        if self.status in (UNREACHABLE, SKIPPED):
            return self
        states = {s.status for s in self.steps}
        self.status = FAILED if FAILED in states else CHANGED if CHANGED in states else OK
        if self.status == FAILED and not self.message:
            self.message = next(f"{s.name}: {s.message}" for s in self.steps if s.status == FAILED)
        return self

    def step(self, name: str) -> StepResult | None:
        return next((s for s in self.steps if s.name == name), None)

    def as_dict(self) -> dict[str, Any]:
        box = self.box
        out: dict[str, Any] = {
            "name": box.name, "address": box.address, "region": box.region, "branch": box.branch,
            "role": box.role, "pair": box.pair, "root": box.root, "status": self.status,
            "message": self.message, "steps": [s.as_dict() for s in self.steps],
        }
        if self.role_after:
            out["role_after"] = self.role_after
        return out


@dataclass
class RunReport:
    command: str
    inventory: str
    release: str | None
    hosts: list[HostReport]
    stopped: str | None = None

    @property
    def failed(self) -> bool:
        return any(h.status in (FAILED, UNREACHABLE, SKIPPED) for h in self.hosts)

    def summary(self) -> dict[str, int]:
        return {status: sum(h.status == status for h in self.hosts) for status in _STATUSES}

    def as_dict(self) -> dict[str, Any]:
        return {"command": self.command, "inventory": self.inventory, "release": self.release,
                "hosts": [h.as_dict() for h in self.hosts], "summary": self.summary(),
                "stopped": self.stopped}


def format_summary(report: RunReport) -> str:
    """The table at the end of every run, then one line per problem."""
    names: list[str] = []
    for host in report.hosts:
        for step in host.steps:
            if step.name not in names:
                names.append(step.name)
    rows = []
    for host in report.hosts:
        cells = [host.step(n).status if host.step(n) else "-" for n in names]
        rows.append([host.box.name, host.box.address, host.box.branch, host.box.role, *cells, host.status.upper()])
    lines = [format_table(["HOST", "ADDRESS", "BRANCH", "ROLE", *(n.upper() for n in names), "RESULT"], rows)]
    counts = report.summary()
    lines.append(f"{len(report.hosts)} host(s): " + ", ".join(f"{counts[s]} {s}" for s in _STATUSES))
    for host in report.hosts:
        if host.status in (FAILED, UNREACHABLE, SKIPPED) and host.message:
            lines.append(f"{host.box.name}: {host.status}: {host.message}")
    if report.stopped:
        lines.append(f"stopped: {report.stopped}")
    return "\n".join(lines)


def format_plan(report: RunReport) -> str:
    """What apply would change on each host, with unified diffs."""
    out = []
    for host in report.hosts:
        box = host.box
        out.append(f"== {box.name} ({box.address}, {box.branch}, {box.role}, root {box.root})")
        if host.status == UNREACHABLE:
            out.append(f"   unreachable: {host.message}")
            continue
        for step in host.steps:
            if step.status == FAILED:
                out.append(f"{step.name}: would fail: {step.message}")
            for change in step.changes:
                out.append(f"{step.name}: {change}")
            for diff in step.diffs:
                out.append(diff["diff"].rstrip("\n"))
        if host.status == OK:
            out.append("   nothing to change")
    return "\n".join(out)


def format_commissioning(report: RunReport) -> str:
    """verify's report: every check of every host."""
    out = []
    for host in report.hosts:
        out.append(f"== {host.box.name} ({host.box.branch}, {host.box.role})")
        verify = host.step("verify")
        checks = verify.details.get("checks", []) if verify else []
        if not checks:
            out.append(f"   not verified: {host.message or 'no checks ran'}")
            continue
        out.append(format_table(["CHECK", "RESULT", "DETAIL"],
                                [[c["name"], c["status"].upper(), c["detail"]] for c in checks]))
    return "\n".join(out)
