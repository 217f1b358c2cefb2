"""``qbox top``: one frame for scripts (``--once``), and the live view in a real 80x24 tmux pane."""
from __future__ import annotations

import dataclasses
import re
import shutil
import subprocess
import sys
import time

from appliance.console import HEIGHT, WIDTH, Console, frame, take_snapshot
from tests.appliance.console.conftest import row

CALLER = "13800000001"


def _talking(box) -> None:
    ex = box.exchange
    caller = ex.dial(CALLER)
    ex.run_until(lambda: "active" in caller.events)
    ex.run(0.3)
    ex.press(CALLER, "1")
    ex.run_until(lambda: CALLER in ex.agents and "active" in ex.agents[CALLER].events)
    ex.run(1.0)


def _frame_shows(lines: list[str], call_state: str) -> bool:
    try:
        _check_frame(lines, call_state)
    except AssertionError:
        return False          # not yet: the pane may be half repainted
    return True


def _check_frame(lines: list[str], call_state: str) -> None:
    assert len(lines) == HEIGHT and all(len(line) <= WIDTH for line in lines)
    assert re.fullmatch(r"qbox test-box  \d\d:\d\d:\d\d UTC  up \d:\d\d +no alarms", lines[0]) and len(lines[0]) == WIDTH
    assert row(lines, "1")[:6] == ["1", "trunk", "E1", "CCS/HDB3", "up", "1/30"]
    assert row(lines, "2")[:2] == ["2", "agent"]
    assert row(lines, "sales")[:2] == ["sales", "0" if call_state == "talking" else "1"]
    assert row(lines, "overflow")[:2] == ["overflow", "0"]
    agents = row(lines, "8001")
    assert agents[:2] == ["8001", "talk" if call_state == "talking" else "avail"] and "8002" in agents
    assert row(lines, "1/1")[:3] == ["1/1", CALLER, call_state]


def test_top_once_is_one_80x24_frame(box_factory, qbox):
    box = box_factory(agent_answer_after={"8001": 1.0, "8002": 1.0})
    _talking(box)
    once = qbox("top", "--once", "--socket", str(box.socket))
    assert once.status == 0 and once.out.endswith("\n") and once.err == ""
    _check_frame(once.lines, "talking")
    assert once.lines[1].startswith("calls 1: ivr 0 queued 0 ringing 0 talking 1")

    # A crowded branch (60 calls, 20 agents, 4 queues) from the service's real answers: every
    # table keeps rows, cut tables say how much is missing, and the frame still fits.
    with Console(box.socket) as console:
        real = take_snapshot(console)
    crowd = dataclasses.replace(
        real,
        calls=[dict(real.calls[0], id=f"c{i}", calling=f"1380000{i:04d}", duration_s=float(i)) for i in range(60)],
        agents=[dict(real.agents[0], id=f"{8001 + i}", call=None) for i in range(20)],
        queues=[dict(real.queues[0], name=f"q{i}") for i in range(4)])
    lines = frame(crowd)
    assert len(lines) == HEIGHT and all(len(line) <= WIDTH for line in lines)
    more_calls = int(re.fullmatch(r"\.\.\. (\d+) more calls", lines[-1]).group(1))
    shown_calls = [line for line in lines if line.startswith("1/1 ")]
    assert len(shown_calls) + more_calls == 60
    assert shown_calls[0].split()[1] == "13800000059"          # the longest call first
    assert [line.split()[0] for line in lines if re.match(r"q\d ", line)] == ["q0", "q1", "q2", "q3"]
    agent_cells = [cell for line in lines for cell in re.findall(r"\b(8\d{3}) +(?:avail|talk)\b", line)]
    more_agents = [int(m.group(1)) for line in lines if (m := re.fullmatch(r"\.\.\. (\d+) more agents", line))]
    assert len(agent_cells) + sum(more_agents) == 20


def _tmux(server, *args: str) -> str:
    return subprocess.run(["tmux", "-S", str(server), *args], check=True, capture_output=True, text=True,
                          timeout=30).stdout


def _pane(server, target: str) -> list[str]:
    lines = [line.rstrip() for line in _tmux(server, "capture-pane", "-p", "-t", target).split("\n")[:HEIGHT]]
    return lines + [""] * (HEIGHT - len(lines))


def _wait_for_pane(server, target: str, predicate, tick) -> list[str]:
    """Call ``tick`` (step the line, or sleep) until the pane shows what ``predicate`` wants."""
    for _ in range(3000):                 # top repaints every second; this allows a minute or more
        lines = _pane(server, target)
        if predicate(lines):
            return lines
        tick()
    raise AssertionError("the pane never showed it; it shows:\n" + "\n".join(lines))


def _frame_shows(call_state: str):
    def check(lines: list[str]) -> bool:
        try:
            _check_frame(lines, call_state)
        except AssertionError:
            return False          # not yet: the pane may be half repainted
        return True

    return check


def _calls_gone(lines: list[str]) -> bool:
    """The calls table says "no calls" and the rows below it are wiped."""
    return "no calls" in lines and not any(lines[lines.index("no calls") + 1:])


def _text(lines: list[str]) -> str:
    """The pane's words as one line (tmux wraps nothing: the frame wraps its own long lines)."""
    return " ".join(line for line in lines if line)


def _ended(lines: list[str]) -> bool:
    return any(line.startswith("top ended: ") for line in lines)


# The pane runs top under this small parent, which reports how top ended.  (tmux's own
# #{pane_dead_status} can lag far behind the process's end.)  A Python handler, unlike
# SIG_IGN, is reset by exec, so Ctrl-C still reaches top.
_REPORTER = """
import signal, subprocess, sys
signal.signal(signal.SIGINT, lambda *_: None)
print(f"top ended: {subprocess.call(sys.argv[1:])}", flush=True)
"""


def test_top_live_in_an_80x24_tmux_pane(box_factory, tmp_path):
    assert shutil.which("tmux"), "tmux is in the Makefile's APT_TEST list"
    box = box_factory(agent_answer_after={"8001": 1.0, "8002": 1.0})
    _talking(box)
    step = box.exchange.step
    server, reporter = tmp_path / "tmux.sock", tmp_path / "report.py"
    reporter.write_text(_REPORTER)
    command = f"{sys.executable} {reporter} {sys.executable} -m appliance.cli top --socket {box.socket}"
    _tmux(server, "-f", "/dev/null", "new-session", "-d", "-x", "80", "-y", "24", "-s", "noc", "-n", "first",
          command)
    try:
        _tmux(server, "set-option", "-t", "noc:first", "remain-on-exit", "on")
        _wait_for_pane(server, "noc:first", _frame_shows("talking"), step)

        # Live: the caller hangs up and a later repaint shows the box empty again.
        box.exchange.hang_up(box.exchange.callers[CALLER])
        lines = _wait_for_pane(server, "noc:first", _calls_gone, step)
        assert lines[1].startswith("calls 0: ivr 0 queued 0 ringing 0 talking 0")
        assert row(lines, "8001")[1] != "talk" and row(lines, "sales")[:2] == ["sales", "0"]

        # Ctrl-C ends a second top cleanly.
        _tmux(server, "new-window", "-t", "noc", "-n", "again", command)
        _tmux(server, "set-option", "-t", "noc:again", "remain-on-exit", "on")
        _wait_for_pane(server, "noc:again", _calls_gone, step)
        _tmux(server, "send-keys", "-t", "noc:again", "C-c")
        lines = _wait_for_pane(server, "noc:again", _ended, step)
        assert "top ended: 0" in lines, "\n".join(lines)

        # The service dies: the first top says so and keeps trying; q ends it.
        box.kill()
        lines = _wait_for_pane(server, "noc:first", lambda lines: "Connection refused" in _text(lines),
                               lambda: time.sleep(0.02))   # first "lost the ... service", then this
        expected = (f"qbox top: cannot reach the qbox service at {box.socket}: Connection refused"
                    " (is `qbox run` running?) trying again at each repaint; q quits")
        assert re.sub(r"\s", "", _text(lines)) == re.sub(r"\s", "", expected)    # a long path may be cut
        _tmux(server, "send-keys", "-t", "noc:first", "q")
        lines = _wait_for_pane(server, "noc:first", _ended, lambda: time.sleep(0.02))
        assert "top ended: 0" in lines, "\n".join(lines)
    finally:
        subprocess.run(["tmux", "-S", str(server), "kill-server"], capture_output=True, timeout=30)
