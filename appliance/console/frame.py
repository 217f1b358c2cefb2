"""``qbox top``'s screen: a snapshot laid out as exactly 24 lines of at most 80 columns.

Plain text only (a serial console's VT100 is the target).  Three summary lines, then
four tables: spans, queues, agents (a grid, four to a line) and calls (who waits
first).  When the tables need more lines than there are, the lines are shared out so
every table keeps rows, and a cut table ends in ``... N more``.
"""
from __future__ import annotations

import textwrap
import time
from dataclasses import dataclass

from appliance.cli._output import clip, format_duration, format_table
from appliance.console.snapshot import Snapshot
from appliance.console.views import (WIDTH, channel_text, partly_paused, render_spans, service_level_text,
                                     sort_calls, where_text)

__all__ = ["frame", "error_frame", "WIDTH", "HEIGHT"]

HEIGHT = 24
_AGENT_CELL = 20          # "8001   talk    1:23  " -> four agents to a line
_SHORT_STATE = {"available": "avail", "reserved": "resv", "ringing": "ring", "talking": "talk",
                "wrapup": "wrap", "paused": "pause", "logged_out": "out"}


@dataclass
class _Section:
    header: str
    rows: list[str]
    noun: str
    per_row: int = 1            # items on one row (agents share a line)
    lines: int = 0              # rows given to it (after the header)
    items: int = -1             # how many things the rows show (-1: one per row)

    def __post_init__(self) -> None:
        if self.items < 0:
            self.items = len(self.rows)

    def render(self) -> list[str]:
        if len(self.rows) <= self.lines:
            return [self.header] + self.rows
        if self.lines == 0:
            return [self.header]
        shown = self.rows[:self.lines - 1]
        return [self.header] + shown + [f"... {self.items - len(shown) * self.per_row} more {self.noun}"]


def frame(snapshot: Snapshot) -> list[str]:
    """The screen for ``snapshot``: ``HEIGHT`` lines, none longer than ``WIDTH``."""
    lines = _summary(snapshot)
    sections = [_spans(snapshot), _queues(snapshot), _agents(snapshot), _calls(snapshot)]
    _share_out(sections, HEIGHT - len(lines) - len(sections))
    for section in sections:
        lines += section.render()
    return _fit(lines)


def error_frame(message: str) -> list[str]:
    """The screen while the service cannot be reached: ``top`` keeps trying at each repaint."""
    lines = textwrap.wrap(f"qbox top: {message}", WIDTH, break_on_hyphens=False)
    return _fit(lines + ["", "trying again at each repaint; q quits"])


# -- the parts ------------------------------------------------------------------------------
def _summary(snap: Snapshot) -> list[str]:
    status = snap.status
    calls, agents, queues, alarms, counters = (status[k] for k in ("calls", "agents", "queues", "alarms", "counters"))
    if alarms["active"]:
        alarm_text = f"ALARMS {alarms['active']} ({alarms['unacknowledged']} unack) {alarms['highest'] or ''}".rstrip()
    else:
        alarm_text = "no alarms"
    return [
        _spread(f"qbox {status['node']}  {time.strftime('%H:%M:%S', time.gmtime(snap.wall))} UTC"
                f"  up {format_duration(status['uptime_s'])}", alarm_text),
        _spread(f"calls {calls['active']}: ivr {calls['ivr']} queued {calls['queued']} ringing {calls['ringing']}"
                f" talking {calls['talking']}",
                f"waiting {queues['waiting']} longest {format_duration(queues['longest_wait_s'])}"),
        _spread(f"agents {agents['logged_in']} in: avail {agents['available']} ring {agents['ringing']}"
                f" talk {agents['talking']} wrap {agents['wrapup']} paused {agents['paused']}",
                f"answered {counters['answered']} of {counters['offered']}"),
    ]


def _spans(snap: Snapshot) -> _Section:
    table = render_spans(snap.status["spans"])
    return _Section(table[0], table[1:], "spans")


def _queues(snap: Snapshot) -> _Section:
    if not snap.queues:
        return _Section("no queues configured", [], "queues")
    rows = []
    for q in snap.queues:
        logged_in = [m for m in q["members"] if m["state"] != "logged_out"]
        free = sum(1 for m in logged_in if m["state"] == "available" and not m["paused"])
        rows.append((q["name"], q["waiting"], format_duration(q["longest_wait_s"]), q["offered"], q["answered"],
                     q["abandoned"], service_level_text(q["service_level"]), format_duration(q["asa_s"]),
                     f"{free}/{len(logged_in)}"))
    table = format_table(["QUEUE", "WAITING", "LONGEST", "OFFER", "ANSWER", "ABANDON", "SL", "ASA", "FREE/IN"],
                         rows, WIDTH).splitlines()
    return _Section(table[0], table[1:], "queues")


def _agents(snap: Snapshot) -> _Section:
    if not snap.agents:
        return _Section("no agents configured", [], "agents")
    call_time = {c["id"]: c["duration_s"] for c in snap.calls}
    cells = []
    for agent in snap.agents:
        state = _SHORT_STATE.get(agent["state"], agent["state"]) + ("*" if partly_paused(agent) else "")
        on_call = format_duration(call_time[agent["call"]]) if agent["call"] in call_time else ""
        cells.append(_agent_cell(agent["id"], state, on_call))
    per_row = WIDTH // _AGENT_CELL
    rows = ["".join(cells[i:i + per_row]).rstrip() for i in range(0, len(cells), per_row)]
    header = "".join([_agent_cell("AGENT", "STATE", "TIME")] * min(per_row, len(cells))).rstrip()
    return _Section(header, rows, "agents", per_row, items=len(cells))


def _agent_cell(agent: str, state: str, on_call: str) -> str:
    return f"{clip(agent, 6):<6} {state:<6}{on_call:>5}  "


def _calls(snap: Snapshot) -> _Section:
    if not snap.calls:
        return _Section("no calls", [], "calls")
    rows = [(channel_text(c), c["calling"] or "-", c["state"], format_duration(c["duration_s"]), where_text(c),
             c["agent"] or "-", c["digits"] or "-") for c in sort_calls(snap.calls)]
    table = format_table(["CH", "CALLING", "STATE", "TIME", "WHERE", "AGENT", "DIGITS"], rows, WIDTH).splitlines()
    return _Section(table[0], table[1:], "calls")


# -- layout ---------------------------------------------------------------------------------
def _share_out(sections: list[_Section], budget: int) -> None:
    """Give rows one at a time to the table with the fewest so far that still wants more."""
    while budget > 0:
        wanting = [s for s in sections if s.lines < len(s.rows)]
        if not wanting:
            return
        min(wanting, key=lambda s: s.lines).lines += 1
        budget -= 1


def _spread(left: str, right: str) -> str:
    """``left`` and ``right`` on one line, ``right`` flush with column 80 when both fit."""
    gap = WIDTH - len(left) - len(right)
    return left + " " * gap + right if gap >= 2 else clip(f"{left}  {right}", WIDTH)


def _fit(lines: list[str]) -> list[str]:
    lines = [clip(line.rstrip(), WIDTH) for line in lines[:HEIGHT]]
    return lines + [""] * (HEIGHT - len(lines))
