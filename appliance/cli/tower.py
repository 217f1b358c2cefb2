"""``qbox tower status``: is the signal tower there, and what does it show?

    qbox tower status --tower URL [--db PATH] [--json]

Opens the tower named by ``--tower`` (until the service's control API exists; then the
service answers for the tower it holds), reports whether it answers, the lamps as the
tower itself reports them where its protocol can (Patlite PNS), and what the active
alarms in the store say it should show.  Exit status 1 if the tower is unreachable.
"""
from __future__ import annotations

from appliance.cli._output import add_json_flag, print_json
from appliance.cli.alarms import DEFAULT_DB, active_in_store

__all__ = ["register"]


def register(subparsers) -> None:
    parser = subparsers.add_parser("tower", help="signal tower status")
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    status = actions.add_parser("status", help="reachability, lamps, and what the alarms ask for")
    status.add_argument("--tower", metavar="URL", required=True,
                        help="serial:///dev/ttyUSB0?baud=9600, hidraw://191a:8003 or tcp://HOST:10000")
    status.add_argument("--db", default=DEFAULT_DB, metavar="PATH", help=f"the qbox store (default {DEFAULT_DB})")
    add_json_flag(status)
    status.set_defaults(func=_status)


def _expected(db: str):
    """(lamps the active alarms ask for, number of active alarms), or (None, None) without a store."""
    active = active_in_store(db)
    if active is None:
        return None, None
    from appliance.alarms.config import AlarmsConfig
    from appliance.alarms.indication import indicate

    return indicate(active, AlarmsConfig()), len(active)


def _status(args) -> int:
    from drivers.tower import LAMPS, TowerError, open_tower

    report: dict = {"url": args.tower, "model": None, "reachable": False, "error": None,
                    "lamps": None, "expected": None, "active_alarms": None}
    try:
        with open_tower(args.tower) as tower:
            report["model"] = tower.model
            lamps = tower.read()
            report["reachable"] = True
            report["lamps"] = lamps.as_dict() if lamps is not None else None
    except TowerError as exc:
        report["error"] = str(exc)
    indication, count = _expected(args.db)
    if indication is not None:
        report["expected"] = {**indication.lamps.as_dict(), "sound": indication.sound}
        report["active_alarms"] = count
    if args.json:
        print_json(report)
        return 0 if report["reachable"] else 1
    print(f"tower     {report['url']}")
    print(f"model     {report['model'] or 'unknown'}")
    print(f"state     {'reachable' if report['reachable'] else 'UNREACHABLE: ' + report['error']}")
    if report["reachable"]:
        print(f"lamps     {lamps.describe() if lamps is not None else 'not readable (write-only protocol)'}")
    if indication is not None:
        lamps_wanted = " ".join(f"{lamp}={indication.lamps.lamp(lamp)}" for lamp in LAMPS)
        print(f"expected  {lamps_wanted} sound={indication.sound} ({count} active alarms)")
    return 0 if report["reachable"] else 1
