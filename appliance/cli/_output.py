"""Shared output helpers for command modules: JSON views and plain 80-column tables."""
from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Iterable, Sequence
from typing import Any

__all__ = ["add_json_flag", "print_json", "format_table", "format_duration", "format_utc", "clip"]


def add_json_flag(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true", help="print JSON for scripts instead of text")


def print_json(value: Any) -> None:
    json.dump(value, sys.stdout, indent=2, sort_keys=False, default=str)
    sys.stdout.write("\n")


def format_table(headers: Sequence[str], rows: Iterable[Sequence[Any]], width: int | None = None) -> str:
    """Left-aligned plain-text columns (no colour, no box drawing: serial consoles).

    With ``width``, every line is clipped to that many columns (see :func:`clip`), so
    put the column that may grow without bound (digits, reasons) last.
    """
    text_rows = [[str(cell) for cell in row] for row in rows]
    widths = [len(h) for h in headers]
    for row in text_rows:
        for i, cell in enumerate(row):
            widths[i] = max(widths[i], len(cell))
    lines = ["  ".join(h.ljust(w) for h, w in zip(headers, widths)).rstrip()]
    lines += ["  ".join(c.ljust(w) for c, w in zip(row, widths)).rstrip() for row in text_rows]
    if width is not None:
        lines = [clip(line, width) for line in lines]
    return "\n".join(lines)


def clip(text: str, width: int) -> str:
    """``text`` cut to ``width`` columns; a cut line ends in ``~`` so nobody misreads it."""
    return text if len(text) <= width else text[:width - 1] + "~"


def format_duration(seconds: float | None) -> str:
    """``m:ss`` under an hour, ``h:mm:ss`` under a day, then ``Nd hh:mm:ss``; ``-`` for None."""
    if seconds is None:
        return "-"
    total = max(0, int(seconds))
    days, rest = divmod(total, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    if days:
        return f"{days}d {hours:02d}:{minutes:02d}:{secs:02d}"
    if hours:
        return f"{hours}:{minutes:02d}:{secs:02d}"
    return f"{minutes}:{secs:02d}"


def format_utc(wall: float | None) -> str:
    """Epoch seconds as ``YYYY-MM-DD HH:MM:SS`` in UTC (the console's one time zone)."""
    if wall is None:
        return "-"
    return time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(wall))
