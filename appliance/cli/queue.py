"""``qbox queue show [NAME]``: a queue's figures, its waiting callers and its members.

    qbox queue show [NAME] [--json] [--socket PATH]

Like Asterisk's ``queue show``.  An unknown NAME exits 2 with the service's message.
"""
from __future__ import annotations

from appliance.cli._output import add_json_flag, print_json
from appliance.console import add_socket_option, ask
from appliance.console.views import render_queues

__all__ = ["register"]


def register(subparsers) -> None:
    parser = subparsers.add_parser("queue", help="show queues: waiting callers, members, service level")
    actions = parser.add_subparsers(dest="queue_action", metavar="ACTION", required=True)
    show = actions.add_parser("show", help="one queue, or all of them",
                              description="Figures since start, waiting callers and members of each queue.")
    show.add_argument("name", nargs="?", metavar="NAME", help="the queue (default: every queue)")
    add_socket_option(show)
    add_json_flag(show)
    show.set_defaults(func=run_show)


def run_show(args) -> None:
    queues = ask(args.socket, "queues", **({"name": args.name} if args.name is not None else {}))
    if args.json:
        print_json({"queues": queues})
    else:
        print("\n".join(render_queues(queues)))
