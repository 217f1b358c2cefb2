"""switchover: hand the calls from a pair's primary to its standby (rolling upgrades).

Runs the ``switchover`` command on the primary (``qbox ha switchover`` by default).  A
release without it cannot hand over, and the upgrade of that pair stops here with the
primary untouched.  Who is primary is asked of the box (``ha-status``); a box that
cannot say is taken at provisioning's last record, then at the inventory's role.
"""
from __future__ import annotations

from provisioning.boxcli import not_available, parse_json
from provisioning.commands import command_for
from provisioning.state import BoxState
from provisioning.steps import HostContext, StepFailed, StepResult

__all__ = ["NAME", "run", "current_role", "record_role"]

NAME = "switchover"


def run(ctx: HostContext, result: StepResult) -> None:
    if ctx.plan_only:
        result.change("hand the calls over to the standby")
        return
    done = ctx.remote.run(command_for(ctx.box, "switchover"))
    if not_available(done):
        raise StepFailed("cannot switch over: the box's release has no `qbox ha switchover` "
                         "(set vars.commands.switchover); the primary was left untouched")
    if not done.ok:
        raise StepFailed(f"switch-over failed, the primary was left untouched: {done.tail()}")
    result.change("handed the calls over to the standby")


def current_role(ctx: HostContext) -> tuple[str, str]:
    """(role, where the answer came from): the box, provisioning's record or the inventory."""
    done = ctx.remote.run(command_for(ctx.box, "ha-status"))
    data = parse_json(done) if done.ok else None
    if isinstance(data, dict) and data.get("role") in ("primary", "standby"):
        return data["role"], "box"
    if not (done.ok or not_available(done)):
        raise StepFailed(f"ha-status failed: {done.tail()}")
    recorded = BoxState.read(ctx.remote).ha_role
    if recorded in ("primary", "standby"):
        return recorded, "provisioning record"
    return ctx.box.role, "inventory"


def record_role(ctx: HostContext, role: str) -> None:
    """Remember ``role`` on the box for boxes that cannot tell their role themselves."""
    state = BoxState.read(ctx.remote)
    if state.ha_role != role:
        state.ha_role = role
        state.write(ctx.remote)
