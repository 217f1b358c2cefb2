"""``qbox cdr export``: call detail records as CSV or JSON lines."""
from __future__ import annotations

import sys

from appliance.cli._since import parse_since
from appliance.store import Store
from appliance.store.cdr import CdrStore

DEFAULT_DB = "/var/lib/qbox/qbox.db"


def register(subparsers) -> None:
    parser = subparsers.add_parser("cdr", help="export call detail records (CSV or JSON)")
    commands = parser.add_subparsers(dest="cdr_command", metavar="ACTION", required=True)
    export = commands.add_parser("export", help="print CDRs since a time, oldest first")
    export.add_argument("--since", help="ISO date/time (2026-11-28T09:00) or an age (15m, 2h, 7d)")
    export.add_argument("--format", choices=("csv", "json"), default="csv")
    export.add_argument("--last", type=int, metavar="N", help="only the N most recent")
    export.add_argument("--db", default=DEFAULT_DB, help=f"the store (default {DEFAULT_DB})")
    export.set_defaults(func=run_export)


def run_export(args) -> None:
    since = parse_since(args.since)
    store = Store(args.db)
    try:
        rows = CdrStore(store).since(since, limit=args.last)
        text = CdrStore.to_csv(rows) if args.format == "csv" else CdrStore.to_json_lines(rows)
    finally:
        store.close()
    sys.stdout.write(text)
