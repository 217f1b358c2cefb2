"""A small ACD service for the kill -9 test: runs call cycles forever and prints the
number of each finished cycle once its events are committed."""
from __future__ import annotations

import sys

from appliance.acd import AcdEngine, AgentConfig, Membership, QueueConfig
from appliance.acd.persistence import attach_store
from appliance.acd.queue_log import attach_queue_log
from appliance.store import Store
from drivers.clock import ManualClock

QUEUES = [QueueConfig("q", wrapuptime=2, servicelevel=(20, 60))]
AGENTS = [AgentConfig(i, queues=(Membership("q"),)) for i in ("a", "b", "c")]


def main(db_path: str, log_path: str, start: float) -> None:
    clock = ManualClock(start=start, epoch=1_767_225_600.0 + start)
    engine = AcdEngine(clock, QUEUES, AGENTS)
    attach_store(engine, Store(db_path))
    attach_queue_log(engine, log_path)
    engine.start()
    if engine.agent_status("a").state == "logged_out":
        for agent in ("a", "b", "c"):
            engine.agent_login(agent)
        engine.agent_pause("c", "lunch")
    cycle = 0
    while True:
        caller = f"call-{start:.0f}-{cycle}"
        engine.join("q", caller, callerid="555")
        clock.advance(1 + cycle % 30)                   # waits of 1..30 s (agents busy)
        offered = engine.caller_status(caller).agents
        if offered:
            engine.answer(caller, offered[0])
            clock.advance(5)
            engine.hangup(caller)
        else:
            engine.hangup(caller)
        clock.advance(3)
        print(cycle, flush=True)
        cycle += 1


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], float(sys.argv[3]))
