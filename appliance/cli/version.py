"""``qbox version``."""
from __future__ import annotations

import platform

from appliance import __version__
from appliance.cli._output import add_json_flag, print_json


def register(subparsers) -> None:
    parser = subparsers.add_parser("version", help="print the qbox version")
    add_json_flag(parser)
    parser.set_defaults(func=run)


def run(args) -> None:
    if args.json:
        print_json({"version": __version__, "python": platform.python_version()})
    else:
        print(f"qbox {__version__}")
