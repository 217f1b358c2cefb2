"""``qbox alarms``: the NOC's alarm console.

    qbox alarms [--all] [--json]                   active alarms (--all: cleared ones too)
    qbox alarms ack ID|--all [--comment TEXT]      acknowledge: silence, steady lamp
    qbox alarms history [--since WHEN] [--json]    every raise, clear, ack and comment
    qbox alarms test --tower URL [--sound URL]     lamp test for the technician on site

When the service runs, listing, acknowledging and history go through its control
socket (``--socket``), so the running alarm manager silences the buzzer at once.
Without a service (or one that does not serve alarms) they read and write the store
directly (``--db``, default /var/lib/qbox/qbox.db).  ``test`` drives the tower given
by ``--tower`` itself.  Times are UTC.
"""
from __future__ import annotations

import argparse
import getpass
import os
import re
import time
from datetime import datetime, timezone
from pathlib import Path

from appliance.cli._output import add_json_flag, format_table, format_utc, print_json
from appliance.control import DEFAULT_SOCKET
from appliance.errors import BadInput, QboxError

__all__ = ["register", "parse_since", "active_in_store", "DEFAULT_DB"]

DEFAULT_DB = "/var/lib/qbox/qbox.db"
_RELATIVE = re.compile(r"^(\d+(?:\.\d+)?)\s*([smhd])$")
_UNIT_S = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def register(subparsers) -> None:
    top = _db_option(DEFAULT_DB)
    # Actions repeat --db without a default, so `qbox alarms --db X ack 1` keeps X.
    common = _db_option(argparse.SUPPRESS)

    parser = subparsers.add_parser("alarms", parents=[top], help="show, acknowledge and test alarms",
                                   description="Active alarms, most severe first.")
    parser.add_argument("--all", action="store_true", help="include cleared alarms")
    add_json_flag(parser)
    parser.set_defaults(func=_list)
    actions = parser.add_subparsers(dest="action", metavar="ACTION")

    ack = actions.add_parser("ack", parents=[common], help="acknowledge an alarm (stops the buzzer)")
    ack.add_argument("id", nargs="?", type=int, help="alarm id (from `qbox alarms`)")
    ack.add_argument("--all", action="store_true", dest="ack_all", help="every unacknowledged active alarm")
    ack.add_argument("--comment", metavar="TEXT", help="note kept with the alarm")
    ack.add_argument("--by", metavar="NAME", help="who acknowledges (default: your login name)")
    ack.set_defaults(func=_ack)

    history = actions.add_parser("history", parents=[common], help="alarm changes over time")
    history.add_argument("--since", metavar="WHEN",
                         help="2026-01-31, '2026-01-31 08:00', or an age: 90s, 30m, 2h, 7d")
    add_json_flag(history)
    history.set_defaults(func=_history)

    test = actions.add_parser("test", parents=[common], help="lamp test: every lamp, then the buzzer")
    test.add_argument("--tower", metavar="URL", required=True,
                      help="tower URL, e.g. serial:///dev/ttyUSB0?baud=9600, hidraw://191a:8003, tcp://HOST:10000")
    test.add_argument("--sound", metavar="URL", help="also sound the buzzer on this ALSA PCM (alsa://default)")
    test.add_argument("--step", type=float, default=1.0, metavar="SECONDS", help="time per step (default 1)")
    test.set_defaults(func=_test)


def _db_option(default: str) -> argparse.ArgumentParser:
    parent = argparse.ArgumentParser(add_help=False)
    parent.add_argument("--db", default=default, metavar="PATH",
                        help=f"the qbox store, used when the service is not running (default {DEFAULT_DB})")
    parent.add_argument("--socket", default=DEFAULT_SOCKET if default is not argparse.SUPPRESS else default,
                        metavar="PATH", help=f"the service's control socket (default {DEFAULT_SOCKET})")
    return parent


def _ask_service(args, cmd: str, **request):
    """The service's answer to ``cmd``, or None if no service serves alarms at ``--socket``."""
    from appliance.control import ControlClient

    if not Path(args.socket).is_socket():
        return None
    try:
        with ControlClient(args.socket) as client:
            return client.request(cmd, **request)
    except BadInput as exc:
        if "unknown command" in str(exc):
            return None       # an older service without alarms: fall back to the store
        raise


def _open_store(path: str):
    from appliance.store import Store
    from appliance.store.alarms import AlarmStore

    if path != ":memory:" and not Path(path).exists():
        raise QboxError(f"{path}: no qbox store here (pass --db PATH)")
    return AlarmStore(Store(path))


def active_in_store(path: str):
    """The active alarms in the store at ``path``, or None if there is no store there."""
    if not Path(path).exists():
        return None
    alarms_store = _open_store(path)
    try:
        return alarms_store.active()
    finally:
        alarms_store.store.close()


def _list(args) -> int:
    answer = _ask_service(args, "alarms", all=args.all)
    if answer is not None:
        alarms = answer["alarms"]
    else:
        alarms_store = _open_store(args.db)
        alarms = [a.as_dict() for a in (alarms_store.all() if args.all else alarms_store.active())]
    if args.json:
        print_json({"alarms": alarms})
        return 0
    if not alarms:
        print("no alarms" if args.all else "no active alarms")
        return 0
    headers = ["ID", "SEVERITY", "OBJECT", "CAUSE", "RAISED (UTC)", "ACK", "N"]
    if args.all:
        headers.append("CLEARED (UTC)")
    rows = []
    for a in alarms:
        # Minutes in the table keep it within 80 columns; --json has milliseconds.
        row = [a["id"], a["severity"], a["object"], a["cause"], _minute(a["raised_at"]), a["acked_by"] or "-",
               a["count"]]
        if args.all:
            row.append(_minute(a["cleared_at"]))
        rows.append(row)
    print(format_table(headers, rows))
    return 0


def _minute(iso: str | None) -> str:
    """``2026-01-01T08:30:12.345Z`` -> ``2026-01-01 08:30``."""
    return iso[:16].replace("T", " ") if iso else "-"


def _actor(args) -> str:
    if args.by:
        return args.by
    return os.environ.get("SUDO_USER") or getpass.getuser()


def _ack(args) -> int:
    from appliance.alarms.model import AlarmEvent

    if (args.id is None) == (not args.ack_all):
        raise BadInput("give one alarm ID or --all")
    by = _actor(args)
    request = {"all": True} if args.ack_all else {"id": args.id}
    answer = _ask_service(args, "alarms.ack", by=by, comment=args.comment, **request)
    if answer is not None:
        for a in answer["acknowledged"]:
            print(f"acknowledged {a['id']} {a['severity']} {a['object']} {a['cause']}")
        if not answer["acknowledged"]:
            print("nothing to acknowledge")
        return 0
    alarms_store = _open_store(args.db)
    if args.ack_all:
        targets = [a for a in alarms_store.active() if not a.acknowledged]
    else:
        alarm = alarms_store.get(args.id)
        if alarm is None:
            raise BadInput(f"no alarm with id {args.id}")
        if alarm.acknowledged:
            print(f"alarm {alarm.id} was already acknowledged by {alarm.acked_by} at {format_utc(alarm.acked_at)}")
            return 0
        targets = [alarm]
    now = time.time()
    for alarm in targets:
        alarms_store.write(AlarmEvent("acknowledged", alarm.evolve(acked_by=by, acked_at=now), by, args.comment), now)
        print(f"acknowledged {alarm.id} {alarm.severity} {alarm.object} {alarm.cause}")
    if args.ack_all and not targets:
        print("nothing to acknowledge")
    return 0


def parse_since(text: str, now: float) -> float:
    """``--since`` as epoch seconds: an ISO date/time (UTC) or an age like ``30m``."""
    text = text.strip()
    match = _RELATIVE.match(text)
    if match:
        return now - float(match[1]) * _UNIT_S[match[2]]
    try:
        when = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise BadInput(f"--since {text!r}: not a date/time (2026-01-31, '2026-01-31 08:00') "
                       f"or an age (90s, 30m, 2h, 7d)") from None
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    return when.timestamp()


def _history(args) -> int:
    since = parse_since(args.since, time.time()) if args.since else None
    answer = _ask_service(args, "alarms.history", since=since)
    entries = answer["history"] if answer is not None else [e.as_dict() for e in _open_store(args.db).history(since)]
    if args.json:
        print_json({"history": entries})
        return 0
    if not entries:
        print("no alarm history" + (f" since {format_utc(since)}" if since is not None else ""))
        return 0
    print(format_table(
        ["TIME (UTC)", "ID", "EVENT", "SEVERITY", "OBJECT", "CAUSE", "BY", "COMMENT"],
        [[e["at"][:19].replace("T", " "), e["alarm_id"], e["kind"], e["severity"], e["object"], e["cause"],
          e["actor"] or "-", e["text"] or ""] for e in entries]))
    return 0


def _test(args) -> int:
    from appliance.alarms.config import AlarmsConfig
    from appliance.alarms.indication import indicate, lamp_test_sequence
    from appliance.alarms.sounds import beep, siren
    from drivers.sound import SoundError, open_sound
    from drivers.tower import TowerError, open_tower

    if args.step < 0:
        raise BadInput("--step must be 0 or more seconds")
    config = AlarmsConfig()
    try:
        tower = open_tower(args.tower)
    except TowerError as exc:
        raise QboxError(str(exc)) from None
    player = None
    try:
        if args.sound:
            player = open_sound(args.sound)
        for state in lamp_test_sequence():
            tower.set(state)
            print(f"lamp test: {state.describe()}", flush=True)
            if state.buzzer and player is not None:
                player.play(beep(config.beep_ms, config.level_dbm0))
                player.play(siren(config.level_dbm0))
            time.sleep(args.step)
        # Leave the tower showing what the alarms say (the service will keep it so).
        active = active_in_store(args.db) or []
        final = indicate(active, config).lamps
        tower.set(final)
        print(f"lamp test done: tower shows {final.describe()} ({len(active)} active alarms)")
    except (TowerError, SoundError) as exc:
        raise QboxError(f"lamp test failed: {exc}") from None
    finally:
        tower.close()
        if player is not None:
            player.drain()
            player.close()
    return 0
