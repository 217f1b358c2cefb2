"""Patlite LR6-USB and NE-USB signal towers: one 8-byte HID output report per command.

The report is written to the tower's ``/dev/hidraw*`` node, preceded by the report
number 0 as hidraw requires for devices without numbered reports (9 bytes per write).
Layouts, from Patlite's published USB examples:

LR6-USB (USB id 191a:8003), a stacked tower::

    byte 0  command version 0x00      byte 4  red << 4 | yellow
    byte 1  command id 0x00           byte 5  green << 4 | blue
    byte 2  limit << 4 | buzzer       byte 6  white << 4
    byte 3  pitch A << 4 | pitch B    byte 7  0x00

    LED nibble: 0 off, 1 on, 2-5 blink patterns 1-4, 0xF keep.
    buzzer nibble: 0 stop, 1 continuous, 2-5 patterns, 0xF keep; limit 0 = until stopped.
    pitch 0xE / 0xF: the default notes (D7 / none).

NE-USB (USB id 191a:6001), one multi-colour light::

    byte 0, 1  0x00                   byte 4  colour << 4 | LED pattern
    byte 2     count << 4 | pattern   byte 5-7  0x00
    byte 3     volume 0-10

    colour: 0 off, 1 red, 2 green, 3 amber(yellow), 4 blue, 5 purple, 6 cyan, 7 white.
    LED pattern: 0 off, 1 on, 2-7 flash patterns.  Buzzer pattern: 0 off, 1 continuous.

The NE-USB shows one colour at a time, so it shows the most urgent lamp lit.
"""
from __future__ import annotations

import errno
import os
from typing import Literal
from urllib.parse import parse_qs, urlsplit

from drivers.tower.interface import Tower, TowerError, TowerState

__all__ = [
    "PATLITE_VID", "MODELS", "encode_lr6", "decode_lr6", "encode_ne", "decode_ne",
    "PatliteUsbTower", "open_url", "REPORT_SIZE", "WRITE_SIZE",
]

PATLITE_VID = 0x191A
Model = Literal["lr6", "ne"]
MODELS: dict[int, Model] = {0x8003: "lr6", 0x6001: "ne"}  # product id -> family
REPORT_SIZE = 8
WRITE_SIZE = REPORT_SIZE + 1  # hidraw: report number first

_LR6_LED = {"off": 0x0, "on": 0x1, "flash": 0x2}
_LR6_BUZZER_CONTINUOUS = 0x1
_LR6_PITCH_DEFAULT = 0xEF
_KEEP = 0xF

_NE_COLOUR = {"red": 1, "green": 2, "amber": 3}
_NE_LED = {"off": 0, "on": 1, "flash": 2}
_NE_VOLUME = 10
# Most urgent first: the one colour an NE-USB can show.
_NE_PRIORITY = ("red", "amber", "green")


def encode_lr6(state: TowerState) -> bytes:
    """The whole LR6-USB report for ``state`` (blue and white untouched: keep)."""
    buzzer = _LR6_BUZZER_CONTINUOUS if state.buzzer else 0x0
    return bytes([
        0x00, 0x00,
        buzzer,                 # limit 0: sound until told to stop
        _LR6_PITCH_DEFAULT,
        _LR6_LED[state.red] << 4 | _LR6_LED[state.amber],
        _LR6_LED[state.green] << 4 | _KEEP,
        _KEEP << 4,
        0x00,
    ])


def _lr6_mode(nibble: int, current: str) -> str | None:
    if nibble == 0:
        return "off"
    if nibble == 1:
        return "on"
    if 2 <= nibble <= 5:
        return "flash"
    return current  # 6-0xF: keep


def decode_lr6(report: bytes, state: TowerState) -> TowerState | None:
    """Apply one 8-byte LR6-USB report to ``state``; None if it is not a valid report."""
    if len(report) != REPORT_SIZE or report[0] != 0 or report[1] != 0:
        return None
    lamps = {}
    for lamp, nibble in (("red", report[4] >> 4), ("amber", report[4] & 0xF), ("green", report[5] >> 4)):
        lamps[lamp] = _lr6_mode(nibble, state.lamp(lamp))
    buzzer_nibble = report[2] & 0xF
    buzzer = state.buzzer if buzzer_nibble >= 6 else buzzer_nibble != 0
    return TowerState(lamps["red"], lamps["amber"], lamps["green"], buzzer)


def encode_ne(state: TowerState) -> bytes:
    """The NE-USB report for ``state``: the most urgent lit lamp's colour."""
    colour, pattern = 0, 0
    for lamp in _NE_PRIORITY:
        mode = state.lamp(lamp)
        if mode != "off":
            colour, pattern = _NE_COLOUR[lamp], _NE_LED[mode]
            break
    buzzer = 0x01 if state.buzzer else 0x00
    return bytes([0x00, 0x00, buzzer, _NE_VOLUME if state.buzzer else 0, colour << 4 | pattern, 0, 0, 0])


def decode_ne(report: bytes, state: TowerState) -> TowerState | None:
    """The state an NE-USB report shows (one lamp at most); None if not a valid report."""
    if len(report) != REPORT_SIZE or report[0] != 0 or report[1] != 0:
        return None
    colour, pattern = report[4] >> 4, report[4] & 0xF
    if pattern > 7 or colour > 7:
        return None
    shown = TowerState(buzzer=(report[2] & 0xF) != 0)
    lamp = {number: name for name, number in _NE_COLOUR.items()}.get(colour)
    if lamp is not None and pattern:
        shown = shown.with_lamp(lamp, "on" if pattern == 1 else "flash")
    return shown


_ENCODERS = {"lr6": encode_lr6, "ne": encode_ne}


class PatliteUsbTower(Tower):
    """A Patlite USB tower behind a hidraw node (or a FIFO standing in for one)."""

    def __init__(self, path: str, model: Model, *, url: str = "") -> None:
        super().__init__()
        if model not in _ENCODERS:
            raise TowerError(f"{url or path}: unknown Patlite USB model {model!r} (lr6, ne)")
        self.url = url or f"hidraw://{path}?model={model}"
        self.model = f"patlite-{model}-usb"
        self.path = path
        self._encode = _ENCODERS[model]
        try:
            # O_NONBLOCK: a FIFO without a reader fails at once (ENXIO) instead of hanging.
            self._fd = os.open(path, os.O_WRONLY | os.O_NONBLOCK | os.O_CLOEXEC)
        except OSError as exc:
            raise TowerError(f"{self.url}: cannot open {path}: {exc.strerror}") from exc

    def _send(self, previous: TowerState | None, state: TowerState) -> None:
        report = self._encode(state)
        if previous is not None and self._encode(previous) == report:
            return
        try:
            written = os.write(self._fd, b"\x00" + report)
        except OSError as exc:
            raise TowerError(f"{self.url}: write failed: {exc.strerror or errno.errorcode.get(exc.errno)}") from exc
        if written != WRITE_SIZE:
            raise TowerError(f"{self.url}: short write ({written} of {WRITE_SIZE} bytes)")

    def close(self) -> None:
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1


def _parse_usb_id(text: str, url: str) -> tuple[int, int]:
    vid, sep, pid = text.partition(":")
    try:
        if not sep:
            raise ValueError
        return int(vid, 16), int(pid, 16)
    except ValueError:
        raise TowerError(f"{url}: {text!r} is not a USB id like 191a:8003") from None


def open_url(url: str, **options) -> PatliteUsbTower:
    """``hidraw://191a:8003`` (found by USB id) or ``hidraw:///dev/hidraw2?model=lr6``."""
    parts = urlsplit(url)
    query = parse_qs(parts.query)
    model = query.get("model", [None])[0]
    if parts.netloc:
        vid, pid = _parse_usb_id(parts.netloc, url)
        if vid != PATLITE_VID and model is None:
            raise TowerError(f"{url}: {vid:04x}:{pid:04x} is not a Patlite USB id; add ?model=lr6 or ne")
        model = model or MODELS.get(pid)
        if model is None:
            raise TowerError(f"{url}: unknown Patlite product {pid:04x}; add ?model=lr6 or ne")
        from drivers.hotplug import find_devnodes

        nodes = find_devnodes("hidraw", vid=vid, pid=pid)
        if not nodes:
            raise TowerError(f"{url}: no hidraw device with USB id {vid:04x}:{pid:04x} is plugged in")
        return PatliteUsbTower(nodes[0], model, url=url, **options)
    if not parts.path:
        raise TowerError(f"{url}: give a USB id (hidraw://191a:8003) or a path (hidraw:///dev/hidraw0)")
    return PatliteUsbTower(parts.path, model or "lr6", url=url, **options)
