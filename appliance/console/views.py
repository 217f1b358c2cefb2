"""Control-API answers as plain text for the console commands (80 columns, no colour).

Each ``render_*`` takes the service's answer (docs/control-api.md) and returns lines;
the small ``*_text`` helpers are the cells ``qbox top`` shares with them.
"""
from __future__ import annotations

from typing import Any

from appliance.cli._output import format_duration, format_table, format_utc

__all__ = ["render_status", "render_spans", "render_calls", "render_queues", "render_agents",
           "agent_sentence", "sort_calls", "partly_paused", "channel_text", "where_text",
           "service_level_text", "span_alarm_text", "WIDTH"]

WIDTH = 80

# The order a supervisor reads calls in: who waits first, then who rings, then the rest.
_CALL_ORDER = {"queued": 0, "ringing": 1, "ivr": 2, "setup": 2, "talking": 3, "clearing": 4}


def render_status(status: dict[str, Any]) -> list[str]:
    calls, queues, agents, alarms, counters = (status[k] for k in ("calls", "queues", "agents", "alarms", "counters"))
    if alarms["active"]:
        alarm_text = (f"{alarms['active']} active ({alarms['unacknowledged']} unacknowledged),"
                      f" highest {alarms['highest']}")
    else:
        alarm_text = "none active"
    lines = [
        f"Node      {status['node']}, qbox {status['version']}, up {format_duration(status['uptime_s'])}"
        f" (since {format_utc(status['started'])} UTC)",
        f"Calls     {calls['active']} active: {calls['ivr']} in IVR, {calls['queued']} queued,"
        f" {calls['ringing']} ringing, {calls['talking']} talking",
        f"Queues    {queues['waiting']} waiting, longest {format_duration(queues['longest_wait_s'])}",
        f"Agents    {agents['logged_in']} logged in: {agents['available']} available, {agents['ringing']} ringing,"
        f" {agents['talking']} talking, {agents['wrapup']} wrap-up, {agents['paused']} paused",
        f"Alarms    {alarm_text}",
        f"Counters  offered {counters['offered']}, answered {counters['answered']},"
        f" abandoned {counters['abandoned']}, overflowed {counters['overflowed']},",
        f"          digits {counters['digits_detected']}, CDRs {counters['cdrs']},"
        f" recordings {counters['recordings']} (since start)",
    ]
    media = status.get("media")          # a service older than the field does not say
    if media is not None:
        lines.append(f"Media     {media['ticks']} ticks, {media['missed_blocks']} blocks missed (since start)")
        if media.get("recording_failures"):
            lines.append(f"          {media['recording_failures']} recordings stopped on a file error (see the log)")
    store = status.get("store", {})
    if store.get("failed_commits") or store.get("queue_log_lost"):
        lines.append(f"Store     {store['failed_commits']} commits and {store['queue_log_lost']} queue_log lines"
                     " lost (disk full?)")
    if store.get("cdrs_waiting") or store.get("cdrs_dropped") or store.get("queue_log_waiting"):
        lines.append(f"          {store['cdrs_waiting']} CDRs and {store.get('queue_log_waiting', 0)} queue_log lines"
                     f" held until the disk has room, {store.get('cdrs_dropped', 0)} CDRs dropped")
    lines.append("")
    return lines + render_spans(status["spans"])


def render_spans(spans: list[dict[str, Any]]) -> list[str]:
    if not spans:
        return ["no spans configured"]
    rows = [(s["number"], s["role"], s["type"], f"{s['framing']}/{s['coding']}", s["dchannel"],
             f"{s['busy']}/{s['channels']}", span_alarm_text(s)) for s in spans]
    return format_table(["SPAN", "ROLE", "TYPE", "LINE", "D-CHAN", "BUSY", "ALARMS"], rows, WIDTH).splitlines()


def render_calls(calls: list[dict[str, Any]]) -> list[str]:
    if not calls:
        return ["no calls"]
    rows = [(c["id"], channel_text(c), c["calling"] or "-", c["called"] or "-", c["state"],
             format_duration(c["duration_s"]), where_text(c), c["agent"] or "-", c["digits"] or "-")
            for c in sort_calls(calls)]
    return format_table(["CALL", "CH", "CALLING", "CALLED", "STATE", "TIME", "WHERE", "AGENT", "DIGITS"],
                        rows, WIDTH).splitlines()


def render_queues(queues: list[dict[str, Any]]) -> list[str]:
    """Asterisk's ``queue show``, as tables: the figures, who waits, who serves."""
    lines: list[str] = []
    for q in queues:
        if lines:
            lines.append("")
        lines.append(f"{q['name']}: {q['strategy']}, {q['waiting']} waiting, longest {format_duration(q['longest_wait_s'])}")
        lines.append(f"  offered {q['offered']}, answered {q['answered']}, abandoned {q['abandoned']};"
                     f" SL {service_level_text(q['service_level'])}; ASA {format_duration(q['asa_s'])},"
                     f" AHT {format_duration(q['aht_s'])}")
        if q["callers"]:
            rows = [(c["position"], c["callerid"] or "-", c["priority"], format_duration(c["wait_s"]), c["id"])
                    for c in q["callers"]]
            table = format_table(["POS", "CALLER", "PRIO", "WAIT", "CALL"], rows, WIDTH - 2)
            lines += ["  " + line for line in table.splitlines()]
        else:
            lines.append("  no callers waiting")
        if q["members"]:
            rows = [(m["agent"], m["penalty"], m["state"], "yes" if m["paused"] else "no", m["calls"])
                    for m in q["members"]]
            table = format_table(["AGENT", "PENALTY", "STATE", "PAUSED", "CALLS"], rows, WIDTH - 2)
            lines += ["  " + line for line in table.splitlines()]
        else:
            lines.append("  no members")
    return lines or ["no queues configured"]


def render_agents(agents: list[dict[str, Any]]) -> list[str]:
    if not agents:
        return ["no agents configured"]
    rows = [(a["id"], a["name"] or "-", a["state"], a["calls"], a["call"] or "-",
             _queues_text(a), a["reason"] or "-") for a in agents]
    return format_table(["AGENT", "NAME", "STATE", "CALLS", "CALL", "QUEUES", "REASON"], rows, WIDTH).splitlines()


def agent_sentence(agent: dict[str, Any]) -> str:
    """One line after an agent command: ``agent 8001 (Li Wei): paused in sales (lunch)``."""
    name = f" ({agent['name']})" if agent["name"] else ""
    text = f"agent {agent['id']}{name}: {agent['state'].replace('_', ' ')}"
    partial = partly_paused(agent)
    if partial:
        text += f", paused in {', '.join(agent['paused_in'])}"
    if agent["reason"] and (agent["state"] == "paused" or partial):
        text += f" ({agent['reason']})"
    return text


# -- cells --------------------------------------------------------------------------------
def sort_calls(calls: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return sorted(calls, key=lambda c: (_CALL_ORDER.get(c["state"], 5), -c["duration_s"], c["id"]))


def channel_text(call: dict[str, Any]) -> str:
    """``span/channel`` on the trunk, ``-`` before a channel is chosen."""
    return f"{call['span']}/{call['channel']}" if call.get("span") is not None else "-"


def where_text(call: dict[str, Any]) -> str:
    """Where the call is: its IVR node, or its queue and place in it."""
    if call["state"] in ("ivr", "setup") and call.get("ivr_node"):
        return f"ivr:{call['ivr_node']}"
    if call.get("queue"):
        position = call.get("position")
        return f"{call['queue']} #{position}" if call["state"] == "queued" and position else call["queue"]
    return "-"


def service_level_text(levels: dict[str, float | None]) -> str:
    """``{"20.0": 0.85}`` as ``85%/20s``; ``-`` for a threshold with no answered call yet."""
    parts = []
    for threshold, level in levels.items():
        seconds = f"{float(threshold):g}s"
        parts.append(f"-/{seconds}" if level is None else f"{level * 100:.0f}%/{seconds}")
    return " ".join(parts) or "-"


def partly_paused(agent: dict[str, Any]) -> bool:
    """Paused in some queues (``agent pause --queue``) while still taking calls from others."""
    return agent["state"] != "paused" and bool(agent.get("paused_in"))


def span_alarm_text(span: dict[str, Any]) -> str:
    return ",".join(span["alarms"]) or "OK"


def _queues_text(agent: dict[str, Any]) -> str:
    paused = set(agent["paused_in"]) if partly_paused(agent) else set()
    return ",".join(f"{q}(paused)" if q in paused else q for q in agent["queues"]) or "-"
