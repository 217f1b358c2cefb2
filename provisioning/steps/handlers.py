"""handlers: restart or reload what the earlier steps changed, each once, in a fixed order.

A restart of the service makes its reload redundant, so the reload is dropped then.
Handlers run only when notified: a second apply with nothing changed runs none.
"""
from __future__ import annotations

from provisioning.commands import HANDLER_NAMES, command_for
from provisioning.steps import HostContext, StepFailed, StepResult

__all__ = ["NAME", "run"]

NAME = "handlers"


def run(ctx: HostContext, result: StepResult) -> None:
    names = [name for name in HANDLER_NAMES if name in ctx.notified]
    if "qbox-restart" in names and "qbox-reload" in names:
        names.remove("qbox-reload")
    ctx.notified.clear()
    for name in names:
        if ctx.plan_only:
            result.change(f"run {name}")
            continue
        done = ctx.remote.run(command_for(ctx.box, name))
        if not done.ok:
            raise StepFailed(f"handler {name} failed: {done.tail()}")
        result.change(f"ran {name}")
