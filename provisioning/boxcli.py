"""Running the box's own ``qbox`` command, and telling "not in this release" from failure.

Verify, collect and the rolling upgrade use commands other parts of qbox are still
growing (``qbox status``, ``qbox alarms``, ``qbox ha ...``).  A release without one
answers with argparse's "invalid choice" and exit status 2; that is reported as
*not available* in the commissioning report, never as a pass.
"""
from __future__ import annotations

import json
import shlex
from typing import Any

from provisioning.layout import Layout
from provisioning.remote import CommandResult
from provisioning.steps import HostContext

__all__ = ["run_qbox", "not_available", "parse_json", "NOT_AVAILABLE"]

NOT_AVAILABLE = "not available"


def run_qbox(ctx: HostContext, *args: str, release: str | None = None) -> CommandResult:
    """``qbox ARGS`` of the active release (or ``release``) on the box."""
    qbox = Layout(ctx.box.root).qbox(release)
    return ctx.remote.run(" ".join([shlex.quote(qbox), *(shlex.quote(a) for a in args)]))


def not_available(result: CommandResult) -> bool:
    """True if the command does not exist in the box's release (or qbox is not installed)."""
    if result.exited == 127:
        return True
    return result.exited == 2 and "invalid choice" in result.stderr


def parse_json(result: CommandResult) -> Any:
    """The command's JSON output, or None if it printed something else."""
    try:
        return json.loads(result.stdout)
    except ValueError:
        return None
