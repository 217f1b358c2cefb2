"""``qbox provision --inventory FILE [--limit P] [--json] [--root DIR] ACTION``: boxes over SSH.

ACTION is ``plan`` (what would change, with diffs), ``apply``, ``verify`` (commissioning
report), ``collect`` (diagnostic bundles), ``rollback`` or ``upgrade`` (rolling).  The
work is in :mod:`provisioning`; it is imported only when the command runs, so a box
(which never provisions) does not need Fabric to start ``qbox``.
"""
from __future__ import annotations

import sys

from appliance.cli._output import add_json_flag, print_json
from appliance.errors import EXIT_BAD_INPUT, EXIT_FAILURE, BadInput

ACTIONS = ("plan", "apply", "verify", "collect", "rollback", "upgrade")


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "provision", help="install, configure, verify and upgrade boxes over SSH from an inventory",
        description="Provision the boxes of an inventory over SSH (host keys pinned in the inventory's "
                    "known_hosts file). Hosts run in parallel; a summary table ends every run.")
    parser.add_argument("--inventory", "-i", required=True, metavar="FILE", help="inventory YAML")
    parser.add_argument("--limit", "-l", metavar="PATTERN",
                        help="only boxes whose name, branch or region matches (shell patterns, "
                             "comma-separated, !PATTERN excludes)")
    parser.add_argument("--root", metavar="DIR",
                        help="install prefix on the boxes instead of / ({name} gives each box its own)")
    parser.add_argument("--source", metavar="DIR", help="qbox checkout to build the wheel from (default: this one)")
    parser.add_argument("--forks", type=int, default=10, metavar="N", help="boxes worked on at once (default 10)")
    add_json_flag(parser)
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    actions.add_parser("plan", help="show what apply would change, with unified diffs")
    actions.add_parser("apply", help="bootstrap, configure and run handlers on every box")
    actions.add_parser("verify", help="check every box and print the commissioning report")
    collect = actions.add_parser("collect", help="fetch a diagnostic bundle from every box")
    collect.add_argument("--output", "-o", default="qbox-diagnostics", metavar="DIR",
                         help="where bundles go (default ./qbox-diagnostics)")
    collect.add_argument("--capture-seconds", type=int, default=5, metavar="S",
                         help="length of the D-channel captures (default 5)")
    actions.add_parser("rollback", help="return every box to its previous release and configuration")
    upgrade = actions.add_parser("upgrade", help="rolling upgrade: batches, pairs standby first")
    upgrade.add_argument("--batch-size", type=int, default=1, metavar="N",
                         help="pairs or single boxes upgraded at once (default 1)")
    upgrade.add_argument("--max-fail-percent", type=float, default=0.0, metavar="P",
                         help="stop when more than P%% of a batch's hosts fail (default 0: any)")
    parser.set_defaults(func=run)


def run(args) -> int:
    from drivers.clock import LoopClock
    from provisioning.inventory import InventoryError, load_inventory
    from provisioning.release import ReleaseBuilder
    from provisioning.report import format_commissioning, format_plan, format_summary
    from provisioning.runner import Runner

    try:
        inventory = load_inventory(args.inventory)
    except InventoryError as exc:
        for line in exc.lines():
            print(line, file=sys.stderr)
        print(f"{args.inventory}: {len(exc.issues)} error(s); no box was touched", file=sys.stderr)
        return EXIT_BAD_INPUT
    boxes = inventory.select(args.limit)
    if args.root:
        if not args.root.startswith("/"):
            raise BadInput(f"--root {args.root!r}: give an absolute path")
        boxes = tuple(box.with_root(args.root) for box in boxes)
    builder = ReleaseBuilder(source=_path(args.source))
    options = {"output": getattr(args, "output", None), "capture_seconds": getattr(args, "capture_seconds", 5)}
    runner = Runner(inventory, boxes, builder=builder, clock=LoopClock(), forks=args.forks, options=options)
    if args.action == "upgrade":
        if args.batch_size < 1 or not 0 <= args.max_fail_percent <= 100:
            raise BadInput("--batch-size must be at least 1 and --max-fail-percent between 0 and 100")
        report = runner.upgrade(args.batch_size, args.max_fail_percent)
    else:
        report = runner.run(args.action)
    if args.json:
        print_json(report.as_dict())
    else:
        if args.action == "plan":
            print(format_plan(report))
        elif args.action in ("verify", "rollback", "upgrade"):
            print(format_commissioning(report))
        if args.action in ("apply", "rollback", "upgrade"):
            _print_changes(report)
        if args.action == "collect":
            for host in report.hosts:
                step = host.step("collect")
                if step and step.message:
                    print(f"{host.box.name}: {step.message}")
        print(format_summary(report))
    return EXIT_FAILURE if report.failed else 0


def _path(text: str | None):
    from pathlib import Path

    return Path(text) if text else None


def _print_changes(report) -> None:
    for host in report.hosts:
        for step in host.steps:
            for change in step.changes:
                print(f"{host.box.name}: {step.name}: {change}")
