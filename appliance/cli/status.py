"""``qbox status``: the running service at a glance (calls, queues, agents, alarms, spans).

    qbox status [--json] [--socket PATH]

Reads the service's control socket; exit 1 when no service answers there.
"""
from __future__ import annotations

from appliance.cli._output import add_json_flag, print_json
from appliance.console import add_socket_option, ask
from appliance.console.views import render_status

__all__ = ["register"]


def register(subparsers) -> None:
    parser = subparsers.add_parser("status", help="the running service at a glance",
                                   description="Calls, queues, agents, alarms and spans of the running service.")
    add_socket_option(parser)
    add_json_flag(parser)
    parser.set_defaults(func=run_status)


def run_status(args) -> None:
    status = ask(args.socket, "status")
    if args.json:
        print_json(status)
    else:
        print("\n".join(render_status(status)))
