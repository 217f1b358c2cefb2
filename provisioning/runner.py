"""Run provisioning commands over the selected boxes, in parallel, and report per host.

Every box gets its own Fabric connection and thread (:class:`HostGroup`, at most
``forks`` at once).  A box that cannot be reached, refuses our pinned host key, or
fails a step stops *its* pipeline only (the remaining steps are reported ``skipped``);
the others finish.  ``upgrade`` is the same work done in rolling batches: a pair's
standby first, verified, then the calls handed over, then the old primary; a batch with
more failed hosts than ``max_fail_percent`` stops the run.
"""
from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from types import ModuleType
from typing import Any

from appliance.errors import BadInput, QboxError
from drivers.clock import Clock
from provisioning.inventory import Box, Inventory
from provisioning.layout import Layout
from provisioning.release import ReleaseBuilder
from provisioning.remote import BoxConnection, ConnectionLost, HostGroup, Remote, Unreachable
from provisioning.report import HostReport, RunReport
from provisioning.steps import FAILED, SKIPPED, UNREACHABLE, HostContext, StepFailed, StepResult
from provisioning.steps import bootstrap, collect, configure, handlers, rollback, switchover, verify

__all__ = ["Runner", "PIPELINES"]

log = logging.getLogger(__name__)

#: The steps of each command, in order.  ``plan`` runs apply's steps changing nothing.
PIPELINES: dict[str, tuple[ModuleType, ...]] = {
    "plan": (bootstrap, configure, handlers),
    "apply": (bootstrap, configure, handlers),
    "verify": (verify,),
    "collect": (collect,),
    "rollback": (rollback, handlers, verify),
}
_UPGRADE = (bootstrap, configure, handlers, verify)


class Runner:
    """One provisioning run over ``boxes`` of ``inventory``."""

    def __init__(self, inventory: Inventory, boxes: Sequence[Box], *, builder: ReleaseBuilder,
                 clock: Clock, forks: int = 10, options: dict[str, Any] | None = None) -> None:
        self.inventory = inventory
        self.boxes = list(boxes)
        self.builder = builder
        self.clock = clock
        self.forks = max(1, forks)
        self.options = options or {}

    # -- commands ---------------------------------------------------------------------

    def run(self, command: str) -> RunReport:
        """plan, apply, verify, collect or rollback on every box at once."""
        steps = PIPELINES[command]
        reports = self._parallel(self.boxes, lambda cxn: [self._host(cxn, command, steps)])
        return self._report(command, reports)

    def upgrade(self, batch_size: int = 1, max_fail_percent: float = 0.0) -> RunReport:
        """Rolling upgrade in batches of ``batch_size`` units (a pair or a single box)."""
        units = self._units()
        done: list[HostReport] = []
        stopped = None
        for start in range(0, len(units), max(1, batch_size)):
            batch = units[start:start + max(1, batch_size)]
            reports = self._parallel([unit[0] for unit in batch],
                                     lambda cxn: self._upgrade_unit(cxn, self._unit_of(cxn.box, batch)))
            done += reports
            failed = sum(r.status in (FAILED, UNREACHABLE) for r in reports)
            if failed * 100 > max_fail_percent * len(reports):
                rest = [box for unit in units[start + len(batch):] for box in unit]
                if rest:
                    stopped = (f"batch {start // max(1, batch_size) + 1}: {failed} of {len(reports)} host(s) "
                               f"failed, more than --max-fail-percent {max_fail_percent:g}; "
                               f"{len(rest)} host(s) not started")
                    done += [HostReport(box, SKIPPED, "not started: the rolling upgrade stopped",
                                        [StepResult(s.NAME, SKIPPED) for s in _UPGRADE]) for box in rest]
                break
        return self._report("upgrade", done, stopped)

    # -- one host ---------------------------------------------------------------------

    def _context(self, cxn: BoxConnection, command: str) -> HostContext:
        return HostContext(cxn.box, Remote(cxn, Layout(cxn.box.root)), self.builder, self.clock,
                           command, plan_only=command == "plan", options=self.options)

    def _host(self, cxn: BoxConnection, command: str, steps: Sequence[ModuleType],
              report: HostReport | None = None) -> HostReport:
        report = report or HostReport(cxn.box)
        if self._connect(cxn, report, steps):
            self._steps(self._context(cxn, command), steps, report)
        return report.finish()

    @staticmethod
    def _connect(cxn: BoxConnection, report: HostReport, steps: Sequence[ModuleType]) -> bool:
        try:
            cxn.open()
            return True
        except Unreachable as exc:
            log.warning("event=unreachable box=%s reason=%r", cxn.box.name, str(exc))
            report.status, report.message = UNREACHABLE, str(exc)
            report.steps += [StepResult(s.NAME, SKIPPED) for s in steps]
            return False

    @staticmethod
    def _steps(ctx: HostContext, steps: Sequence[ModuleType], report: HostReport) -> bool:
        """Run ``steps`` in order; the first failure skips the rest.  True if none failed."""
        for index, step in enumerate(steps):
            result = StepResult(step.NAME)
            report.steps.append(result)
            try:
                step.run(ctx, result)
            except (StepFailed, ConnectionLost, QboxError) as exc:
                result.status, result.message = FAILED, str(exc)
            except Exception as exc:  # a bug must not take the other boxes down with it
                log.exception("event=step_crashed box=%s step=%s", ctx.box.name, step.NAME)
                result.status, result.message = FAILED, f"internal error: {type(exc).__name__}: {exc}"
            log.info("event=step box=%s step=%s status=%s changes=%d", ctx.box.name, step.NAME,
                     result.status, len(result.changes))
            if result.status == FAILED:
                report.steps += [StepResult(s.NAME, SKIPPED) for s in steps[index + 1:]]
                return False
        return True

    # -- rolling upgrade --------------------------------------------------------------

    def _units(self) -> list[tuple[Box, ...]]:
        """Pairs (standby listed first as a hint; roles are asked of the boxes) and singles."""
        units: list[tuple[Box, ...]] = []
        seen: set[str] = set()
        for box in self.boxes:
            if box.name in seen:
                continue
            partner = self.inventory.partner(box)
            if partner is None:
                units.append((box,))
            elif partner not in self.boxes:
                raise BadInput(f"--limit selects {box.name} but not its pair partner {partner.name}: "
                               "upgrade takes a pair whole (standby first, then a switch-over)")
            else:
                units.append((box, partner))
                seen.add(partner.name)
            seen.add(box.name)
        return units

    @staticmethod
    def _unit_of(box: Box, batch: list[tuple[Box, ...]]) -> tuple[Box, ...]:
        return next(unit for unit in batch if unit[0] == box)

    def _upgrade_unit(self, cxn: BoxConnection, unit: tuple[Box, ...]) -> list[HostReport]:
        if len(unit) == 1:
            return [self._host(cxn, "upgrade", _UPGRADE)]
        other = BoxConnection(unit[1], self.inventory.known_hosts)
        try:
            return self._upgrade_pair(cxn, other)
        finally:
            other.close()

    def _upgrade_pair(self, first: BoxConnection, second: BoxConnection) -> list[HostReport]:
        reports = {c.box.name: HostReport(c.box) for c in (first, second)}
        for cxn in (first, second):
            if not self._connect(cxn, reports[cxn.box.name], _UPGRADE):
                partner = reports[(second if cxn is first else first).box.name]
                partner.status, partner.message = SKIPPED, f"not started: its partner {cxn.box.name} is unreachable"
                partner.steps = [StepResult(s.NAME, SKIPPED) for s in _UPGRADE]
                return [r.finish() for r in reports.values()]
        contexts = {c.box.name: self._context(c, "upgrade") for c in (first, second)}
        try:
            roles = {name: switchover.current_role(ctx)[0] for name, ctx in contexts.items()}
        except (StepFailed, ConnectionLost) as exc:
            for report in reports.values():
                report.steps.append(StepResult(switchover.NAME, FAILED, message=str(exc)))
            return [r.finish() for r in reports.values()]
        standby = next((n for n, role in roles.items() if role == "standby"), second.box.name)
        primary = next(n for n in roles if n != standby)
        if not self._steps(contexts[standby], _UPGRADE, reports[standby]):
            reports[primary].steps = [StepResult(s.NAME, SKIPPED) for s in (switchover, *_UPGRADE)]
            reports[primary].status = SKIPPED
            reports[primary].message = f"not started: the standby {standby} failed; still primary"
            return [reports[first.box.name].finish(), reports[second.box.name].finish()]
        if self._needs_changes(contexts[primary]):
            if not self._steps(contexts[primary], (switchover,), reports[primary]):
                return [reports[first.box.name].finish(), reports[second.box.name].finish()]
            switchover.record_role(contexts[standby], "primary")
            switchover.record_role(contexts[primary], "standby")
            reports[standby].role_after, reports[primary].role_after = "primary", "standby"
        self._steps(contexts[primary], _UPGRADE, reports[primary])
        return [reports[first.box.name].finish(), reports[second.box.name].finish()]

    def _needs_changes(self, ctx: HostContext) -> bool:
        """Would apply change anything on this box?  (A dry run of its steps.)"""
        probe = HostContext(ctx.box, ctx.remote, ctx.builder, ctx.clock, "plan", plan_only=True)
        scratch = HostReport(ctx.box)
        self._steps(probe, PIPELINES["plan"], scratch)
        return scratch.finish().status != "ok"

    # -- plumbing ---------------------------------------------------------------------

    def _parallel(self, boxes: Sequence[Box],
                  job: Callable[[BoxConnection], list[HostReport]]) -> list[HostReport]:
        """``job`` on every box at once (``forks`` at a time), reports in inventory order."""
        reports: list[HostReport] = []
        for start in range(0, len(boxes), self.forks):
            chunk = [BoxConnection(box, self.inventory.known_hosts) for box in boxes[start:start + self.forks]]
            group = HostGroup.from_connections(chunk)
            try:
                results = group.call(job)
            finally:
                group.close()
            for cxn in chunk:
                outcome = results.get(cxn)
                if isinstance(outcome, BaseException):
                    reports.append(HostReport(cxn.box, FAILED, f"internal error: {outcome!r}"))
                else:
                    reports += outcome
        return reports

    def _report(self, command: str, hosts: list[HostReport], stopped: str | None = None) -> RunReport:
        release = self.builder.release.id if command in ("plan", "apply", "upgrade") else None
        return RunReport(command, str(self.inventory.path), release, hosts, stopped)
