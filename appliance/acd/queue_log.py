"""Asterisk's queue_log text file, so existing queue reporting tools read qbox.

One line per record, exactly as app_queue writes them::

    epoch|callid|queuename|agent|EVENT|data1|data2|...

=================  ==========================================  ===================
event              data                                        from
=================  ==========================================  ===================
QUEUESTART         (empty)                                     engine start
ENTERQUEUE         url|callerid|position                       CallerJoined
FULL, JOINEMPTY    (empty)                                     JoinRefused
CONNECT            holdtime|agent call uniqueid|ringtime       Connected
COMPLETECALLER     holdtime|calltime|origposition              CallCompleted
COMPLETEAGENT      holdtime|calltime|origposition              CallCompleted
TRANSFER           extension|context|holdtime|calltime|origpos CallCompleted
ABANDON            position|origposition|waittime             CallerLeft
EXITWITHTIMEOUT    position|origposition|waittime              CallerLeft
EXITEMPTY          position|origposition|waittime              CallerLeft
EXITWITHKEY        key|position|origposition|waittime          CallerLeft
RINGNOANSWER       ringtime in ms                              RingNoAnswer
RINGCANCELED       ringtime in ms (caller hung up meanwhile)   RingCanceled
ADDMEMBER          "PAUSED" or empty                           MemberAdded
REMOVEMEMBER       (empty)                                     MemberRemoved
PAUSE, UNPAUSE     reason                                      AgentPaused
PAUSEALL, ...ALL   (empty), before the per-queue lines         AgentPaused
PENALTY            penalty                                     MemberPenaltyChanged
=================  ==========================================  ===================

Times are whole seconds as Asterisk's are.  The writer appends each line with one
``write(2)`` on an ``O_APPEND`` descriptor, so a ``kill -9`` of the service loses no
line it has written.
"""
from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from appliance.acd import events as ev
from appliance.errors import QboxError

__all__ = ["format_records", "QueueLogWriter", "attach_queue_log", "parse_line"]

_LEFT = {"abandon": "ABANDON", "timeout": "EXITWITHTIMEOUT", "empty": "EXITEMPTY"}
_COMPLETE = {"caller": "COMPLETECALLER", "agent": "COMPLETEAGENT"}


def _s(seconds: float) -> str:
    return str(int(round(seconds)))


def _line(wall: float, callid: str, queue: str, agent: str, event: str, *data: Any) -> str:
    return "|".join([str(int(wall)), callid, queue, agent, event, *(str(d) for d in data)]) + "\n"


def format_records(event: ev.AcdEvent, agent_name: Callable[[str], str] = str) -> list[str]:
    """The queue_log lines for ``event`` (none for events Asterisk does not log)."""
    w = event.wall
    if isinstance(event, ev.CallerJoined):
        return [_line(w, event.caller, event.queue, "NONE", "ENTERQUEUE", "", event.callerid, event.position)]
    if isinstance(event, ev.Connected):
        return [_line(w, event.caller, event.queue, agent_name(event.agent), "CONNECT", _s(event.holdtime),
                      event.agent_call, _s(event.ringtime))]
    if isinstance(event, ev.CallCompleted):
        agent = agent_name(event.agent)
        if event.by == "transfer":
            return [_line(w, event.caller, event.queue, agent, "TRANSFER", event.extension, "",
                          _s(event.holdtime), _s(event.talktime), event.origposition)]
        return [_line(w, event.caller, event.queue, agent, _COMPLETE[event.by], _s(event.holdtime),
                      _s(event.talktime), event.origposition)]
    if isinstance(event, ev.CallerLeft):
        waited = (event.position, event.origposition, _s(event.waited))
        if event.reason == "key":
            return [_line(w, event.caller, event.queue, "NONE", "EXITWITHKEY", event.key, *waited)]
        return [_line(w, event.caller, event.queue, "NONE", _LEFT[event.reason], *waited)]
    if isinstance(event, ev.RingNoAnswer):
        return [_line(w, event.caller, event.queue, agent_name(event.agent), "RINGNOANSWER",
                      int(event.ringtime * 1000))]
    if isinstance(event, ev.RingCanceled):
        if event.reason != "caller_left":
            return []
        return [_line(w, event.caller, event.queue, agent_name(event.agent), "RINGCANCELED",
                      int(event.ringtime * 1000))]
    if isinstance(event, ev.JoinRefused):
        return [_line(w, event.caller, event.queue, "NONE", "FULL" if event.reason == "full" else "JOINEMPTY", "")]
    if isinstance(event, ev.MemberAdded):
        return [_line(w, "MANAGER", event.queue, agent_name(event.agent), "ADDMEMBER",
                      "PAUSED" if event.paused else "")]
    if isinstance(event, ev.MemberRemoved):
        return [_line(w, "MANAGER", event.queue, agent_name(event.agent), "REMOVEMEMBER", "")]
    if isinstance(event, ev.AgentPaused):
        agent = agent_name(event.agent)
        word = "PAUSE" if event.paused else "UNPAUSE"
        lines = [_line(w, "NONE", "NONE", agent, word + "ALL", "")] if not event.queue else []
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


class QueueLogWriter:
    """Appends queue_log lines to ``path``; subscribe :meth:`on_event` to an engine."""

    def __init__(self, path: str | Path, agent_names: Mapping[str, str] | None = None) -> None:
        self.path = Path(path)
        self._names = dict(agent_names or {})
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        except OSError as exc:
            raise QboxError(f"{self.path}: cannot open queue_log: {exc.strerror}") from exc

    def on_event(self, event: ev.AcdEvent) -> None:
        for line in format_records(event, lambda agent: self._names.get(agent, agent)):
            os.write(self._fd, line.encode())

    def close(self) -> None:
        os.close(self._fd)


def attach_queue_log(engine: Any, path: str | Path) -> QueueLogWriter:
    """Write ``engine``'s events to the queue_log at ``path`` (agents by membername)."""
    writer = QueueLogWriter(path, {a.id: a.config.log_name for a in engine.agents.values()})
    engine.subscribe(writer.on_event)
    return writer
