"""``qbox agent``: see and steer agents in the running service.

    qbox agent show [ID] [--json]                  state, calls, queues of each agent
    qbox agent login ID | logout ID                sign an agent in or out of all its queues
    qbox agent pause ID [--reason TEXT] [--queue NAME]
    qbox agent unpause ID [--queue NAME]           without --queue: every queue of the agent

Every action prints the agent as it is afterwards.  An unknown agent or queue, or
pausing an agent who is not logged in, exits 2 with the service's message.
"""
from __future__ import annotations

from appliance.cli._output import add_json_flag, print_json
from appliance.console import add_socket_option, ask
from appliance.console.views import agent_sentence, render_agents
from appliance.errors import BadInput

__all__ = ["register"]


def register(subparsers) -> None:
    parser = subparsers.add_parser("agent", help="show agents; log in, log out, pause, unpause")
    actions = parser.add_subparsers(dest="agent_action", metavar="ACTION", required=True)

    show = actions.add_parser("show", help="every agent, or one", description="Agents' state, calls and queues.")
    show.add_argument("id", nargs="?", metavar="ID", help="the agent (default: every agent)")
    add_socket_option(show)
    add_json_flag(show)
    show.set_defaults(func=run_show)

    helps = {"login": "log the agent in to all its queues", "logout": "log the agent out of all its queues",
             "pause": "pause the agent (a break): no calls are offered", "unpause": "end the agent's pause"}
    for action, text in helps.items():
        sub = actions.add_parser(action, help=text, description=text[0].upper() + text[1:] + ".")
        sub.add_argument("id", metavar="ID", help="the agent")
        if action == "pause":
            sub.add_argument("--reason", metavar="TEXT", help="why (lunch, training); kept in queue_log")
        if action in ("pause", "unpause"):
            sub.add_argument("--queue", metavar="NAME", help="only in this queue (default: all the agent's queues)")
        add_socket_option(sub)
        add_json_flag(sub)
        sub.set_defaults(func=run_action, command=f"agent.{action}")


def run_show(args) -> None:
    agents = ask(args.socket, "agents")
    if args.id is not None:
        agents = [a for a in agents if a["id"] == args.id]
        if not agents:
            raise BadInput(f"unknown agent {args.id!r}")
    if args.json:
        print_json({"agents": agents})
    else:
        print("\n".join(render_agents(agents)))


def run_action(args) -> None:
    request = {"agent": args.id}
    if getattr(args, "reason", None) is not None:
        request["reason"] = args.reason
    if getattr(args, "queue", None) is not None:
        request["queue"] = args.queue
    agent = ask(args.socket, args.command, **request)
    if args.json:
        print_json(agent)
    else:
        print(agent_sentence(agent))
