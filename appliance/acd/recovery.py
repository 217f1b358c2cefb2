"""Callers the service lost: waiting (or talking) when it died, and never ended since.

app_queue keeps no callers across a restart and writes nothing for them, but qbox's
records would show such a caller joined and never resolved: in the interval figures it
stays offered and nothing else, in the event table it looks as if still waiting.  At
start-up, before the engine starts, each caller of the last run (since its
``engine_started``) that joined and has no end (``caller_left``, ``call_completed``)
is closed with one :class:`~appliance.acd.events.CallerLost`, kind ``caller_lost``:

* not answered: counted in the interval's ``lost`` (abandoned by the system, apart
  from the callers' own abandons) and in its longest wait, up to ``last_seen``;
* answered: counted in ``lost_in_call`` (talk time unknown, so not in AHT).

The events go to the store in one transaction with the interval rows they change, so
the next start finds nothing open: each lost caller is closed once.
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from appliance.acd import events as ev

__all__ = ["lost_callers"]


def lost_callers(open_callers: Iterable[tuple[Mapping[str, Any], bool]], last_seen: float,
                 time: float, wall: float) -> list[ev.CallerLost]:
    """One CallerLost, stamped ``time``/``wall`` (now), per ``(caller_joined fields,
    answered)`` in ``open_callers``; ``last_seen`` is the wall of the run's last record."""
    return [ev.CallerLost(time, wall, joined["queue"], joined["caller"], answered, joined["join_wall"],
                          last_seen, max(0.0, last_seen - joined["join_wall"]))
            for joined, answered in open_callers]
