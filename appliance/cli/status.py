"""``qbox status``: the running service at a glance (calls, queues, agents, alarms, spans).

    qbox status [--json] [--socket PATH]

Reads the service's control socket; exit 1 when no service answers there.
"""
from __future__ import annotations

from appliance.console import add_view
from appliance.console.views import render_status

__all__ = ["register"]


def register(subparsers) -> None:
    parser = subparsers.add_parser("status", help="the running service at a glance",
                                   description="Calls, queues, agents, alarms and spans of the running service.")
    add_view(parser, "status", render_status)
