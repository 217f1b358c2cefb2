"""The ACD engine: queues, callers and agents, driven by calls and by its own timers.

No I/O happens here.  Time comes from the injected clock; everything that happens
goes out as an event (:mod:`appliance.acd.events`) to subscribers, who record it
(store, queue_log, stats) or act on it (the call service rings an agent on
:class:`Offer`).  Routing decisions are made by :class:`cython_ext.acdcore.RoutingCore`
the moment something changes: an agent freeing up takes the best waiting caller at
once, a joining caller is offered at once; nothing polls.

Every public method validates its arguments first and raises :class:`BadInput`
without changing anything when they are wrong.  Subscribers may call back into the
engine; such calls run at once and their events are delivered after the current ones.
"""
from __future__ import annotations

import logging
import random
from collections import deque
from collections.abc import Callable, Iterable, Sequence
from typing import Any, NamedTuple, Optional

from appliance.acd import events as ev
from appliance.acd.agents import (
    AUTOPAUSE_REASON, DEVICE_STATES, AgentRecord, AgentRuntime, AgentStatus, MemberRuntime,
)
from appliance.acd.announcements import position_announcement
from appliance.acd.config import AgentConfig, QueueConfig, validate_acd
from appliance.acd.escalation import admits, escalation_rules, starting_window
from appliance.acd.queues import (
    AbandonedRecord, CallerRuntime, CallerStatus, QueueRuntime, QueueStatus, member_present,
)
from appliance.acd.strategies import STRATEGIES
from appliance.errors import BadInput
from cython_ext.acdcore import NO_LIMIT, RoutingCore
from drivers.clock import Clock

__all__ = ["AcdEngine", "JoinResult"]

log = logging.getLogger(__name__)

Subscriber = Callable[[ev.AcdEvent], Any]


class JoinResult(NamedTuple):
    """``status``: "joined", "resumed", "full" (maxlen), "joinempty" (refused), or
    "leaveempty" (joined, then left at once under leavewhenempty); ``position`` is 0
    when the caller was refused."""

    status: str
    position: int


class AcdEngine:
    """All queues and agents of one box.  See the package docstring for the API tour."""

    def __init__(self, clock: Clock, queues: Sequence[QueueConfig], agents: Sequence[AgentConfig],
                 *, seed: int = 0) -> None:
        validate_acd(queues, agents)
        self.clock = clock
        self._core = RoutingCore(seed or 0x9E3779B97F4A7C15)
        self._random = random.Random(seed)
        self._subscribers: list[Subscriber] = []
        self._flushed: list[Callable[[], Any]] = []
        self._outbox: deque[ev.AcdEvent] = deque()
        self._flushing = False
        self._seq = 0
        self.queues: dict[str, QueueRuntime] = {}
        self.agents: dict[str, AgentRuntime] = {}
        self._callers: dict[str, CallerRuntime] = {}
        self._caller_at: dict[int, CallerRuntime] = {}     # core caller id -> caller
        self._agent_at: list[AgentRuntime] = []            # core agent id -> agent
        for config in queues:
            strategy = STRATEGIES[config.canonical_strategy]
            idx = self._core.add_queue(config.weight, strategy.code, config.ringinuse)
            self.queues[config.name] = QueueRuntime(config, idx)
        self._find_leave_queues()
        for config in agents:
            agent = AgentRuntime(config, self._core.add_agent())
            self.agents[config.id] = agent
            self._agent_at.append(agent)
            for membership in config.queues:
                self._attach_member(agent, membership.queue, membership.penalty)

    # ---- subscribers -----------------------------------------------------------------

    def subscribe(self, callback: Subscriber) -> None:
        """Call ``callback(event)`` for every event from now on, in order."""
        self._subscribers.append(callback)

    def unsubscribe(self, callback: Subscriber) -> None:
        self._subscribers.remove(callback)

    def on_flushed(self, callback: Callable[[], Any]) -> None:
        """Call ``callback()`` each time the events of an operation have all been
        delivered (the store commits them there, in one transaction)."""
        self._flushed.append(callback)

    def start(self) -> None:
        """Announce the engine (queue_log QUEUESTART); call once subscribers are in place."""
        self._emit(ev.EngineStarted(self.clock.now(), self.clock.wall()))
        self._flush()

    def _emit(self, event: ev.AcdEvent) -> None:
        self._outbox.append(event)

    def _flush(self) -> None:
        if self._flushing:
            return
        self._flushing = True
        try:
            while self._outbox:
                event = self._outbox.popleft()
                for callback in self._subscribers:
                    try:
                        callback(event)
                    except Exception:  # a broken subscriber must not stop the queues
                        log.exception("event=subscriber_failed kind=%s subscriber=%r", event.kind, callback)
        finally:
            self._flushing = False
        for callback in self._flushed:
            try:
                callback()
            except Exception:
                log.exception("event=flush_callback_failed callback=%r", callback)

    def _later(self, delay: float, fn: Callable[..., Any], *args: Any) -> Any:
        return self.clock.call_later(delay, self._run_timer, fn, args)

    def _run_timer(self, fn: Callable[..., Any], args: tuple) -> None:
        fn(*args)
        self._flush()

    # ---- lookups and validation ------------------------------------------------------

    def _queue(self, name: str) -> QueueRuntime:
        try:
            return self.queues[name]
        except KeyError:
            raise BadInput(f"unknown queue {name!r}") from None

    def _agent(self, agent_id: str) -> AgentRuntime:
        try:
            return self.agents[agent_id]
        except KeyError:
            raise BadInput(f"unknown agent {agent_id!r}") from None

    def _caller(self, caller_id: str) -> CallerRuntime:
        try:
            return self._callers[caller_id]
        except KeyError:
            raise BadInput(f"unknown caller {caller_id!r}") from None

    @staticmethod
    def _check_penalty(name: str, value: Optional[int]) -> None:
        if value is not None and (not isinstance(value, int) or isinstance(value, bool) or value < 0):
            raise BadInput(f"{name} must be a whole number >= 0, not {value!r}")

    # ---- callers -----------------------------------------------------------------------

    def join(self, queue: str, caller_id: str, *, callerid: str = "", priority: int = 0,
             min_penalty: Optional[int] = None, max_penalty: Optional[int] = None,
             raise_penalty: Optional[int] = None) -> JoinResult:
        """Put caller ``caller_id`` (the call's unique id, queue_log's callid) in ``queue``.

        ``callerid`` is the calling number (queue_log ENTERQUEUE, and the key of the
        abandoned-resume window).  Higher ``priority`` goes first.  The penalty window
        limits which agents may take the call; members below ``raise_penalty`` count as
        having it (app_queue's QUEUE_RAISE_PENALTY); escalation rules move all three.
        """
        q = self._queue(queue)
        if not caller_id or "|" in caller_id:
            raise BadInput(f"caller id {caller_id!r} must be non-empty and contain no '|'")
        if caller_id in self._callers:
            raise BadInput(f"caller {caller_id!r} is already queued in {self._callers[caller_id].queue.name!r}")
        if not isinstance(priority, int) or isinstance(priority, bool):
            raise BadInput(f"priority must be a whole number, not {priority!r}")
        self._check_penalty("min_penalty", min_penalty)
        self._check_penalty("max_penalty", max_penalty)
        self._check_penalty("raise_penalty", raise_penalty)
        if min_penalty is not None and max_penalty is not None and min_penalty > max_penalty:
            raise BadInput(f"min_penalty {min_penalty} is above max_penalty {max_penalty}")
        now, wall = self.clock.now(), self.clock.wall()
        config = q.config
        if config.tier_rules_apply:
            penalties = [agent.members[q.name].penalty for agent in q.members.values()]
            low, high = starting_window(config, penalties, NO_LIMIT, min_penalty, max_penalty)
            rules = escalation_rules(config, penalties)
        else:
            low, high = starting_window(config, (), NO_LIMIT, min_penalty, max_penalty)
            rules = q.rules
        if low > high:
            raise BadInput(f"penalty window {low}..{high} is empty (queue {q.name!r} starts callers at "
                           f"min_penalty {config.min_penalty})")
        resumed = self._take_abandoned(q, callerid, now)
        if resumed:
            caller = CallerRuntime(caller_id, q, callerid, resumed.priority, resumed.seq,
                                   resumed.join_time, resumed.join_wall)
            caller.origposition = resumed.origposition
        else:
            self._seq += 1
            caller = CallerRuntime(caller_id, q, callerid, priority, self._seq, now, wall)
        caller.min_penalty, caller.max_penalty, caller.rules = low, high, rules
        caller.raise_penalty = config.raise_penalty if raise_penalty is None else raise_penalty
        self._apply_due_rules(caller, now, emit=False)

        # app_queue's join_queue: joinempty first, then maxlen
        refused = ""
        if q.join_conditions and not self._anyone_present(q, caller, q.join_conditions):
            refused = "joinempty"
        elif config.maxlen and self._core.length(q.idx) >= config.maxlen:
            refused = "full"
        if refused:
            if resumed:  # put the record back: the window is still open
                q.abandoned[callerid] = resumed
            self._emit(ev.JoinRefused(now, wall, q.name, caller_id, callerid, refused))
            self._flush()
            return JoinResult(refused, 0)

        caller.idx = self._core.add_caller(q.idx, caller.priority, caller.seq, caller.min_penalty,
                                           caller.max_penalty, caller.raise_penalty)
        q.callers[caller.idx] = caller
        self._caller_at[caller.idx] = caller
        self._callers[caller_id] = caller
        position = self._core.position(caller.idx)
        if not resumed:
            caller.origposition = position
        self._emit(ev.CallerJoined(now, wall, q.name, caller_id, callerid, caller.priority, position,
                                   caller.join_wall, resumed=resumed is not None,
                                   abandoned_wait=resumed.waited if resumed else 0.0))
        if q.leave_conditions and not self._anyone_present(q, caller, q.leave_conditions):
            self._leave(caller, "empty")       # app_queue's first leavewhenempty check
            self._flush()
            return JoinResult("leaveempty", position)
        waited = now - caller.join_time
        if config.max_wait:
            caller.timers["max_wait"] = self._later(max(0.0, config.max_wait - waited), self._max_wait_reached, caller)
        self._schedule_rule(caller)
        self._try_offer(caller)
        if caller.state != "talking" and caller.id in self._callers:
            self._start_announcements(caller)
        self._flush()
        return JoinResult("resumed" if resumed else "joined", position)

    def _take_abandoned(self, q: QueueRuntime, callerid: str, now: float) -> Optional[AbandonedRecord]:
        if not (q.config.abandoned_resume_allowed and callerid):
            return None
        record = q.abandoned.pop(callerid, None)
        if record is None or now - record.abandoned_at > q.config.discard_abandoned_after:
            return None
        return record

    def set_priority(self, caller_id: str, priority: int) -> int:
        """Change a waiting caller's priority; returns its new position."""
        caller = self._caller(caller_id)
        if not isinstance(priority, int) or isinstance(priority, bool):
            raise BadInput(f"priority must be a whole number, not {priority!r}")
        if caller.state == "talking":
            raise BadInput(f"caller {caller_id!r} is already talking to an agent")
        caller.priority = priority
        self._core.set_priority(caller.idx, priority)
        position = self._core.position(caller.idx)
        self._emit(ev.CallerPriorityChanged(self.clock.now(), self.clock.wall(), caller.queue.name,
                                            caller.id, priority, position))
        self._flush()
        return position

    def key(self, caller_id: str, digit: str) -> bool:
        """The caller pressed ``digit``; True if it is an exit key and the caller left."""
        caller = self._caller(caller_id)
        if len(digit) != 1 or digit not in "0123456789*#":
            raise BadInput(f"{digit!r} is not a DTMF digit")
        if caller.state == "talking" or digit not in caller.queue.config.exit_keys:
            return False
        self._leave(caller, "key", key=digit)
        self._flush()
        return True

    def hangup(self, caller_id: str) -> None:
        """The caller hung up: an abandon while waiting, COMPLETECALLER while talking."""
        caller = self._caller(caller_id)
        if caller.state == "talking":
            self._complete(caller, "caller")
        else:
            self._leave(caller, "abandon")
        self._flush()

    def transfer(self, caller_id: str, extension: str) -> None:
        """The agent transferred the call to ``extension``; the queue call ends."""
        caller = self._caller(caller_id)
        if caller.state != "talking":
            raise BadInput(f"caller {caller_id!r} is not talking to an agent")
        self._complete(caller, "transfer", extension)
        self._flush()

    def ringing(self, caller_id: str, agent_id: str) -> None:
        """The call service reports the agent's phone is ringing (reserved -> ringing)."""
        caller, agent = self._offered(caller_id, agent_id)
        if agent.activity == "reserved":
            self._set_activity(agent, "ringing")
        self._flush()

    def answer(self, caller_id: str, agent_id: str, agent_call: str = "") -> None:
        """``agent_id`` answered the offer of ``caller_id``: they are connected.
        ``agent_call`` is the agent leg's unique id (queue_log CONNECT), if known."""
        caller, agent = self._offered(caller_id, agent_id)
        now, wall = self.clock.now(), self.clock.wall()
        offered_at, timer = caller.offers.pop(agent.id)
        timer.cancel()
        freed = self._cancel_offers(caller, "answered_elsewhere")
        q = caller.queue
        caller.cancel_timers()
        self._unqueue(caller)
        caller.state, caller.agent, caller.answer_time, caller.answer_wall = "talking", agent, now, wall
        holdtime = now - caller.join_time
        q.record_holdtime(holdtime)
        member = agent.members[q.name]
        member.calls += 1
        self._core.count_call(member.idx)
        agent.offer, agent.call, agent.no_answer_streak = None, caller, 0
        self._emit(ev.Connected(now, wall, q.name, caller.id, agent.id, holdtime, now - offered_at,
                                caller.join_wall, agent_call))
        self._set_activity(agent, "talking")
        self._free_all(freed)
        self._flush()

    def decline(self, caller_id: str, agent_id: str) -> None:
        """The agent refused or could not be reached (busy, congestion): try elsewhere."""
        caller, agent = self._offered(caller_id, agent_id)
        self._offer_failed(caller, agent, "declined")
        self._flush()

    def agent_hangup(self, agent_id: str) -> None:
        """The agent hung up the queue call (COMPLETEAGENT)."""
        agent = self._agent(agent_id)
        if agent.call is None:
            raise BadInput(f"agent {agent_id!r} is not on a queue call")
        self._complete(agent.call, "agent")
        self._flush()

    def _offered(self, caller_id: str, agent_id: str) -> tuple[CallerRuntime, AgentRuntime]:
        caller = self._caller(caller_id)
        agent = self._agent(agent_id)
        if agent.id not in caller.offers:
            raise BadInput(f"caller {caller_id!r} is not being offered to agent {agent_id!r}")
        return caller, agent

    # ---- agents ------------------------------------------------------------------------

    def agent_login(self, agent_id: str) -> None:
        """Log the agent in to all its queues (ADDMEMBER each); BadInput if already in."""
        agent = self._agent(agent_id)
        if agent.logged_in:
            raise BadInput(f"agent {agent_id!r} is already logged in")
        now, wall = self.clock.now(), self.clock.wall()
        agent.logged_in = True
        agent.activity = "idle"
        for member in agent.members.values():
            self._emit(ev.MemberAdded(now, wall, member.queue, agent.id, member.penalty, member.paused))
        self._sync(agent, "login")
        self._agent_freed(agent)
        self._flush()

    def agent_logout(self, agent_id: str) -> bool:
        """Log the agent out (REMOVEMEMBER each queue).  On a call, the logout waits for
        the call's end (returns False); otherwise it is immediate (returns True)."""
        agent = self._agent(agent_id)
        if not agent.logged_in:
            raise BadInput(f"agent {agent_id!r} is not logged in")
        if agent.activity == "talking":
            agent.logout_pending = True
            self._sync(agent, "logout pending")
            self._flush()
            return False
        self._logout(agent)
        self._flush()
        return True

    def _logout(self, agent: AgentRuntime) -> None:
        now, wall = self.clock.now(), self.clock.wall()
        if agent.offer is not None:
            caller = agent.offer
            offered_at, timer = caller.offers.pop(agent.id)
            timer.cancel()
            agent.offer = None
            self._emit(ev.RingCanceled(now, wall, caller.queue.name, caller.id, agent.id, now - offered_at, "agent_left"))
            if not caller.offers:
                self._back_to_waiting(caller)
        if agent.wrapup_timer is not None:
            agent.wrapup_timer.cancel()
            agent.wrapup_timer = None
        agent.logged_in = False
        agent.logout_pending = False
        agent.activity = "idle"
        agent.pause_reason = ""
        for member in agent.members.values():
            member.paused, member.pause_reason = False, ""
            self._core.set_member_paused(member.idx, False)
            self._emit(ev.MemberRemoved(now, wall, member.queue, agent.id))
        self._sync(agent, "logout")
        self._check_leave_empty(agent)

    def agent_pause(self, agent_id: str, reason: str = "", queue: Optional[str] = None) -> None:
        """Pause the agent in ``queue``, or in all its queues (on break) when None."""
        agent = self._agent(agent_id)
        members = self._members_for(agent, queue)
        self._pause(agent, members, True, reason, all_queues=queue is None)
        self._flush()

    def agent_unpause(self, agent_id: str, queue: Optional[str] = None) -> None:
        agent = self._agent(agent_id)
        members = self._members_for(agent, queue)
        self._pause(agent, members, False, "", all_queues=queue is None)
        self._agent_freed(agent)
        self._flush()

    def _members_for(self, agent: AgentRuntime, queue: Optional[str]) -> list[MemberRuntime]:
        if not agent.logged_in:
            raise BadInput(f"agent {agent.id!r} is not logged in")
        if queue is None:
            return list(agent.members.values())
        self._queue(queue)
        if queue not in agent.members:
            raise BadInput(f"agent {agent.id!r} is not a member of queue {queue!r}")
        return [agent.members[queue]]

    def _pause(self, agent: AgentRuntime, members: list[MemberRuntime], paused: bool, reason: str,
               *, all_queues: bool) -> None:
        for member in members:
            member.paused, member.pause_reason = paused, reason if paused else ""
            self._core.set_member_paused(member.idx, paused)
        if paused:
            agent.pause_reason = reason
        elif not any(m.paused for m in agent.members.values()):
            agent.pause_reason = ""
        self._emit(ev.AgentPaused(self.clock.now(), self.clock.wall(), agent.id,
                                  "" if all_queues else members[0].queue,
                                  tuple(m.queue for m in members), paused, reason if paused else ""))
        self._sync(agent, reason)
        if paused:
            self._check_leave_empty(agent)

    def agent_device(self, agent_id: str, state: str) -> None:
        """The agent's phone/channel state as the call service sees it (DEVICE_STATES):
        "inuse" outside the ACD skips the agent unless the queue has ringinuse;
        "unavailable" and "invalid" skip it everywhere."""
        agent = self._agent(agent_id)
        if state not in DEVICE_STATES:
            raise BadInput(f"device state {state!r} is not one of {', '.join(DEVICE_STATES)}")
        agent.device = state
        self._sync(agent, f"device {state}")
        self._check_leave_empty(agent)
        self._agent_freed(agent)
        self._flush()

    def add_member(self, agent_id: str, queue: str, penalty: int = 0) -> None:
        """Make the agent a member of ``queue`` (ADDMEMBER if logged in)."""
        agent = self._agent(agent_id)
        q = self._queue(queue)
        self._check_penalty("penalty", penalty)
        if queue in agent.members:
            raise BadInput(f"agent {agent_id!r} is already a member of queue {queue!r}")
        self._attach_member(agent, q.name, penalty)
        now, wall = self.clock.now(), self.clock.wall()
        self._emit(ev.MembershipChanged(now, wall, queue, agent.id, True))
        if agent.logged_in:
            self._emit(ev.MemberAdded(now, wall, queue, agent.id, penalty, False))
        self._sync(agent, "member added")
        self._agent_freed(agent)
        self._flush()

    def reconfigure_queue(self, config: QueueConfig) -> None:
        """Take a queue's new settings (a reload), as app_queue's reload does: strategy,
        weight and ringinuse from the next routing decision, timers and limits from the
        next offer, join or announcement.  Callers already waiting keep the penalty rules
        they joined with; offers already ringing keep their timeout."""
        q = self._queue(config.name)
        self._core.set_queue(q.idx, config.weight, STRATEGIES[config.canonical_strategy].code, config.ringinuse)
        q.configure(config)
        self._find_leave_queues()
        for agent in q.members.values():        # a strategy or ringinuse change may free a hand-out
            self._agent_freed(agent)
        self._flush()

    def _find_leave_queues(self) -> None:
        # leavewhenempty is checked on every member change, so only where configured
        self._leave_queues = {name for name, q in self.queues.items() if q.leave_conditions}

    def reconfigure_agent(self, config: AgentConfig) -> None:
        """Take an agent's new configuration (a reload): its wrap-up time, and the queues
        it lists, against which run-time removals are remembered across restarts.  The
        memberships themselves change through add_member/remove_member/set_penalty."""
        agent = self._agent(config.id)
        before = self._removed(agent)
        agent.config = config
        after = self._removed(agent)
        now, wall = self.clock.now(), self.clock.wall()
        for queue in sorted(before ^ after):      # the store's removal markers follow
            self._emit(ev.MembershipChanged(now, wall, queue, agent.id, queue in agent.members))
        self._flush()

    def remove_member(self, agent_id: str, queue: str) -> None:
        agent = self._agent(agent_id)
        self._queue(queue)
        if queue not in agent.members:
            raise BadInput(f"agent {agent_id!r} is not a member of queue {queue!r}")
        if agent.call is not None and agent.call.queue.name == queue or (
                agent.offer is not None and agent.offer.queue.name == queue):
            raise BadInput(f"agent {agent_id!r} is busy with a call from queue {queue!r}")
        self._detach_member(agent, queue)
        now, wall = self.clock.now(), self.clock.wall()
        self._emit(ev.MembershipChanged(now, wall, queue, agent.id, False))
        if agent.logged_in:
            self._emit(ev.MemberRemoved(now, wall, queue, agent.id))
        self._sync(agent, "member removed")
        self._check_leave_empty(agent, [queue])
        self._flush()

    def set_penalty(self, agent_id: str, queue: str, penalty: int) -> None:
        """Change the agent's penalty (skill level) in ``queue``."""
        agent = self._agent(agent_id)
        self._queue(queue)
        self._check_penalty("penalty", penalty)
        if queue not in agent.members:
            raise BadInput(f"agent {agent_id!r} is not a member of queue {queue!r}")
        member = agent.members[queue]
        member.penalty = penalty
        self._core.set_member(member.idx, penalty, member.paused, member.calls)
        self._emit(ev.MemberPenaltyChanged(self.clock.now(), self.clock.wall(), queue, agent.id, penalty))
        self._check_leave_empty(agent, [queue])
        self._agent_freed(agent)
        self._flush()

    def _attach_member(self, agent: AgentRuntime, queue: str, penalty: int) -> MemberRuntime:
        """The member's order (linear, rrordered) is the agent's place in the configuration,
        which is its core id."""
        q = self.queues[queue]
        member = MemberRuntime(queue, penalty, self._core.add_member(agent.idx, q.idx, penalty, agent.idx))
        agent.members[queue] = member
        q.members[agent.id] = agent
        return member

    def _detach_member(self, agent: AgentRuntime, queue: str) -> None:
        member = agent.members.pop(queue)
        self._core.remove_member(member.idx)
        del self.queues[queue].members[agent.id]

    # ---- restore ------------------------------------------------------------------------

    def restore(self, records: Iterable[AgentRecord]) -> None:
        """Bring back agents' login, pause, penalties and counters after a restart, and
        their memberships: added at run time, or taken out of configured queues
        (``record.removed``; queues added to the configuration meanwhile are kept).

        Call before :meth:`start` and before any caller joins.  Unknown agents and
        queues in ``records`` (configuration changed meanwhile) are skipped with a log.
        """
        if self._callers:
            raise BadInput("restore() must run before callers join")
        now, wall = self.clock.now(), self.clock.wall()
        for record in records:
            agent = self.agents.get(record.id)
            if agent is None:
                log.warning("event=restore_skipped agent=%s reason=not_configured", record.id)
                continue
            for queue, (penalty, paused, reason, calls) in record.members.items():
                if queue not in self.queues:
                    log.warning("event=restore_skipped agent=%s queue=%s reason=not_configured", record.id, queue)
                    continue
                member = agent.members.get(queue) or self._attach_member(agent, queue, penalty)
                member.penalty, member.paused, member.pause_reason, member.calls = penalty, paused, reason, calls
                self._core.set_member(member.idx, penalty, paused, calls)
            for queue in record.removed:
                if queue in agent.members and queue not in record.members:
                    self._detach_member(agent, queue)
            agent.logged_in = record.logged_in
            agent.pause_reason = record.pause_reason
            agent.calls, agent.talk_time = record.calls, record.talk_time
            if record.last_call_end_wall is not None:
                agent.last_call_end = now - (wall - record.last_call_end_wall)
            self._core.set_agent_history(agent.idx, -1e300 if agent.last_call_end is None else agent.last_call_end,
                                         agent.talk_time)
            self._sync(agent, "restored", announce=False)
            agent.state = agent.derive_state()

    def agent_record(self, agent_id: str) -> AgentRecord:
        """What the store keeps of the agent (see :meth:`restore`)."""
        agent = self._agent(agent_id)
        last_end = None
        if agent.last_call_end is not None:
            last_end = self.clock.wall() - (self.clock.now() - agent.last_call_end)
        members = {q: (m.penalty, m.paused, m.pause_reason, m.calls) for q, m in agent.members.items()}
        return AgentRecord(agent.id, agent.logged_in and not agent.logout_pending, agent.pause_reason,
                           agent.calls, agent.talk_time, last_end, members, self._removed(agent))

    def agent_settings(self, agent_id: str) -> tuple:
        """What of :meth:`agent_record` the store rewrites the agent's row for when it
        changes: all of it but the counters (calls, talk time, last call end, calls per
        queue), which the events carry.  Cheaper than the record, so it can be asked on
        every commit."""
        agent = self._agent(agent_id)
        return (agent.logged_in and not agent.logout_pending, agent.pause_reason,
                {q: (m.penalty, m.paused, m.pause_reason) for q, m in agent.members.items()},
                self._removed(agent))

    @staticmethod
    def _removed(agent: AgentRuntime) -> frozenset[str]:
        """The configured queues the agent was taken out of at run time."""
        return frozenset(m.queue for m in agent.config.queues if m.queue not in agent.members)

    # ---- queries ------------------------------------------------------------------------

    def agent_status(self, agent_id: str) -> AgentStatus:
        agent = self._agent(agent_id)
        queues = {name: {"penalty": m.penalty, "paused": m.paused, "reason": m.pause_reason, "calls": m.calls}
                  for name, m in agent.members.items()}
        current = agent.call or agent.offer
        return AgentStatus(agent.id, agent.derive_state(), agent.pause_reason, agent.device, queues,
                           agent.calls, agent.talk_time, current.id if current else None)

    def caller_status(self, caller_id: str) -> CallerStatus:
        caller = self._caller(caller_id)
        position = 0 if caller.state == "talking" else self._core.position(caller.idx)
        agents = (caller.agent.id,) if caller.agent else tuple(caller.offers)
        high = None if caller.max_penalty == NO_LIMIT else caller.max_penalty
        return CallerStatus(caller.id, caller.queue.name, caller.state, position, caller.priority,
                            self.clock.now() - caller.join_time, caller.min_penalty, high, agents,
                            caller.raise_penalty)

    def queue_status(self, queue: str) -> QueueStatus:
        q = self._queue(queue)
        callers = tuple(self.caller_status(q.callers[idx].id) for idx in self._core.callers_of(q.idx))
        members = tuple({"agent": a.id, "penalty": a.members[q.name].penalty, "state": a.derive_state(),
                         "paused": a.members[q.name].paused, "calls": a.members[q.name].calls}
                        for a in q.members.values())
        return QueueStatus(q.name, q.strategy, callers, members, q.holdtime)

    def waiting(self, queue: str) -> list[str]:
        """Caller ids in ``queue`` in service order."""
        q = self._queue(queue)
        return [q.callers[idx].id for idx in self._core.callers_of(q.idx)]

    # ---- routing ------------------------------------------------------------------------

    def _sync(self, agent: AgentRuntime, reason: str = "", announce: bool = True) -> None:
        """Push the agent's routing facts to the core and announce a state change."""
        self._core.set_agent(agent.idx, agent.free, agent.device == "inuse")
        state = agent.derive_state()
        if state != agent.state and announce:
            previous, agent.state = agent.state, state
            self._emit(ev.AgentStateChanged(self.clock.now(), self.clock.wall(), agent.id, state, previous, reason))

    def _set_activity(self, agent: AgentRuntime, activity: str, reason: str = "") -> None:
        agent.activity = activity
        self._sync(agent, reason)
        if activity != "idle" and self._leave_queues:
            self._check_leave_empty(agent)

    def _agent_freed(self, agent: AgentRuntime) -> None:
        """Event-driven hand-out: the agent takes waiting callers until it is busy."""
        core = self._core
        while agent.free:
            idx = core.best_caller(agent.idx)
            if idx < 0:
                return
            caller = self._caller_at[idx]
            self._try_offer(caller)
            if caller.state == "waiting":   # nobody rang after all: do not spin
                return

    def _unqueue(self, caller: CallerRuntime) -> None:
        self._core.remove_caller(caller.idx)
        del caller.queue.callers[caller.idx]
        del self._caller_at[caller.idx]

    def _try_offer(self, caller: CallerRuntime) -> None:
        if caller.state != "waiting":
            return
        agents = self._core.select_agents(caller.idx)
        if not agents:
            return
        by_idx = self._agent_at
        for idx in agents:
            agent = by_idx[idx]
            # a nested hand-out (leavewhenempty) may have changed things meanwhile
            if agent.free and caller.id in self._callers and caller.state in ("waiting", "offered"):
                self._make_offer(caller, agent)
        if caller.queue.strategy == "ring-progressively":
            self._schedule_progressive(caller)

    def _make_offer(self, caller: CallerRuntime, agent: AgentRuntime) -> None:
        q = caller.queue
        now = self.clock.now()
        timer = self._later(q.config.timeout, self._ring_timeout, caller, agent)
        caller.offers[agent.id] = (now, timer)
        if caller.state != "offered":
            caller.state = "offered"
            self._core.set_blocked(caller.idx, True)
        self._core.mark_tried(caller.idx, agent.idx)
        agent.offer = caller
        self._emit(ev.Offer(now, self.clock.wall(), q.name, caller.id, agent.id, q.config.timeout))
        self._set_activity(agent, "reserved")

    def _schedule_progressive(self, caller: CallerRuntime) -> None:
        delay = caller.queue.config.ring_progressively_delay
        caller.timers["progressive"] = self._later(delay, self._ring_next_progressively, caller)

    def _ring_next_progressively(self, caller: CallerRuntime) -> None:
        caller.timers.pop("progressive", None)
        if caller.state != "offered":
            return
        agents = self._core.select_agents(caller.idx)
        busy = set(caller.offers)
        for idx in agents:
            agent = self._agent_at[idx]
            if agent.id not in busy:
                self._make_offer(caller, agent)
        self._schedule_progressive(caller)

    def _ring_timeout(self, caller: CallerRuntime, agent: AgentRuntime) -> None:
        if agent.id in caller.offers:
            self._offer_failed(caller, agent, "timeout")

    def _offer_failed(self, caller: CallerRuntime, agent: AgentRuntime, reason: str) -> None:
        now, wall = self.clock.now(), self.clock.wall()
        offered_at, timer = caller.offers.pop(agent.id)
        timer.cancel()
        agent.offer = None
        q = caller.queue
        self._emit(ev.RingNoAnswer(now, wall, q.name, caller.id, agent.id, now - offered_at, reason))
        agent.no_answer_streak += 1
        config = q.config
        agent.activity = "idle"
        if config.autopause != "no" and agent.no_answer_streak >= config.max_no_answer:
            agent.no_answer_streak = 0
            members = list(agent.members.values()) if config.autopause == "all" else [agent.members[q.name]]
            self._pause(agent, members, True, AUTOPAUSE_REASON, all_queues=config.autopause == "all")
        else:
            self._sync(agent, f"ring {reason}")
        if not caller.offers:
            self._retry_later(caller)
        self._agent_freed(agent)

    def _retry_later(self, caller: CallerRuntime) -> None:
        progressive = caller.timers.pop("progressive", None)
        if progressive is not None:
            progressive.cancel()
        retry = caller.queue.config.retry
        if retry <= 0:
            self._back_to_waiting(caller)
            return
        caller.state = "retry"
        caller.timers["retry"] = self._later(retry, self._retry_done, caller)

    def _retry_done(self, caller: CallerRuntime) -> None:
        caller.timers.pop("retry", None)
        if caller.state == "retry":
            self._back_to_waiting(caller)

    def _back_to_waiting(self, caller: CallerRuntime) -> None:
        progressive = caller.timers.pop("progressive", None)
        if progressive is not None:
            progressive.cancel()
        caller.state = "waiting"
        self._core.set_blocked(caller.idx, False)
        self._try_offer(caller)

    def _cancel_offers(self, caller: CallerRuntime, reason: str) -> list[AgentRuntime]:
        """Stop ringing everyone still ringing for ``caller``; the caller of this method
        hands the returned agents out (:meth:`_free_all`) once its change is complete."""
        if not caller.offers:
            return []
        now, wall = self.clock.now(), self.clock.wall()
        freed = []
        for agent_id, (offered_at, timer) in caller.offers.items():
            timer.cancel()
            agent = self.agents[agent_id]
            agent.offer = None
            agent.activity = "idle"
            self._emit(ev.RingCanceled(now, wall, caller.queue.name, caller.id, agent_id, now - offered_at, reason))
            self._sync(agent, reason)
            freed.append(agent)
        caller.offers.clear()
        return freed

    def _free_all(self, agents: list[AgentRuntime]) -> None:
        for agent in agents:
            self._agent_freed(agent)

    # ---- leaving ------------------------------------------------------------------------

    def _leave(self, caller: CallerRuntime, reason: str, *, key: str = "", destination: str = "") -> None:
        now, wall = self.clock.now(), self.clock.wall()
        q = caller.queue
        position = self._core.position(caller.idx)
        freed = self._cancel_offers(caller, "caller_left")
        caller.cancel_timers()
        self._unqueue(caller)
        del self._callers[caller.id]
        waited = now - caller.join_time
        self._emit(ev.CallerLeft(now, wall, q.name, caller.id, reason, position, caller.origposition, waited,
                                 caller.join_wall, key=key, destination=destination))
        if reason == "abandon" and q.config.abandoned_resume_allowed and caller.callerid:
            q.abandoned[caller.callerid] = AbandonedRecord(
                caller.id, caller.callerid, now, caller.seq, caller.join_time, caller.join_wall,
                caller.origposition, caller.priority, waited)
            self._prune_abandoned(q, now)
        self._free_all(freed)

    @staticmethod
    def _prune_abandoned(q: QueueRuntime, now: float) -> None:
        window = q.config.discard_abandoned_after
        for callerid in [k for k, r in q.abandoned.items() if now - r.abandoned_at > window]:
            del q.abandoned[callerid]

    def _max_wait_reached(self, caller: CallerRuntime) -> None:
        caller.timers.pop("max_wait", None)
        if caller.id in self._callers and caller.state != "talking":
            self._leave(caller, "timeout", destination=caller.queue.config.overflow)

    def _complete(self, caller: CallerRuntime, by: str, extension: str = "") -> None:
        now, wall = self.clock.now(), self.clock.wall()
        agent = caller.agent
        q = caller.queue
        talktime = now - caller.answer_time
        del self._callers[caller.id]
        self._emit(ev.CallCompleted(now, wall, q.name, caller.id, agent.id, by, caller.answer_time - caller.join_time,
                                    talktime, caller.origposition, caller.join_wall, extension, caller.answer_wall))
        agent.call = None
        agent.calls += 1
        agent.talk_time += talktime
        agent.last_call_end = now
        self._core.set_agent_history(agent.idx, now, agent.talk_time)
        if agent.logout_pending:
            self._logout(agent)
            return
        wrapup = agent.config.wrapuptime if agent.config.wrapuptime is not None else q.config.wrapuptime
        if wrapup > 0:
            agent.wrapup_timer = self._later(wrapup, self._wrapup_done, agent)
            self._set_activity(agent, "wrapup")
        else:
            self._set_activity(agent, "idle", "call ended")
            self._agent_freed(agent)

    def _wrapup_done(self, agent: AgentRuntime) -> None:
        agent.wrapup_timer = None
        if agent.activity != "wrapup":
            return
        self._set_activity(agent, "idle", "wrap-up ended")
        self._agent_freed(agent)

    # ---- emptiness ----------------------------------------------------------------------

    def _anyone_present(self, q: QueueRuntime, caller: CallerRuntime, conditions: frozenset[str]) -> bool:
        return any(member_present(agent, agent.members[q.name], conditions, caller.min_penalty, caller.max_penalty,
                                  caller.raise_penalty)
                   for agent in q.members.values())

    def _check_leave_empty(self, agent: AgentRuntime, queues: Optional[Iterable[str]] = None) -> None:
        """leavewhenempty, evaluated when a member changes rather than by polling."""
        if not self._leave_queues:
            return
        for name in (agent.members if queues is None else queues):
            q = self.queues[name]
            if not q.leave_conditions or not q.callers:
                continue
            for caller in list(q.callers.values()):
                self._check_leave_empty_caller(caller)

    # ---- escalation ---------------------------------------------------------------------

    def _apply_due_rules(self, caller: CallerRuntime, now: float, *, emit: bool) -> bool:
        waited = now - caller.join_time
        changed = False
        rules = caller.rules
        while caller.rule_index < len(rules) and (
                rules[caller.rule_index].after <= waited or self._skip_empty_level(caller)):
            rule = rules[caller.rule_index]
            caller.rule_index += 1
            window = (caller.min_penalty, caller.max_penalty, caller.raise_penalty)
            moved = rule.apply(*window, NO_LIMIT)
            if moved != window:
                caller.min_penalty, caller.max_penalty, caller.raise_penalty = moved
                changed = True
        if changed and emit:
            self._core.set_penalty_window(caller.idx, caller.min_penalty, caller.max_penalty, caller.raise_penalty)
            high = None if caller.max_penalty == NO_LIMIT else caller.max_penalty
            self._emit(ev.CallerPenaltyChanged(now, self.clock.wall(), caller.queue.name, caller.id,
                                               caller.min_penalty, high, caller.raise_penalty))
        return changed

    def _skip_empty_level(self, caller: CallerRuntime) -> bool:
        """mod_callcenter's tier_rule_no_agent_no_wait: no staffed member in the window."""
        q = caller.queue
        if not q.config.tier_rule_no_agent_no_wait:
            return False
        return not any(a.logged_in and not a.members[q.name].paused
                       and admits(a.members[q.name].penalty, caller.min_penalty, caller.max_penalty,
                                  caller.raise_penalty)
                       for a in q.members.values())

    def _schedule_rule(self, caller: CallerRuntime) -> None:
        if caller.rule_index < len(caller.rules):
            due = caller.join_time + caller.rules[caller.rule_index].after
            caller.timers["rule"] = self.clock.call_at(due, self._run_timer, self._rule_due, (caller,))

    def _rule_due(self, caller: CallerRuntime) -> None:
        caller.timers.pop("rule", None)
        if caller.id not in self._callers or caller.state == "talking":
            return
        if self._apply_due_rules(caller, self.clock.now(), emit=True):
            self._check_leave_empty_caller(caller)
        self._schedule_rule(caller)
        if caller.id in self._callers:
            self._try_offer(caller)

    def _check_leave_empty_caller(self, caller: CallerRuntime) -> None:
        q = caller.queue
        if q.leave_conditions and caller.state in ("waiting", "retry") and not self._anyone_present(
                q, caller, q.leave_conditions):
            self._leave(caller, "empty")

    # ---- announcements ------------------------------------------------------------------

    def _start_announcements(self, caller: CallerRuntime) -> None:
        config = caller.queue.config
        if config.announce_frequency and (config.announce_position != "no" or config.announce_holdtime != "no"):
            self._announce_position(caller)
        if config.periodic_announce and config.periodic_announce_frequency:
            caller.timers["periodic"] = self._later(config.periodic_announce_frequency, self._announce_periodic, caller)

    def _announce_position(self, caller: CallerRuntime) -> None:
        caller.timers.pop("announce", None)
        if caller.id not in self._callers or caller.state == "talking":
            return
        config = caller.queue.config
        now = self.clock.now()
        position = self._core.position(caller.idx)
        last = caller.last_announce
        due = (last is None or now - last >= config.announce_frequency
               or (position != caller.last_position_said and now - last >= config.min_announce_frequency))
        if due and caller.state == "waiting":
            content = position_announcement(config, position, caller.queue.holdtime, now - caller.join_time,
                                            first=not caller.announced)
            if not content.empty:
                self._emit(ev.Announcement(now, self.clock.wall(), caller.queue.name, caller.id, "position",
                                           *content))
            caller.announced = True
            caller.last_announce, caller.last_position_said = now, position
        step = config.announce_frequency
        if 0 < config.min_announce_frequency < step:
            step = config.min_announce_frequency   # look again for a changed position
        caller.timers["announce"] = self._later(step, self._announce_position, caller)

    def _announce_periodic(self, caller: CallerRuntime) -> None:
        caller.timers.pop("periodic", None)
        if caller.id not in self._callers or caller.state == "talking":
            return
        config = caller.queue.config
        prompts = config.periodic_announce
        if caller.state == "waiting":
            if config.random_periodic_announce:
                prompt = self._random.choice(prompts)
            else:
                prompt = prompts[caller.periodic_index % len(prompts)]
                caller.periodic_index += 1
            self._emit(ev.Announcement(self.clock.now(), self.clock.wall(), caller.queue.name, caller.id,
                                       "periodic", prompt=prompt))
        caller.timers["periodic"] = self._later(config.periodic_announce_frequency, self._announce_periodic, caller)
