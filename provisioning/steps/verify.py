"""verify: is the box doing its job?  A commissioning report of named checks.

Each check is ``ok``, ``failed`` or ``not available`` (the box's release has no command
for it yet: reported as such, never counted as a pass).  The step fails if any check
fails.  Checks: the release runs, its configuration is valid, the service is up, spans
are free of alarms, no alarm is active, the tower answers, and for a pair the
heartbeat link to the partner is up.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

from provisioning.boxcli import NOT_AVAILABLE, not_available, parse_json, run_qbox
from provisioning.commands import command_for
from provisioning.layout import CONFIG, STORE_DB, Layout
from provisioning.steps import FAILED, OK, HostContext, StepFailed, StepResult
from provisioning.steps.configure import active_release

__all__ = ["NAME", "CHECKS", "run", "Check"]

NAME = "verify"


@dataclass(frozen=True)
class Check:
    name: str
    status: str      # ok, failed, not available
    detail: str


#: Every check, in report order; ``vars.checks`` picks a subset (a staging box without
#: DAHDI or a tower leaves those out).
CHECKS = ("release", "config", "service", "spans", "alarms", "tower", "heartbeat")
NOT_CONFIGURED = "not configured"


def run(ctx: HostContext, result: StepResult) -> None:
    wanted = ctx.box.vars.checks or CHECKS
    checks = [_CHECKS[name](ctx) for name in CHECKS if name in wanted]
    if ctx.box.pair is None:
        checks = [c for c in checks if c.name != "heartbeat"]
    result.details["checks"] = [asdict(c) for c in checks]
    failed = [c for c in checks if c.status == FAILED]
    waiting = [c.name for c in checks if c.status == NOT_AVAILABLE]
    if waiting:
        result.details["not_available"] = waiting
    if failed:
        raise StepFailed("; ".join(f"{c.name}: {c.detail}" for c in failed))
    passed = sum(c.status == OK for c in checks)
    result.message = f"{passed} of {len(checks)} checks passed" + (
        f"; not available in this release: {', '.join(waiting)}" if waiting else "")


def _db(ctx: HostContext) -> str:
    return Layout(ctx.box.root).at(STORE_DB)


def _release(ctx: HostContext) -> Check:
    active = active_release(ctx)
    if active is None:
        return Check("release", FAILED, "no release is active (apply first)")
    done = run_qbox(ctx, "version", "--json")
    data = parse_json(done)
    if not done.ok or not isinstance(data, dict):
        return Check("release", FAILED, f"qbox {active} does not run: {done.tail()}")
    note = "" if active == ctx.builder.release.id else f" (this checkout is {ctx.builder.release.id})"
    return Check("release", OK, f"qbox {data.get('version')} ({active}) on Python {data.get('python')}{note}")


def _config(ctx: HostContext) -> Check:
    done = run_qbox(ctx, "config", "check", "--json", Layout(ctx.box.root).at(CONFIG))
    if not_available(done):
        return Check("config", NOT_AVAILABLE, "qbox config check is not in this release")
    data = parse_json(done)
    if done.ok and isinstance(data, dict) and data.get("valid"):
        return Check("config", OK, f"node {data.get('node')}, {data.get('spans')} span(s), "
                                   f"{data.get('trunk_lines')} trunk lines, {data.get('agent_lines')} agent lines")
    return Check("config", FAILED, f"the installed configuration is invalid: {done.tail()}")


def _service(ctx: HostContext) -> Check:
    done = ctx.remote.run(command_for(ctx.box, "service-check"))
    if done.ok:
        return Check("service", OK, "running")
    return Check("service", FAILED, f"not running ({done.tail()})")


def _spans(ctx: HostContext) -> Check:
    return _from_qbox(ctx, "spans", ("span", "list", "--config", Layout(ctx.box.root).at(CONFIG), "--json"),
                      _span_problems, lambda data: f"{len(_items(data, 'spans'))} span(s), no alarm")


def _alarms(ctx: HostContext) -> Check:
    return _from_qbox(ctx, "alarms", ("alarms", "--db", _db(ctx), "--json"), _alarm_problems,
                      lambda data: "none active")


def _tower(ctx: HostContext) -> Check:
    url = getattr(getattr(ctx.box.config, "alarms", None), "tower", "")
    if not url:
        return Check("tower", NOT_CONFIGURED, "no tower in the box configuration (alarms.tower)")
    return _from_qbox(ctx, "tower", ("tower", "status", "--tower", url, "--db", _db(ctx), "--json"),
                      lambda data: [] if data.get("reachable") else [f"{url}: {data.get('error')}"],
                      lambda data: f"{data.get('model') or url} answering")


def _from_qbox(ctx: HostContext, name: str, args: tuple[str, ...],
               problems: Callable[[Any], list[str]], healthy: Callable[[Any], str]) -> Check:
    done = run_qbox(ctx, *args)
    if not_available(done):
        return Check(name, NOT_AVAILABLE, f"qbox {' '.join(args[:2])} is not in this release")
    data = parse_json(done)
    if data is None:
        return Check(name, FAILED, done.tail())
    found = problems(data)
    if found:
        return Check(name, FAILED, "; ".join(found))
    return Check(name, OK, healthy(data)) if done.ok else Check(name, FAILED, done.tail())


def _heartbeat(ctx: HostContext) -> Check:
    done = ctx.remote.run(command_for(ctx.box, "ha-status"))
    if not_available(done):
        return Check("heartbeat", NOT_AVAILABLE, "qbox ha status is not in this release")
    data = parse_json(done)
    link = data.get("link") if isinstance(data, dict) else None
    if done.ok and link in (None, "up"):
        return Check("heartbeat", OK, f"link to the partner {link or 'answering'}")
    return Check("heartbeat", FAILED, f"link {link}" if link else done.tail())


def _items(data: object, key: str) -> list:
    if isinstance(data, dict):
        data = data.get(key, [])
    return data if isinstance(data, list) else []


def _span_problems(data: object) -> list[str]:
    found = []
    for span in _items(data, "spans"):
        if not isinstance(span, dict):
            continue
        alarms = span.get("alarms", [])
        alarms = [a for a in ([alarms] if isinstance(alarms, str) else alarms) if str(a).upper() != "OK"]
        if alarms:
            found.append(f"span {span.get('number', span.get('span', '?'))}: {', '.join(map(str, alarms))}")
    return found


def _alarm_problems(data: object) -> list[str]:
    active = _items(data, "alarms")
    if not active:
        return []
    first = active[0]
    text = f"{first.get('severity')} {first.get('object')}: {first.get('text')}" if isinstance(first, dict) else first
    return [f"{len(active)} active alarm(s), first: {text}"]


_CHECKS: dict[str, Callable[[HostContext], Check]] = {
    "release": _release, "config": _config, "service": _service, "spans": _spans,
    "alarms": _alarms, "tower": _tower, "heartbeat": _heartbeat,
}
