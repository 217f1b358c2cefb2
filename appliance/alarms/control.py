"""Alarms on the service's control API and event bus.

:func:`alarm_handlers` gives the commands for :class:`appliance.control.ControlServer`:

- ``alarms`` ``{"all": false}`` -> ``{"alarms": [...]}`` (active; ``all``: cleared too)
- ``alarms.ack`` ``{"id": 3 | "all": true, "by": "anna", "comment": "..."}`` -> ``{"acknowledged": [...]}``
- ``alarms.history`` ``{"since": 1767225600.0}`` -> ``{"history": [...]}``

:class:`EventBusOutput` publishes every change as ``alarm.raised``, ``alarm.changed``,
``alarm.reraised``, ``alarm.cleared``, ``alarm.acknowledged`` or ``alarm.commented``
with the alarm's JSON, so ``subscribe {"events": ["alarm.*"]}`` streams them.  The
JSON shapes are those of ``qbox alarms --json``.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from appliance.alarms.manager import AlarmManager
from appliance.alarms.model import Alarm, AlarmEvent
from appliance.errors import BadInput

__all__ = ["alarm_handlers", "EventBusOutput"]


def _int(args: dict, name: str) -> int:
    value = args.get(name)
    if not isinstance(value, int) or isinstance(value, bool):
        raise BadInput(f"'{name}' must be an alarm id (an integer)")
    return value


def alarm_handlers(manager: AlarmManager) -> dict[str, Callable[[dict[str, Any]], Any]]:
    def list_alarms(args: dict) -> dict:
        alarms = manager.store.all() if args.get("all") else manager.active()
        return {"alarms": [a.as_dict() for a in alarms]}

    def ack(args: dict) -> dict:
        by = args.get("by")
        if not isinstance(by, str) or not by:
            raise BadInput("'by' must name who acknowledges")
        comment = args.get("comment")
        if comment is not None and not isinstance(comment, str):
            raise BadInput("'comment' must be text")
        if args.get("all") is True:
            done = manager.acknowledge_all(by, comment)
        else:
            done = [manager.acknowledge(_int(args, "id"), by, comment)]
        return {"acknowledged": [a.as_dict() for a in done]}

    def history(args: dict) -> dict:
        since = args.get("since")
        if since is not None and (not isinstance(since, (int, float)) or isinstance(since, bool)):
            raise BadInput("'since' must be seconds since the epoch")
        return {"history": [h.as_dict() for h in manager.store.history(since)]}

    return {"alarms": list_alarms, "alarms.ack": ack, "alarms.history": history}


class EventBusOutput:
    """Publishes alarm changes on an :class:`appliance.events.EventBus`."""

    def __init__(self, bus) -> None:
        self.bus = bus

    def update(self, event: AlarmEvent | None, active: Sequence[Alarm]) -> None:
        if event is not None:
            self.bus.publish(f"alarm.{event.kind}", alarm=event.alarm.as_dict(), actor=event.actor,
                             text=event.text)
