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

from collections.abc import Callable

from appliance.acd.agents import AgentRecord
from appliance.acd.engine import AcdEngine
from appliance.acd.events import AcdEvent
from appliance.acd.recovery import lost_callers
from appliance.acd.stats import AgentTimes, StatsBook
from appliance.store.acd import AcdStore
from appliance.store.db import Store

__all__ = ["SNAPSHOT_S", "attach_store"]

# Every agent's row is written afresh this often (engine clock), so the state changes a
# restart replays (see appliance.store.acd) are at most this old.
SNAPSHOT_S = 60.0


def attach_store(engine: AcdEngine, store: Store, stats: StatsBook | None = None,
                 schedule: Callable[[Callable[[], None]], object] | None = None) -> StatsBook:
    """Restore ``engine`` and ``stats`` from ``store`` and keep recording; returns the
    stats book (a new one for the engine's queues when none is given).

    ``schedule`` (e.g. ``loop.call_soon``) groups commits: the operations of one loop
    iteration are written in one transaction, just after it, instead of one each.
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

    def record(event: AcdEvent) -> None:
        stats.on_event(event)
        pending.append(event)
        agent_id = getattr(event, "agent", None)
        if agent_id in engine.agents:
            agents_touched.add(agent_id)

    def commit() -> None:
        nonlocal next_snapshot
        if not pending:
            return
        touched, agents = stats.take_touched()
        agents |= agents_touched
        settings = {a: engine.agent_settings(a) for a in agents if a in engine.agents}
        changed = [a for a, now in settings.items() if written.get(a) != now]
        interval_rows = [(queue, start, stats.intervals[queue][start]) for queue, start in sorted(touched)]
        acd_store.write(pending, agent_rows(changed), interval_rows)
        written.update((a, settings[a]) for a in changed)     # only once they are written
        pending.clear()
        agents_touched.clear()
        if engine.clock.now() >= next_snapshot:      # after the events its times include
            next_snapshot = engine.clock.now() + SNAPSHOT_S
            snapshot()

    scheduled = False

    def commit_later() -> None:
        nonlocal scheduled
        if not scheduled:
            scheduled = True
            schedule(commit_now)

    def commit_now() -> None:
        nonlocal scheduled
        scheduled = False
        commit()

    # close the last run's callers that its death left open, once (appliance.acd.recovery)
    for event in lost_callers(*acd_store.open_callers(), engine.clock.now(), engine.clock.wall()):
        record(event)
    commit()
    engine.subscribe(record)
    engine.on_flushed(commit if schedule is None else commit_later)
    return stats
