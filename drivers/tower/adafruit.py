"""Adafruit 5125 tri-colour USB tower light with buzzer: one byte per command, 9600 baud.

A command byte is ``ACTION << 4 | TARGET`` (Adafruit's published example):

=========  ======  ========================  ======  ================
action     nibble  meaning                   target  nibble
=========  ======  ========================  ======  ================
on         0x1     steady on                 red     0x1
off        0x2     off                       yellow  0x2 (our amber)
blink      0x4     flashing (buzzer: beeps)  green   0x4
                                             buzzer  0x8
=========  ======  ========================  ======  ================

so ``0x11`` is red on, ``0x41`` red flashing, ``0x28`` buzzer off.  The device never
answers, so the driver cannot read the lamps back.
"""
from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import serial

from drivers.tower.interface import LAMPS, Tower, TowerError, TowerState

__all__ = ["AdafruitTower", "encode", "decode_byte", "open_url", "BAUD"]

BAUD = 9600
_ON, _OFF, _BLINK = 0x1, 0x2, 0x4
_TARGETS = {"red": 0x1, "amber": 0x2, "green": 0x4}
_BUZZER = 0x8
_MODE_ACTION = {"on": _ON, "off": _OFF, "flash": _BLINK}
_ACTION_MODE = {action: mode for mode, action in _MODE_ACTION.items()}
_TARGET_LAMP = {target: lamp for lamp, target in _TARGETS.items()}


def encode(previous: TowerState | None, state: TowerState) -> bytes:
    """The command bytes that take the tower from ``previous`` to ``state``.

    Only what changed is sent; ``previous`` None (state unknown) sends every lamp and
    the buzzer.  Silence goes first and sound last, so the tower never sounds with the
    old lamps (an acknowledged alarm's steady lamp, or a new alarm's unlit one).
    """
    lamps = bytearray()
    for lamp in LAMPS:
        mode = state.lamp(lamp)
        if previous is None or previous.lamp(lamp) != mode:
            lamps.append(_MODE_ACTION[mode] << 4 | _TARGETS[lamp])
    if previous is not None and previous.buzzer == state.buzzer:
        return bytes(lamps)
    buzzer = (_ON if state.buzzer else _OFF) << 4 | _BUZZER
    return bytes(lamps) + bytes([buzzer]) if state.buzzer else bytes([buzzer]) + bytes(lamps)


def decode_byte(byte: int, state: TowerState) -> TowerState | None:
    """Apply one received command byte to ``state``; None if it is not a command."""
    action, target = byte >> 4, byte & 0x0F
    if action not in _ACTION_MODE:
        return None
    if target == _BUZZER:
        return TowerState(state.red, state.amber, state.green, action != _OFF)
    lamp = _TARGET_LAMP.get(target)
    if lamp is None:
        return None
    return state.with_lamp(lamp, _ACTION_MODE[action])


class AdafruitTower(Tower):
    """The tower on a serial port (``/dev/ttyUSB0``, or a pty for the emulator)."""

    model = "adafruit-5125"

    def __init__(self, port: str, baud: int = BAUD, *, url: str = "", timeout: float = 1.0) -> None:
        super().__init__()
        self.url = url or f"serial://{port}?baud={baud}"
        try:
            # write_timeout: a wedged USB-serial adapter must not hang the service.
            self._port = serial.Serial(port, baud, timeout=0, write_timeout=timeout)
        except (serial.SerialException, OSError) as exc:
            raise TowerError(f"{self.url}: cannot open tower: {exc}") from exc

    def _send(self, previous: TowerState | None, state: TowerState) -> None:
        data = encode(previous, state)
        if not data:
            return
        try:
            self._port.write(data)
            self._port.flush()  # tcdrain: the bytes have left, not just queued
        except (serial.SerialException, OSError) as exc:
            raise TowerError(f"{self.url}: write failed: {exc}") from exc

    def close(self) -> None:
        self._port.close()


def open_url(url: str, **options) -> AdafruitTower:
    """``serial:///dev/ttyUSB0?baud=9600``."""
    parts = urlsplit(url)
    if not parts.path:
        raise TowerError(f"{url}: no serial device path (serial:///dev/ttyUSB0)")
    query = parse_qs(parts.query)
    try:
        baud = int(query.get("baud", [BAUD])[0])
    except ValueError:
        raise TowerError(f"{url}: baud must be a number") from None
    return AdafruitTower(parts.path, baud, url=url, **options)
