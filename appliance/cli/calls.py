"""``qbox calls``: every call in the box, callers waiting in a queue first.

    qbox calls [--json] [--socket PATH]
"""
from __future__ import annotations

from appliance.cli._output import add_json_flag, print_json
from appliance.console import add_socket_option, ask
from appliance.console.views import render_calls

__all__ = ["register"]


def register(subparsers) -> None:
    parser = subparsers.add_parser("calls", help="the calls in progress: IVR, queued, ringing, talking",
                                   description="Calls in progress, callers waiting in a queue first.")
    add_socket_option(parser)
    add_json_flag(parser)
    parser.set_defaults(func=run_calls)


def run_calls(args) -> None:
    calls = ask(args.socket, "calls")
    if args.json:
        print_json({"calls": calls})
    else:
        print("\n".join(render_calls(calls)))
