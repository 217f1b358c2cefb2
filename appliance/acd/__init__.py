"""The ACD: queues, agents and skills, strategies, service levels, queue_log, capacity planning.

The engine is a plain Python object with an injected clock and no I/O::

    from appliance.acd import AcdEngine, QueueConfig, AgentConfig, Membership
    engine = AcdEngine(clock, [QueueConfig("sales", strategy="rrmemory")],
                       [AgentConfig("1001", queues=(Membership("sales", penalty=0),))])
    engine.subscribe(callback)             # every event, in order (appliance.acd.events)
    engine.on_flushed(callback)            # after each operation's events were all delivered
    engine.start()                         # EngineStarted (queue_log QUEUESTART)

Callers (``caller_id`` is the call's unique id, queue_log's callid)::

    engine.join("sales", caller_id, callerid="5551234", priority=0,
                min_penalty=None, max_penalty=None, raise_penalty=None)  -> JoinResult(status, position)
    engine.set_priority(caller_id, 5)      engine.key(caller_id, "0") -> left?
    engine.hangup(caller_id)               # abandon while waiting, COMPLETECALLER when talking
    engine.ringing(caller_id, agent_id)    # the agent's phone rings (reserved -> ringing)
    engine.answer(caller_id, agent_id)     # connected (CONNECT)
    engine.decline(caller_id, agent_id)    # busy/refused: RINGNOANSWER, try the next
    engine.agent_hangup(agent_id)          # COMPLETEAGENT;  engine.transfer(caller_id, exten)

Agents::

    engine.agent_login(id)  engine.agent_logout(id)  engine.agent_pause(id, reason, queue=None)
    engine.agent_unpause(id, queue=None)   engine.agent_device(id, "inuse" | "not_inuse" | ...)
    engine.add_member(id, queue, penalty)  engine.remove_member(id, queue)
    engine.set_penalty(id, queue, penalty) engine.restore(records)  # after a restart

Queries: ``agent_status``, ``caller_status``, ``queue_status``, ``waiting``.

What the call service acts on: :class:`~appliance.acd.events.Offer` (ring this agent
for this caller; the engine times the ring out itself and emits RingNoAnswer),
:class:`RingCanceled` (stop ringing), :class:`CallerLeft` with reason "timeout" (send
the caller to ``destination``), "key" or "empty", and :class:`Announcement` (play to
the caller).  Everything else is for records.

Around the engine: :class:`~appliance.acd.stats.StatsBook` (SL, SL2, ASA, AHT, abandon
rate, longest wait, occupancy per 15-minute interval and in total),
:class:`~appliance.acd.queue_log.QueueLogWriter` (Asterisk's queue_log text file),
:func:`~appliance.acd.persistence.attach_store` (SQLite, survives kill -9),
:mod:`~appliance.acd.erlang`, :mod:`~appliance.acd.simulate`, :mod:`~appliance.acd.staffing`.
"""
from appliance.acd.agents import AGENT_STATES, AgentRecord, AgentStatus
from appliance.acd.config import AgentConfig, Membership, PenaltyRule, QueueConfig
from appliance.acd.engine import AcdEngine, JoinResult
from appliance.acd.strategies import STRATEGIES, STRATEGY_NAMES

__all__ = [
    "AcdEngine", "JoinResult", "QueueConfig", "AgentConfig", "Membership", "PenaltyRule",
    "AGENT_STATES", "AgentRecord", "AgentStatus", "STRATEGIES", "STRATEGY_NAMES",
]
