"""B-channels of one PRI span: which exist, which are free, and which to pick.

Channel numbers are the numbers the Channel identification element carries, which on
a PRI are timeslots: 1-15 and 17-31 on E1 (16 is the D-channel), 1-23 on T1 (24 is).
To make glare (both sides seizing one channel at once) rare, the network side hunts
from the lowest channel up and the user side from the highest down, as switches and
PBXs customarily do.
"""
from __future__ import annotations

from typing import Literal

__all__ = ["SpanType", "B_CHANNELS", "ChannelPool"]

SpanType = Literal["E1", "T1"]

B_CHANNELS: dict[str, tuple[int, ...]] = {
    "E1": tuple(n for n in range(1, 32) if n != 16),
    "T1": tuple(range(1, 24)),
}


class ChannelPool:
    """Free, busy and out-of-service B-channels; ``owner`` is whatever holds one."""

    def __init__(self, span_type: SpanType, hunt_descending: bool) -> None:
        if span_type not in B_CHANNELS:
            raise ValueError(f"span type {span_type!r}: expected E1 or T1")
        self.span_type = span_type
        self.channels = B_CHANNELS[span_type]
        self._hunt = tuple(reversed(self.channels)) if hunt_descending else self.channels
        self._owner: dict[int, object] = {}
        self._out_of_service: set[int] = set()

    def exists(self, channel: int) -> bool:
        return channel in self.channels

    def is_free(self, channel: int) -> bool:
        return channel in self.channels and channel not in self._owner and channel not in self._out_of_service

    def owner(self, channel: int) -> object | None:
        return self._owner.get(channel)

    def pick(self, preferred: int | None = None) -> int | None:
        """``preferred`` if it is free, else the first free channel in hunt order."""
        if preferred is not None and self.is_free(preferred):
            return preferred
        for channel in self._hunt:
            if channel not in self._owner and channel not in self._out_of_service:
                return channel
        return None

    def seize(self, channel: int, owner: object) -> None:
        self._owner[channel] = owner

    def free(self, channel: int | None, owner: object) -> None:
        """Free ``channel`` if ``owner`` still holds it (a glare loser may not)."""
        if channel is not None and self._owner.get(channel) is owner:
            del self._owner[channel]

    def take_out_of_service(self, channels) -> None:
        self._out_of_service.update(c for c in channels if c in self.channels)

    def return_to_service(self, channels) -> None:
        self._out_of_service.difference_update(channels)

    @property
    def busy(self) -> dict[int, object]:
        return dict(self._owner)

    @property
    def out_of_service(self) -> frozenset[int]:
        return frozenset(self._out_of_service)
