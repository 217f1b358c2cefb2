"""The signal-tower contract: what every tower family driver provides.

A tower shows three lamps (red, amber, green), each off, steady or flashing, and
sounds a buzzer.  Flashing is done by the tower itself (every supported family has a
hardware blink mode), so a driver only ever sends the *target* state; nothing above
``drivers/`` times a blink.  A driver is write-mostly: :meth:`Tower.read` returns the
lamps as the device reports them where the protocol can say (Patlite PNS), else None.
"""
from __future__ import annotations

import abc
from dataclasses import asdict, dataclass, replace
from typing import Literal

__all__ = ["LampMode", "LAMPS", "TowerState", "ALL_OFF", "Tower", "TowerError"]

LampMode = Literal["off", "on", "flash"]
LAMPS = ("red", "amber", "green")


class TowerError(OSError):
    """The tower cannot be opened or did not take a command (unplugged, NAK, timeout)."""


@dataclass(frozen=True)
class TowerState:
    """Every lamp and the buzzer: the whole state one command sets."""

    red: LampMode = "off"
    amber: LampMode = "off"
    green: LampMode = "off"
    buzzer: bool = False

    def lamp(self, name: str) -> LampMode:
        return getattr(self, name)

    def with_lamp(self, name: str, mode: LampMode) -> "TowerState":
        if name not in LAMPS:
            raise ValueError(f"no lamp {name!r} (lamps: {', '.join(LAMPS)})")
        return replace(self, **{name: mode})

    def as_dict(self) -> dict:
        return asdict(self)

    def describe(self) -> str:
        """``red=flash amber=off green=off buzzer=on`` (logs, CLI)."""
        lamps = " ".join(f"{name}={self.lamp(name)}" for name in LAMPS)
        return f"{lamps} buzzer={'on' if self.buzzer else 'off'}"


ALL_OFF = TowerState()


class Tower(abc.ABC):
    """One tower, opened from its device URL by :func:`drivers.tower.open_tower`."""

    url: str
    model: str

    def __init__(self) -> None:
        self._written: TowerState | None = None

    @property
    def written(self) -> TowerState | None:
        """The last state the device accepted, or None before the first command."""
        return self._written

    def set(self, state: TowerState) -> None:
        """Drive every lamp and the buzzer to ``state``; TowerError if the device is gone."""
        self._send(self._written, state)
        self._written = state

    def refresh(self, state: TowerState) -> None:
        """Send all of ``state`` again, whatever was written before (supervision: finds a
        device that vanished quietly, and restores one that lost power)."""
        self._written = None
        self.set(state)

    @abc.abstractmethod
    def _send(self, previous: TowerState | None, state: TowerState) -> None:
        """Put the command(s) for ``state`` on the wire (``previous`` None: send all)."""

    def read(self) -> TowerState | None:
        """The state the device reports, or None if its protocol cannot report it."""
        return None

    @abc.abstractmethod
    def close(self) -> None: ...

    def __enter__(self) -> "Tower":
        return self

    def __exit__(self, *exc) -> None:
        self.close()
