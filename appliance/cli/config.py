"""``qbox config check FILE`` and ``qbox config dahdi FILE``."""
from __future__ import annotations

import sys

from appliance.cli._output import add_json_flag, print_json
from appliance.config import ConfigError, load_config, render_system_conf
from appliance.errors import EXIT_BAD_INPUT


def register(subparsers) -> None:
    parser = subparsers.add_parser("config", help="check a box configuration or show what it implies")
    commands = parser.add_subparsers(dest="config_command", metavar="ACTION", required=True)

    check = commands.add_parser("check", help="validate a box configuration; every error, with file:line:col")
    check.add_argument("file")
    add_json_flag(check)
    check.set_defaults(func=run_check)

    dahdi = commands.add_parser("dahdi", help="print the /etc/dahdi/system.conf the configuration implies")
    dahdi.add_argument("file")
    dahdi.set_defaults(func=run_dahdi)


def run_check(args) -> int:
    try:
        config = load_config(args.file)
    except ConfigError as exc:
        if args.json:
            print_json({"file": args.file, "valid": False, "errors": [i.as_dict() for i in exc.issues]})
        else:
            for line in exc.lines():
                print(line, file=sys.stderr)
            print(f"{args.file}: {len(exc.issues)} error(s)", file=sys.stderr)
        return EXIT_BAD_INPUT
    summary = {
        "file": args.file,
        "valid": True,
        "node": config.node.name,
        "spans": len(config.spans),
        "trunk_lines": sum(len(s.bchannel_positions) for s in config.trunk_spans),
        "agent_lines": sum(len(s.bchannel_positions) for s in config.agent_spans)
        + sum(len(g.channels) for g in config.fxs),
    }
    if args.json:
        print_json(summary)
    else:
        print(f"{args.file}: OK: node {summary['node']}, {summary['spans']} span(s), "
              f"{summary['trunk_lines']} trunk lines, {summary['agent_lines']} agent lines")
    return 0


def run_dahdi(args) -> None:
    sys.stdout.write(render_system_conf(load_config(args.file)))
