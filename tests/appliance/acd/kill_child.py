"""An ACD service for the kill-and-restore tests: runs one scenario against the store,
prints "ready" once its events are committed, then idles until it is killed."""
from __future__ import annotations

import sys
import time

from appliance.acd import AcdEngine, AgentConfig, Membership, QueueConfig
from appliance.acd.persistence import attach_store
from appliance.acd.stats import StatsBook
from appliance.store import Store
from drivers.clock import ManualClock

QUEUES = [QueueConfig("q", servicelevel=(20,)), QueueConfig("r")]
AGENTS = [AgentConfig("a", queues=(Membership("q"), Membership("r", 2))),
          AgentConfig("b", queues=(Membership("q"), Membership("r"))),
          AgentConfig("c", queues=(Membership("q"),))]
EPOCH = 1_767_225_600.0


def build(db_path: str, start: float) -> tuple[AcdEngine, StatsBook]:
    """The service as it starts at ``start`` seconds (wall EPOCH + start) on ``db_path``."""
    clock = ManualClock(start=start, epoch=EPOCH + start)
    engine = AcdEngine(clock, QUEUES, AGENTS)
    stats = attach_store(engine, Store(db_path))
    engine.start()
    return engine, stats


def callers_in_flight(engine: AcdEngine) -> None:
    """c-talk talks to a; c-wait and c-wait2 wait (b is paused, c logged out)."""
    engine.agent_login("a")
    engine.agent_login("b")
    engine.agent_pause("b", "lunch")
    engine.join("q", "c-talk", callerid="5550001")
    engine.clock.advance(3)
    engine.answer("c-talk", "a")
    engine.clock.advance(2)
    engine.join("q", "c-wait", callerid="5550002")
    engine.clock.advance(7)
    engine.join("q", "c-wait2", callerid="5550003")
    engine.clock.advance(4)
    engine.join("r", "c-done")
    engine.hangup("c-done")                 # ended: not lost


def memberships_removed(engine: AcdEngine) -> None:
    """a (logged in) leaves r; c (logged out, so no REMOVEMEMBER) leaves q."""
    engine.agent_login("a")
    engine.remove_member("a", "r")
    engine.remove_member("c", "q")


SCENARIOS = {"callers_in_flight": callers_in_flight, "memberships_removed": memberships_removed}


def main(db_path: str, scenario: str) -> None:
    engine, _ = build(db_path, 0.0)
    SCENARIOS[scenario](engine)
    print("ready", flush=True)
    while True:
        time.sleep(60)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
