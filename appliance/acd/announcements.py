"""What a waiting caller is told: app_queue's position and hold-time announcement.

The engine decides when (``announce_frequency``, ``min_announce_frequency``,
``periodic_announce_frequency``); this module decides what, as data for the IVR.
"""
from __future__ import annotations

from typing import NamedTuple, Optional

from appliance.acd.config import QueueConfig

__all__ = ["PositionAnnouncement", "position_announcement", "estimated_hold"]


class PositionAnnouncement(NamedTuple):
    position: Optional[int]            # say "you are number N" (1: "you are next")
    more_than: Optional[int]           # say "there are more than N callers ahead"
    holdtime_minutes: Optional[int]
    holdtime_seconds: Optional[int]

    @property
    def empty(self) -> bool:
        return self.position is None and self.more_than is None and self.holdtime_minutes is None


def estimated_hold(holdtime: float, waited: float, rounding: int) -> tuple[int, int]:
    """Remaining hold time as (minutes, seconds).  Without rounding, to the nearest
    minute (app_queue's +30 s); with ``rounding`` seconds, whole minutes plus the
    seconds rounded down to a multiple of ``rounding``.  Never negative (app_queue
    takes an absolute value there, which makes a late caller's estimate grow)."""
    remaining = max(0.0, holdtime - waited)
    if not rounding:
        return int((remaining + 30) // 60), 0
    minutes = int(remaining // 60)
    seconds = int(remaining - 60 * minutes) // rounding * rounding
    return minutes, seconds


def position_announcement(config: QueueConfig, position: int, holdtime: float, waited: float,
                          first: bool) -> PositionAnnouncement:
    """The position/hold-time announcement for a caller at ``position``."""
    say_position = more_than = None
    mode, limit = config.announce_position, config.announce_position_limit
    if mode == "yes" or (mode == "limit" and position <= limit) or (mode == "more" and position <= limit):
        say_position = position
    elif mode == "more":
        more_than = limit
    minutes = seconds = None
    if config.announce_holdtime == "yes" or (config.announce_holdtime == "once" and first):
        m, s = estimated_hold(holdtime, waited, config.announce_round_seconds)
        if m or s:
            minutes, seconds = m, s
    return PositionAnnouncement(say_position, more_than, minutes, seconds)
