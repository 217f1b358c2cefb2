"""Showing ``qbox top`` on a plain terminal: VT100 cursor moves and cbreak keys, no curses.

A serial console at 9600 baud needs two seconds for a full 80x24 screen, so after
the first paint only the lines that changed are rewritten, each at its own row.
When the output is not a terminal (a pipe, a log, ``TERM=dumb``) every frame is
printed whole, one after another.
"""
from __future__ import annotations

import os
import select
import termios
import tty
from collections.abc import Iterator
from typing import TextIO

__all__ = ["Screen", "Keys", "run_live"]

_CLEAR = "\x1b[H\x1b[2J"
_ERASE_TO_END_OF_LINE = "\x1b[K"


def _at(row: int) -> str:
    return f"\x1b[{row};1H"


class Screen:
    """Paints frames (lists of lines) on ``out``."""

    def __init__(self, out: TextIO, ansi: bool) -> None:
        self.out = out
        self.ansi = ansi
        self._shown: list[str] | None = None

    def paint(self, lines: list[str]) -> None:
        if not self.ansi:
            self.out.write("\n".join(lines) + "\n\n")
        elif self._shown is None or len(self._shown) != len(lines):
            self.out.write(_CLEAR + "".join(_at(row) + line for row, line in enumerate(lines, 1)))
        else:
            self.out.write("".join(_at(row) + line + _ERASE_TO_END_OF_LINE
                                   for row, (old, line) in enumerate(zip(self._shown, lines), 1) if old != line))
        self._shown = list(lines)
        self.out.flush()

    def invalidate(self) -> None:
        """Paint the whole screen next time (the operator pressed a key: line noise, a resize)."""
        self._shown = None

    def close(self) -> None:
        """Leave the cursor on a fresh line below the frame, for the shell prompt."""
        if self.ansi and self._shown is not None:
            self.out.write(_at(len(self._shown)) + "\r\n")
            self.out.flush()


class Keys:
    """Key presses from a terminal in cbreak mode: no echo, no Enter needed; Ctrl-C still interrupts.

    Use as a context manager so the terminal is restored however ``top`` ends.  On
    a stream that is not a terminal, :meth:`wait` only waits.
    """

    def __init__(self, stream: TextIO) -> None:
        self.fd = stream.fileno()
        self.tty = os.isatty(self.fd)
        self._saved: list | None = None

    def __enter__(self) -> "Keys":
        if self.tty:
            self._saved = termios.tcgetattr(self.fd)
            tty.setcbreak(self.fd)
        return self

    def __exit__(self, *exc: object) -> None:
        if self._saved is not None:
            termios.tcsetattr(self.fd, termios.TCSADRAIN, self._saved)
            self._saved = None

    def wait(self, timeout: float) -> str:
        """What was typed within ``timeout`` seconds ('' if nothing); returns at the first key."""
        if not self.tty:
            select.select([], [], [], timeout)
            return ""
        ready, _, _ = select.select([self.fd], [], [], timeout)
        return os.read(self.fd, 64).decode(errors="replace") if ready else ""


def run_live(frames: Iterator[list[str]], screen: Screen, keys: Keys, interval: float) -> int:
    """Paint the next frame every ``interval`` seconds until ``q`` or Ctrl-C; any other key repaints
    the whole screen at once."""
    try:
        with keys:
            for lines in frames:
                screen.paint(lines)
                typed = keys.wait(interval)
                if "q" in typed.lower() or "\x03" in typed:
                    break
                if typed:
                    screen.invalidate()
    except KeyboardInterrupt:
        pass
    finally:
        screen.close()
    return 0
