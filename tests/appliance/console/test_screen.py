"""Painting frames on a terminal (no service needed): only changed rows travel the serial line."""
from __future__ import annotations

import io

from appliance.cli._output import clip, format_duration, format_table
from appliance.console.screen import Screen, run_live


class _Keys:
    """Typed input for run_live: one string per wait."""

    def __init__(self, typed: list[str]) -> None:
        self.typed = typed
        self.waits: list[float] = []

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return None

    def wait(self, timeout: float) -> str:
        self.waits.append(timeout)
        return self.typed.pop(0)


def test_after_the_first_paint_only_changed_rows_are_sent():
    out = io.StringIO()
    screen = Screen(out, ansi=True)
    screen.paint(["top", "a", "b"])
    assert out.getvalue() == "\x1b[H\x1b[2J\x1b[1;1Htop\x1b[2;1Ha\x1b[3;1Hb"
    out.truncate(0), out.seek(0)
    screen.paint(["top", "a", "c"])
    assert out.getvalue() == "\x1b[3;1Hc\x1b[K"
    out.truncate(0), out.seek(0)
    screen.paint(["top", "a", "c"])
    assert out.getvalue() == ""
    screen.invalidate()
    screen.paint(["top", "a", "c"])
    assert out.getvalue().startswith("\x1b[H\x1b[2J")


def test_without_a_terminal_each_frame_is_printed_whole():
    out = io.StringIO()
    screen = Screen(out, ansi=False)
    screen.paint(["one", "two"])
    screen.paint(["one", "three"])
    screen.close()
    assert out.getvalue() == "one\ntwo\n\none\nthree\n\n"


def test_run_live_repaints_until_q_and_any_other_key_repaints_all():
    out = io.StringIO()
    keys = _Keys(["", "x", "Q"])
    frames = iter([["f1"], ["f2"], ["f2"], ["never"]])
    assert run_live(frames, Screen(out, ansi=True), keys, 0.5) == 0
    assert keys.waits == [0.5, 0.5, 0.5]
    assert out.getvalue() == ("\x1b[H\x1b[2J\x1b[1;1Hf1" + "\x1b[1;1Hf2\x1b[K"
                              + "\x1b[H\x1b[2J\x1b[1;1Hf2" + "\x1b[1;1H\r\n")
    assert "never" not in out.getvalue()


def test_text_cells():
    assert [format_duration(s) for s in (None, 0, 59.9, 61, 3600, 90061)] == ["-", "0:00", "0:59", "1:01", "1:00:00",
                                                                            "1d 01:01:01"]
    assert clip("12345", 5) == "12345" and clip("123456", 5) == "1234~"
    assert format_table(["A", "LONG"], [("x", "y" * 20)], width=10).splitlines() == ["A  LONG", "x  yyyyyy~"]
