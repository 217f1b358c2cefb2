"""The shell commands provisioning runs on a box for handlers, checks and switch-over.

They are defaults for a Debian box under systemd; an inventory overrides any of them
with ``vars: {commands: {NAME: COMMAND}}`` (a staging box without systemd, a site that
names its units differently).  Commands may use the placeholders ``{root}`` (install
prefix), ``{qbox}`` (the active release's ``qbox``), ``{config}`` (the box YAML),
``{name}``, ``{branch}`` and ``{region}``; write ``{{`` and ``}}`` for literal braces.
"""
from __future__ import annotations

import string
from typing import TYPE_CHECKING

from provisioning.layout import CONFIG, Layout

if TYPE_CHECKING:
    from provisioning.inventory import Box

__all__ = ["DEFAULT_COMMANDS", "HANDLER_NAMES", "PLACEHOLDERS", "check_placeholders", "command_for"]

#: Handlers, in the order they run (each at most once per run, only when notified).
#: A restart makes the reload of the same service redundant, so it is skipped then.
HANDLER_NAMES = ("systemd-reload", "udev-reload", "dahdi-restart", "qbox-restart", "qbox-reload")

DEFAULT_COMMANDS: dict[str, str] = {
    "systemd-reload": "systemctl daemon-reload",
    "udev-reload": "udevadm control --reload-rules && udevadm trigger --action=change "
                   "--subsystem-match=hidraw --subsystem-match=tty",
    "dahdi-restart": "systemctl restart dahdi.service",
    "qbox-restart": "systemctl enable --quiet qbox.service && systemctl restart qbox.service",
    "qbox-reload": "systemctl reload-or-restart qbox.service",
    # Verify: exit 0 when the service runs.
    "service-check": "systemctl is-active --quiet qbox.service",
    # Rolling upgrade of a pair: who is primary now, and hand the calls to the standby
    # (run on the primary).  Both wait for `qbox ha` (no release has it yet).
    "ha-status": "{qbox} ha status --json",
    "switchover": "{qbox} ha switchover",
}

PLACEHOLDERS = ("root", "qbox", "config", "name", "branch", "region")


def check_placeholders(command: str) -> str | None:
    """None if ``command`` only uses known placeholders, else what is wrong with it."""
    try:
        fields = [f for _, f, _, _ in string.Formatter().parse(command) if f is not None]
    except ValueError as exc:
        return f"{command!r}: {exc} (write {{{{ and }}}} for literal braces)"
    for name in fields:
        if name not in PLACEHOLDERS:
            return f"unknown placeholder {{{name}}} (known: {', '.join('{' + p + '}' for p in PLACEHOLDERS)})"
    return None


def command_for(box: "Box", name: str) -> str:
    """Command ``name`` for ``box``, placeholders filled (checked when the inventory loaded)."""
    layout = Layout(box.root)
    return box.commands[name].format_map({
        "root": box.root, "qbox": layout.qbox(), "config": layout.at(CONFIG),
        "name": box.name, "branch": box.branch, "region": box.region,
    })
