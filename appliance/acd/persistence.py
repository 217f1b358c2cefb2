"""Wire an engine to the store: restore what was kept, then record every event.

``attach_store(engine, store)`` must run before ``engine.start()`` and before any caller
joins.  It brings back agents' login and pause state, penalties and counters, and the
service-level intervals, closes the callers the last run left open (kill -9; see
:mod:`appliance.acd.recovery`), then records the events of each engine operation, with
the agent and interval rows they changed, in one transaction once the operation's events
have all been delivered (so disk writes never delay an Offer reaching the call
service).
"""
from __future__ import annotations

import logging

from appliance.acd.agents import AgentRecord
from appliance.acd.engine import AcdEngine
from appliance.acd.events import AcdEvent
from appliance.acd.recovery import lost_callers
from appliance.acd.stats import AgentTimes, StatsBook
from appliance.losses import LossCounter
from appliance.store.acd import AcdStore
from appliance.store.db import Store

__all__ = ["HELD_MAX", "SNAPSHOT_S", "attach_store"]

log = logging.getLogger(__name__)

# Every agent's row is written afresh this often (engine clock), so the state changes a
# restart replays (see appliance.store.acd) are at most this old.
SNAPSHOT_S = 60.0
# Events of lost group commits kept for the next one (a full disk), about 0.5 kB each
HELD_MAX = 200_000


def attach_store(engine: AcdEngine, store: Store, stats: StatsBook | None = None,
                 group_commit: bool = False) -> StatsBook:
    """Restore ``engine`` and ``stats`` from ``store`` and keep recording; returns the
    stats book (a new one for the engine's queues when none is given).

    ``group_commit``: the operations are written in the store's group commit
    (:meth:`Store.submit`, once a media tick in the service) instead of one transaction
    each.  The events of a group commit lost whole (a full disk) go back to be written,
    first and in order, with the next one (at most ``HELD_MAX``; the oldest go first).
    """
    acd_store = AcdStore(store)
    stats = stats or StatsBook.for_engine(engine)
    records, times = acd_store.load_agents()
    engine.restore(records)
    states = {agent_id: agent.derive_state() for agent_id, agent in engine.agents.items()}
    stats.restore(acd_store.load_intervals(stats.thresholds), times, engine.clock.now(), states)

    def agent_rows(agent_ids) -> list[tuple[AgentRecord, AgentTimes]]:
        return [(engine.agent_record(a), stats.agents.setdefault(a, AgentTimes()))
                for a in sorted(agent_ids) if a in engine.agents]

    written: dict[str, tuple] = {}     # agent -> engine.agent_settings() as its row holds them

    def snapshot() -> None:
        acd_store.snapshot_agents(agent_rows(engine.agents), engine.clock.wall())
        written.update((a, engine.agent_settings(a)) for a in engine.agents)

    # the times replayed above, and each agent's state starting now (this run's clock)
    snapshot()
    next_snapshot = engine.clock.now() + SNAPSHOT_S

    pending: list[AcdEvent] = []
    agents_touched: set[str] = set()
    # what the last commit wrote, until it is known committed or lost:
    # (events, interval keys, agents touched, the settings of the agent rows written)
    in_flight: tuple[list[AcdEvent], set[tuple[str, float]], set[str], dict[str, tuple]] | None = None
    dropped = LossCounter(log, "ACD events dropped: more held for a full disk than can be kept",
                          "ACD events written again")

    def record(event: AcdEvent) -> None:
        stats.on_event(event)
        pending.append(event)
        agent_id = getattr(event, "agent", None)
        if agent_id in engine.agents:
            agents_touched.add(agent_id)

    def commit() -> None:
        nonlocal next_snapshot, in_flight
        if not pending:
            return
        touched, agents = stats.take_touched()
        agents |= agents_touched
        settings = {a: engine.agent_settings(a) for a in agents if a in engine.agents}
        changed = [a for a, now in settings.items() if written.get(a) != now]
        interval_rows = [(queue, start, stats.intervals[queue][start]) for queue, start in sorted(touched)]
        acd_store.write(pending, agent_rows(changed), interval_rows)
        in_flight = (list(pending), touched, agents, {a: settings[a] for a in changed})
        pending.clear()
        agents_touched.clear()
        if engine.clock.now() >= next_snapshot:      # after the events its times include
            next_snapshot = engine.clock.now() + SNAPSHOT_S
            snapshot()

    def committed() -> None:
        nonlocal in_flight
        if in_flight is not None:
            written.update(in_flight[3])             # only once they are on disk
            in_flight = None
            dropped.written()

    def lost() -> None:
        nonlocal in_flight
        if in_flight is None:
            return
        events, touched, agents, _ = in_flight
        in_flight = None
        pending[:0] = events                         # before what came since: the ledger keeps its order
        stats.touched |= touched
        agents_touched.update(agents)
        written.clear()           # which rows reached the disk is unknown: each is written when next touched
        if len(pending) > HELD_MAX:
            dropped.lost("the disk is still full", events=len(pending) - HELD_MAX)
            del pending[:len(pending) - HELD_MAX]

    scheduled = False

    def commit_later() -> None:
        nonlocal scheduled
        if not scheduled:
            scheduled = True
            store.submit(commit_now, committed, lost)

    def commit_now() -> None:
        nonlocal scheduled
        scheduled = False
        commit()

    def commit_at_once() -> None:
        commit()                                     # its own transaction: committed if it returns
        committed()

    # close the last run's callers that its death left open, once (appliance.acd.recovery)
    for event in lost_callers(*acd_store.open_callers(), engine.clock.now(), engine.clock.wall()):
        record(event)
    commit_at_once()
    engine.subscribe(record)
    engine.on_flushed(commit_later if group_commit else commit_at_once)
    return stats
