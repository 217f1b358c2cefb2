"""The control API's commands, answered from the running service (docs/control-api.md).

Each handler takes the request's ``args`` dict and returns plain JSON-ready data;
a ``BadInput`` becomes an error answer and changes nothing.
"""
from __future__ import annotations

import time
from collections import Counter
from dataclasses import fields
from typing import TYPE_CHECKING, Any

from appliance import __version__
from appliance.acd.config import validate_acd
from appliance.config import ConfigError, load_config
from appliance.errors import BadInput

if TYPE_CHECKING:
    from appliance.daemon import Service

__all__ = ["ServiceApi", "DChannelTap"]

_SEVERITY_ORDER = ("critical", "major", "minor", "warning", "indeterminate")


class DChannelTap:
    """Given to a span's ISDN stack as its capture: publishes frames while someone listens.

    ``qbox capture dchan N`` subscribes to ``dchan.N``; with no subscriber this costs one
    pattern check per frame.
    """

    def __init__(self, bus, span: int) -> None:
        self.bus = bus
        self.name = f"dchan.{span}"

    def write(self, frame: bytes, outgoing: bool, wall: float) -> None:
        if self.bus.wanted(self.name):
            self.bus.publish(self.name, frame=frame.hex(), outgoing=outgoing, wall=wall)


class ServiceApi:
    def __init__(self, service: "Service") -> None:
        self.service = service

    def handlers(self) -> dict[str, Any]:
        return {
            "status": self.status, "spans": self.spans, "calls": self.calls, "queues": self.queues,
            "agents": self.agents, "agent.login": self.agent_login, "agent.logout": self.agent_logout,
            "agent.pause": self.agent_pause, "agent.unpause": self.agent_unpause,
            "reload": lambda args: self.reload(args.get("config")),
        }

    # -- views -------------------------------------------------------------------------
    def status(self, args: dict) -> dict:
        s = self.service
        states = Counter(c.state for c in s.calls.calls.values())
        agent_states = Counter(s.acd.agent_status(a.id).state for a in s.config.agents)
        queues = [s.acd.queue_status(q.name) for q in s.config.queues]
        waits = [c.waited for q in queues for c in q.callers]
        active = s.alarms.active()
        severities = [a.severity for a in active]
        return {
            "node": s.config.node.name, "version": __version__,
            "started": round(s.started, 3), "uptime_s": round(s.clock.wall() - s.started, 1),
            "spans": self.spans({}),
            "calls": {"active": len(s.calls.calls), "ivr": states["ivr"] + states["setup"],
                      "queued": states["queued"], "ringing": states["ringing"], "talking": states["talking"]},
            "queues": {"waiting": len(waits), "longest_wait_s": round(max(waits, default=0.0), 1)},
            "agents": {"logged_in": sum(n for st, n in agent_states.items() if st != "logged_out"),
                       **{st: agent_states[st] for st in ("available", "ringing", "talking", "wrapup", "paused")}},
            "alarms": {"active": len(active), "unacknowledged": sum(1 for a in active if not a.acknowledged),
                       "highest": next((sev for sev in _SEVERITY_ORDER if sev in severities), None)},
            "counters": {**{name: s.calls.counters[name] for name in
                            ("offered", "answered", "abandoned", "overflowed", "digits_detected")},
                         "cdrs": s.cdrs.committed,          # committed: on disk, not only handed over
                         "recordings": s.calls.counters["recordings"]},
            # the tick's health: a span without its block in a tick is a missed block (a slip)
            "media": {"ticks": s.media.ticks, "missed_blocks": s.media.missed_blocks,
                      "recording_failures": s.media.recording_failures},
            # what a full disk costs: group commits lost whole (Store.commit_pending); the CDRs
            # of lost commits and unwritten queue_log lines wait in memory and are written again
            # once a second, and a full hold drops its oldest (cdrs_dropped, queue_log_lost)
            "store": {"failed_commits": s.store.lost_commits.count, "queue_log_lost": s.queue_log.dropped,
                      "queue_log_waiting": s.queue_log.waiting,
                      "cdrs_waiting": len(s.cdrs.backlog), "cdrs_dropped": s.cdrs.dropped},
            "cpu_s": {"process": round(time.process_time(), 3),
                      **{kind: round(seconds, 3) for kind, seconds in sorted(s.cpu.items())}},
        }

    def spans(self, args: dict) -> list[dict]:
        s = self.service
        legs = (leg for c in s.calls.calls.values()          # agent legs hold a B-channel too
                for leg in (c.trunk, c.agent_leg, c.transfer_leg, *c.ringing.values()))
        busy = Counter(leg.channel.span for leg in legs if leg is not None and leg.channel is not None)
        result = []
        for span in s.config.spans:
            try:
                status = s.backend.span_status(span.number, channels=False)
                alarms, counters = status.alarm_names or ["OK"], status.as_dict()["counters"]
            except OSError:
                alarms, counters = ["NOTOPEN"], {}
            result.append({
                "number": span.number, "role": span.role, "type": span.type.upper(),
                "framing": span.framing.upper(), "coding": span.coding.upper(), "alarms": alarms,
                "counters": counters, "dchannel": "up" if s.stacks[span.number].link_up else "down",
                "channels": len(span.bchannel_positions), "busy": busy[span.number],
            })
        return result

    def calls(self, args: dict) -> list[dict]:
        s = self.service
        rows = s.calls.summaries()
        for row in rows:
            if row["queue"] and row["state"] in ("queued", "ringing"):
                try:
                    row["position"] = s.acd.caller_status(row["id"]).position
                except BadInput:
                    row["position"] = None
        return rows

    def queues(self, args: dict) -> list[dict]:
        s = self.service
        names = [q.name for q in s.config.queues]
        wanted = args.get("name")
        if wanted is not None and wanted not in names:
            raise BadInput(f"unknown queue {wanted!r} (known: {', '.join(names)})")
        result = []
        for queue in s.config.queues:
            if wanted is not None and queue.name != wanted:
                continue
            status = s.acd.queue_status(queue.name)
            total = s.stats.total(queue.name).summary()
            result.append({
                "name": queue.name, "strategy": status.strategy, "waiting": len(status.callers),
                "longest_wait_s": round(max((c.waited for c in status.callers), default=0.0), 1),
                "offered": total["offered"], "answered": total["answered"], "abandoned": total["abandoned"],
                "service_level": total["service_level"], "asa_s": total["asa"], "aht_s": total["aht"],
                "callers": [{"id": c.id, "callerid": s.calls.calls[c.id].calling if c.id in s.calls.calls else "",
                             "position": c.position, "priority": c.priority, "wait_s": round(c.waited, 1)}
                            for c in status.callers],
                "members": [dict(m) for m in status.members],
            })
        return result

    def agents(self, args: dict) -> list[dict]:
        return [self._agent(a.id) for a in self.service.config.agents]

    def _agent(self, agent_id: str) -> dict:
        status = self.service.acd.agent_status(agent_id)
        name = next((a.name for a in self.service.config.agents if a.id == agent_id), "")
        return {"id": status.id, "name": name, "state": status.state, "reason": status.reason,
                "queues": sorted(status.queues), "calls": status.calls, "call": status.caller,
                "paused_in": sorted(q for q, member in status.queues.items() if member["paused"])}

    # -- agent control ------------------------------------------------------------------
    def _agent_id(self, args: dict) -> str:
        agent = args.get("agent")
        if not isinstance(agent, str) or agent not in {a.id for a in self.service.config.agents}:
            raise BadInput(f"unknown agent {agent!r}")
        return agent

    def agent_login(self, args: dict) -> dict:
        agent = self._agent_id(args)
        self.service.acd.agent_login(agent)
        return self._agent(agent)

    def agent_logout(self, args: dict) -> dict:
        agent = self._agent_id(args)
        self.service.acd.agent_logout(agent)
        return self._agent(agent)

    def agent_pause(self, args: dict) -> dict:
        agent = self._agent_id(args)
        self.service.acd.agent_pause(agent, str(args.get("reason", "")), args.get("queue"))
        return self._agent(agent)

    def agent_unpause(self, args: dict) -> dict:
        agent = self._agent_id(args)
        self.service.acd.agent_unpause(agent, args.get("queue"))
        return self._agent(agent)

    # -- reload -------------------------------------------------------------------------
    def reload(self, path: str | None) -> dict:
        """Apply queue settings, IVR, queue-membership and penalty changes without dropping a call.

        A bad file is refused with every error and the running configuration stays.
        Changes that need a restart (spans, the DAHDI device, new or removed queues
        and agents) are refused too, and named.
        """
        s = self.service
        source = path or s.config.source
        try:
            new = load_config(source)
        except ConfigError as exc:
            raise BadInput("configuration refused, the old one keeps running:\n" + "\n".join(exc.lines())) from None
        old = s.config
        needs_restart = []
        if new.spans != old.spans or new.dahdi != old.dahdi or new.fxs != old.fxs:
            needs_restart.append("spans/dahdi/fxs")
        if {q.name for q in new.queues} != {q.name for q in old.queues}:
            needs_restart.append("the set of queues")
        if {a.id for a in new.agents} != {a.id for a in old.agents}:
            needs_restart.append("the set of agents")
        if needs_restart:
            raise BadInput(f"{source}: changes to {', '.join(needs_restart)} need a restart; nothing was applied")
        validate_acd(new.queues, new.agents)
        changes = self._apply_queue_settings(old, new)
        for agent in new.agents:          # before the memberships: run-time removals are kept against it
            s.acd.reconfigure_agent(agent)
        changes += self._apply_memberships(old, new)
        if new.ivr != old.ivr:
            changes.append("ivr")   # calls in the IVR finish on the old menus; new calls get the new
        s.config = new
        s.calls.config = new
        s.bus.publish("config.reloaded", source=source, changes=changes)
        return {"applied": True, "changes": changes}

    def _apply_queue_settings(self, old, new) -> list[str]:
        """Changed settings of each queue, applied live; service-level thresholds count
        from the next 15-minute interval (the current one keeps the thresholds it began with)."""
        s = self.service
        before = {q.name: q for q in old.queues}
        changes = []
        for queue in new.queues:
            previous = before[queue.name]
            changed = [f.name for f in fields(queue) if getattr(queue, f.name) != getattr(previous, f.name)]
            if not changed:
                continue
            s.acd.reconfigure_queue(queue)
            s.stats.thresholds[queue.name] = queue.servicelevel
            changes.append(f"queue {queue.name} {', '.join(changed)}")
        return changes

    def _apply_memberships(self, old, new) -> list[str]:
        acd = self.service.acd
        changes = []
        before = {(a.id, m.queue): m.penalty for a in old.agents for m in a.queues}
        after = {(a.id, m.queue): m.penalty for a in new.agents for m in a.queues}
        for agent, queue in sorted(before.keys() - after.keys()):
            acd.remove_member(agent, queue)
            changes.append(f"agent {agent} left {queue}")
        for (agent, queue), penalty in sorted(after.items()):
            if (agent, queue) not in before:
                acd.add_member(agent, queue, penalty)
                changes.append(f"agent {agent} joined {queue}")
            elif before[(agent, queue)] != penalty:
                acd.set_penalty(agent, queue, penalty)
                changes.append(f"agent {agent} penalty {penalty} in {queue}")
        return changes
