"""Asterisk's queue_log text file, so existing queue reporting tools read qbox.

One line per record, with the fields app_queue.c's ``ast_queue_log`` calls write
(Asterisk 13 to 22)::

    epoch|callid|queuename|agent|EVENT|data1|data2|...

=================  =============================================  ===================
event              data                                           from
=================  =============================================  ===================
QUEUESTART         (empty)                                        engine start
ENTERQUEUE         url|callerid|position                          CallerJoined
FULL, JOINEMPTY    (empty); see below                             JoinRefused
CONNECT            holdtime|agent call uniqueid|ringtime          Connected
COMPLETECALLER     holdtime|calltime|origposition                 CallCompleted
COMPLETEAGENT      holdtime|calltime|origposition                 CallCompleted
BLINDTRANSFER      extension|context|holdtime|calltime|origpos    CallCompleted
ABANDON            position|origposition|waittime                 CallerLeft
EXITWITHTIMEOUT    position|origposition|waittime                 CallerLeft
EXITEMPTY          position|origposition|waittime                 CallerLeft
EXITWITHKEY        key|position|origposition|waittime             CallerLeft
RINGNOANSWER       ringtime in ms                                 RingNoAnswer
RINGCANCELED       ringtime in ms (caller hung up meanwhile)      RingCanceled
ADDMEMBER          "PAUSED" or empty                              MemberAdded
REMOVEMEMBER       (empty)                                        MemberRemoved
PAUSEALL, ...ALL   reason, before the per-queue lines             AgentPaused
PAUSE, UNPAUSE     reason                                         AgentPaused
PENALTY            penalty                                        MemberPenaltyChanged
=================  =============================================  ===================

Times are whole seconds as Asterisk's are: a wait or hold time is the difference of
two whole epoch seconds (``time(NULL) - qe->start``), CONNECT's ringtime is whole
seconds cut down from milliseconds.  The transfer is Asterisk 12+'s BLINDTRANSFER
(1.x wrote TRANSFER with the same fields); qbox has no dialplan context, so that
field is empty.

app_queue itself logs nothing when a caller is refused (it only sets QUEUESTATUS to
FULL or JOINEMPTY; JOINUNAVAIL is never produced since Asterisk 1.6).  Reporting
setups (Wazo/XiVO, FreePBX) add the line from the dialplan with
``QueueLog(queue,${UNIQUEID},NONE,FULL)``, which writes ``...|NONE|FULL|``: qbox has
no dialplan, so it writes that line itself.  The agent column is the membername
everywhere, also for PENALTY (where app_queue writes the interface).

The writer appends each event's lines with one ``write(2)`` on an ``O_APPEND``
descriptor, so a ``kill -9`` of the service loses no line it has written.  Lines that
cannot be written (a full disk) are held in memory and written once there is room
(see :class:`QueueLogWriter`).
"""
from __future__ import annotations

import logging
import os
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from appliance.acd import events as ev
from appliance.errors import QboxError
from appliance.losses import LossCounter

__all__ = ["format_records", "QueueLogWriter", "attach_queue_log", "parse_line"]

log = logging.getLogger(__name__)

_LEFT = {"abandon": "ABANDON", "timeout": "EXITWITHTIMEOUT", "empty": "EXITEMPTY"}
_COMPLETE = {"caller": "COMPLETECALLER", "agent": "COMPLETEAGENT"}
_REFUSED = {"full": "FULL", "joinempty": "JOINEMPTY"}


def _since(start_wall: float, end_wall: float) -> int:
    """Seconds between two walls as app_queue counts them: whole time_t minus time_t."""
    return int(end_wall) - int(start_wall)


def _ms(seconds: float) -> int:
    """Whole milliseconds, cut down as ast_tvdiff_ms does (after rounding away float noise)."""
    return round(seconds * 1_000_000) // 1000


def _line(wall: float, callid: str, queue: str, agent: str, event: str, *data: Any) -> str:
    return "|".join([str(int(wall)), callid, queue, agent, event, *(str(d) for d in data)]) + "\n"


def format_records(event: ev.AcdEvent, agent_name: Callable[[str], str] = str) -> list[str]:
    """The queue_log lines for ``event`` (none for events Asterisk does not log)."""
    w = event.wall
    if isinstance(event, ev.CallerJoined):
        return [_line(w, event.caller, event.queue, "NONE", "ENTERQUEUE", "", event.callerid, event.position)]
    if isinstance(event, ev.Connected):
        return [_line(w, event.caller, event.queue, agent_name(event.agent), "CONNECT", _since(event.join_wall, w),
                      event.agent_call, _ms(event.ringtime) // 1000)]
    if isinstance(event, ev.CallCompleted):
        agent = agent_name(event.agent)
        times = (_since(event.join_wall, event.answer_wall), _since(event.answer_wall, w), event.origposition)
        if event.by == "transfer":
            return [_line(w, event.caller, event.queue, agent, "BLINDTRANSFER", event.extension, "", *times)]
        return [_line(w, event.caller, event.queue, agent, _COMPLETE[event.by], *times)]
    if isinstance(event, ev.CallerLeft):
        waited = (event.position, event.origposition, _since(event.join_wall, w))
        if event.reason == "key":
            return [_line(w, event.caller, event.queue, "NONE", "EXITWITHKEY", event.key, *waited)]
        return [_line(w, event.caller, event.queue, "NONE", _LEFT[event.reason], *waited)]
    if isinstance(event, ev.RingNoAnswer):
        return [_line(w, event.caller, event.queue, agent_name(event.agent), "RINGNOANSWER",
                      _ms(event.ringtime))]
    if isinstance(event, ev.RingCanceled):
        if event.reason != "caller_left":
            return []
        return [_line(w, event.caller, event.queue, agent_name(event.agent), "RINGCANCELED",
                      _ms(event.ringtime))]
    if isinstance(event, ev.JoinRefused):
        return [_line(w, event.caller, event.queue, "NONE", _REFUSED[event.reason], "")]
    if isinstance(event, ev.MemberAdded):
        return [_line(w, "MANAGER", event.queue, agent_name(event.agent), "ADDMEMBER",
                      "PAUSED" if event.paused else "")]
    if isinstance(event, ev.MemberRemoved):
        return [_line(w, "MANAGER", event.queue, agent_name(event.agent), "REMOVEMEMBER", "")]
    if isinstance(event, ev.AgentPaused):
        agent = agent_name(event.agent)
        word = "PAUSE" if event.paused else "UNPAUSE"
        lines = [_line(w, "NONE", "NONE", agent, word + "ALL", event.reason)] if not event.queue else []
        return lines + [_line(w, "NONE", q, agent, word, event.reason) for q in event.queues]
    if isinstance(event, ev.MemberPenaltyChanged):
        return [_line(w, "NONE", event.queue, agent_name(event.agent), "PENALTY", event.penalty)]
    if isinstance(event, ev.EngineStarted):
        return [_line(w, "NONE", "NONE", "NONE", "QUEUESTART", "")]
    return []


def parse_line(line: str) -> dict[str, Any]:
    """One queue_log line as reporting tools split it (for tests and tools)."""
    parts = line.rstrip("\n").split("|")
    if len(parts) < 5:
        raise ValueError(f"not a queue_log line: {line!r}")
    return {"time": int(parts[0]), "callid": parts[1], "queue": parts[2], "agent": parts[3],
            "event": parts[4], "data": parts[5:]}


# queue_log lines held while they cannot be written (a full disk): about 100 bytes each
HELD_MAX = 100_000


class QueueLogWriter:
    """Appends queue_log lines to ``path``; subscribe :meth:`on_event` to an engine.

    An event's lines go out in one write.  Lines that cannot be written (a full disk)
    are held, in order, and written before the next ones or at :meth:`flush` (the
    service calls it once a second); past ``HELD_MAX`` lines the oldest are dropped
    and counted in :attr:`dropped`.
    """

    def __init__(self, path: str | Path, agent_names: Mapping[str, str] | None = None) -> None:
        self.path = Path(path)
        self._names = dict(agent_names or {})
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        except OSError as exc:
            raise QboxError(f"{self.path}: cannot open queue_log: {exc.strerror}") from exc
        self.failures = LossCounter(log, "queue_log cannot be written; its lines are held",
                                    "queue_log written again", path=str(self.path))
        self.held = bytearray()      # lines not written yet (the first may be part written)
        self.waiting = 0             # the lines in held, counted as they come and go (held may be megabytes)
        self.dropped = 0             # lines dropped from a full hold: lost for good

    def on_event(self, event: ev.AcdEvent) -> None:
        lines = format_records(event, lambda agent: self._names.get(agent, agent))
        if lines:
            self.held += "".join(lines).encode()
            self.waiting += len(lines)
            self.flush()

    def flush(self) -> None:
        """Write what is held; what cannot be written waits for the next try."""
        if not self.held:
            return
        try:
            written = os.write(self._fd, self.held)
        except OSError as exc:
            self.failures.lost(exc.strerror)
            self._drop_oldest()
            return
        self.waiting -= self.held.count(b"\n", 0, written)
        del self.held[:written]     # a short write (the disk just filled) leaves the rest held
        if not self.held:
            self.failures.written()

    def _drop_oldest(self) -> None:
        excess = self.waiting - HELD_MAX
        if excess > 0:
            cut = 0
            for _ in range(excess):
                cut = self.held.index(b"\n", cut) + 1
            del self.held[:cut]
            self.waiting -= excess
            self.dropped += excess

    def close(self) -> None:
        os.close(self._fd)


def attach_queue_log(engine: Any, path: str | Path) -> QueueLogWriter:
    """Write ``engine``'s events to the queue_log at ``path`` (agents by membername)."""
    writer = QueueLogWriter(path, {a.id: a.config.log_name for a in engine.agents.values()})
    engine.subscribe(writer.on_event)
    return writer
