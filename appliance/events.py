"""The service's event bus: parts publish what happened, the control API and stores listen.

Event names are dotted (``call.answered``, ``queue.join``, ``alarm.raised``); a
subscriber names the events it wants with shell-style patterns (``call.*``, ``*``).
Delivery is synchronous and in order; a failing subscriber is logged and skipped, so
one bad listener never stops the call path.
"""
from __future__ import annotations

import fnmatch
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

__all__ = ["Event", "EventBus", "Subscription"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Event:
    name: str
    time: float                      # wall-clock seconds (from the service's clock)
    data: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {"event": self.name, "time": round(self.time, 3), "data": self.data}


@dataclass(eq=False)
class Subscription:
    patterns: tuple[str, ...]
    callback: Callable[[Event], None]

    def wants(self, name: str) -> bool:
        return any(fnmatch.fnmatchcase(name, p) for p in self.patterns)


class EventBus:
    def __init__(self, clock) -> None:
        self.clock = clock
        self._subscriptions: list[Subscription] = []
        self._matching: dict[str, tuple[Subscription, ...]] = {}   # name -> who wants it (cached)
        self.published = 0

    def subscribe(self, patterns: Iterable[str] | str, callback: Callable[[Event], None]) -> Subscription:
        patterns = (patterns,) if isinstance(patterns, str) else tuple(patterns)
        subscription = Subscription(patterns, callback)
        self._subscriptions.append(subscription)
        self._matching.clear()
        return subscription

    def unsubscribe(self, subscription: Subscription) -> None:
        if subscription in self._subscriptions:
            self._subscriptions.remove(subscription)
            self._matching.clear()

    def wanted(self, name: str) -> bool:
        """True if some subscriber would receive an event of this name (a dict look-up:
        publishers ask it before building an event's data)."""
        return bool(self._subscribers(name))

    def publish(self, name: str, **data: Any) -> Event | None:
        """Deliver the event to its subscribers in order; None (and no event built) if nobody wants it."""
        self.published += 1
        subscribers = self._subscribers(name)
        if not subscribers:
            return None
        event = Event(name, self.clock.wall(), data)
        for subscription in subscribers:
            try:
                subscription.callback(event)
            except Exception:
                log.exception("event subscriber failed", extra={"kv": {"event": name}})
        return event

    def _subscribers(self, name: str) -> tuple[Subscription, ...]:
        matching = self._matching.get(name)
        if matching is None:
            matching = self._matching[name] = tuple(s for s in self._subscriptions if s.wants(name))
        return matching
