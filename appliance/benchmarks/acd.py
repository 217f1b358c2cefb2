"""``qbox bench acd``: routing decisions per second and hand-out latency.

The scene: 50 queues, 20 skills, 2,000 agents and 10,000 waiting callers.  Queue ``q``
needs skill ``q % 20``; each agent has 3 skills at levels 0-9 and so serves about 7.5
queues with its skill level as penalty.  One caller in 20 has a higher priority and
one in 10 accepts only agents up to penalty 4.

* decisions/s: the Cython kernel alone, in a loop in C; each decision is an agent
  freeing up and picking the best eligible caller over all its queues (the caller is
  then requeued at the tail, so the state keeps changing).
* decisions/s through Python: the same decision called from Python, one at a time.
* hand-out latency: through the whole engine (with the stats book subscribed), from
  the call that frees an agent (``agent_unpause``) to the :class:`Offer` event reaching
  a subscriber.  The clock moves 10 ms between hand-outs so cancelled ring timers
  drain as they do on a live box.
"""
from __future__ import annotations

import argparse
import array
import random
import time

from appliance.acd import AcdEngine, AgentConfig, Membership, QueueConfig
from appliance.acd import events as ev
from appliance.acd.stats import StatsBook
from appliance.cli._output import add_json_flag, format_table, print_json
from cython_ext.acdcore import NO_LIMIT, RoutingCore
from drivers.clock import ManualClock

__all__ = ["register", "run_benchmark"]

QUEUES, SKILLS, AGENTS, CALLERS = 50, 20, 2000, 10_000
GOAL_DECISIONS, GOAL_P99_US = 1_000_000, 50.0
_STRATEGIES = ("rrmemory", "leastrecent", "fewestcalls", "linear", "ringall")


def register(subparsers) -> None:
    parser = subparsers.add_parser("acd", help="ACD routing decisions/s and hand-out latency (10,000 callers)")
    parser.add_argument("--samples", type=int, default=20_000, help="hand-outs to time (default 20000)")
    parser.add_argument("--seconds", type=float, default=1.0, help="time for the decision loop (default 1)")
    add_json_flag(parser)
    parser.set_defaults(func=_run)


def _scene(rng: random.Random):
    queues = [QueueConfig(f"q{q:02d}", strategy=_STRATEGIES[q % len(_STRATEGIES)], timeout=30, retry=0)
              for q in range(QUEUES)]
    agents = []
    for a in range(AGENTS):
        skills = rng.sample(range(SKILLS), 3)
        levels = {s: rng.randrange(10) for s in skills}
        agents.append(AgentConfig(f"a{a:04d}", queues=tuple(
            Membership(f"q{q:02d}", levels[q % SKILLS]) for q in range(QUEUES) if q % SKILLS in levels)))
    callers = [(f"q{rng.randrange(QUEUES):02d}", 1 + rng.randrange(3) if rng.random() < 0.05 else 0,
                4 if rng.random() < 0.1 else None) for _ in range(CALLERS)]
    return queues, agents, callers


def _decisions(queues, agents, callers, seconds: float) -> tuple[float, float]:
    core = RoutingCore(7)
    qidx = {q.name: core.add_queue(q.weight, 0, False) for q in queues}
    for order, agent in enumerate(agents):
        a = core.add_agent()
        for m in agent.queues:
            core.add_member(a, qidx[m.queue], m.penalty, order)
        core.set_agent(a, True, False)
    for seq, (queue, priority, max_penalty) in enumerate(callers):
        core.add_caller(qidx[queue], priority, seq, 0, NO_LIMIT if max_penalty is None else max_penalty)
    ids = array.array("i", range(len(agents)))
    rounds, done, elapsed, seq = 100_000, 0, 0.0, len(callers)
    while elapsed < seconds:
        start = time.perf_counter()
        done += core.churn(ids, rounds, seq)
        elapsed += time.perf_counter() - start
        seq += rounds
    kernel_rate = done / elapsed
    best_caller = core.best_caller
    n = 200_000
    start = time.perf_counter()
    for i in range(n):
        best_caller(i % AGENTS)
    python_rate = n / (time.perf_counter() - start)
    return kernel_rate, python_rate


def _handout_latency(queues, agents, callers, samples: int) -> list[float]:
    clock = ManualClock()
    engine = AcdEngine(clock, queues, agents, seed=3)
    stats = StatsBook.for_engine(engine)
    engine.subscribe(stats.on_event)
    offered_at: dict[str, tuple[int, str]] = {}

    def on_offer(event: ev.AcdEvent) -> None:
        if type(event) is ev.Offer and event.agent not in offered_at:
            offered_at[event.agent] = (time.perf_counter_ns(), event.caller)

    engine.subscribe(on_offer)
    engine.start()
    for agent in agents:
        engine.agent_login(agent.id)
        engine.agent_pause(agent.id, "bench")
    for i, (queue, priority, max_penalty) in enumerate(callers):
        engine.join(queue, f"c{i}", priority=priority, max_penalty=max_penalty)
    latencies, next_caller = [], len(callers)
    for i in range(samples):
        agent = agents[i % len(agents)].id
        offered_at.clear()
        start = time.perf_counter_ns()
        engine.agent_unpause(agent)
        if agent not in offered_at:
            continue                       # nobody eligible for this agent right now
        end, caller = offered_at[agent]
        latencies.append((end - start) / 1000)
        engine.answer(caller, agent)
        engine.agent_pause(agent, "bench")
        engine.agent_hangup(agent)
        engine.join(callers[i % len(callers)][0], f"c{next_caller}")      # keep 10,000 waiting
        next_caller += 1
        clock.advance(0.01)                # let cancelled ring timers drain as they would live
    return latencies


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def run_benchmark(samples: int = 20_000, seconds: float = 1.0) -> dict:
    rng = random.Random(2026)
    queues, agents, callers = _scene(rng)
    kernel_rate, python_rate = _decisions(queues, agents, callers, seconds)
    latencies = _handout_latency(queues, agents, callers, samples)
    return {
        "queues": QUEUES, "skills": SKILLS, "agents": AGENTS, "waiting_callers": CALLERS,
        "decisions_per_s": round(kernel_rate),
        "decisions_per_s_python_calls": round(python_rate),
        "handout_latency_us": {"p50": round(_percentile(latencies, 0.50), 2),
                               "p99": round(_percentile(latencies, 0.99), 2),
                               "max": round(max(latencies), 2), "samples": len(latencies)},
        "goals": {"decisions_per_s": GOAL_DECISIONS, "handout_p99_us": GOAL_P99_US},
    }


def _run(args: argparse.Namespace) -> int:
    result = run_benchmark(args.samples, args.seconds)
    if args.json:
        print_json(result)
        return 0
    lat = result["handout_latency_us"]
    print(f"scene: {QUEUES} queues, {SKILLS} skills, {AGENTS} agents, {CALLERS} waiting callers")
    print(format_table(("figure", "measured", "goal"), [
        ("routing decisions/s (kernel)", f"{result['decisions_per_s']:,}", f"{GOAL_DECISIONS:,}"),
        ("routing decisions/s (Python calls)", f"{result['decisions_per_s_python_calls']:,}", ""),
        ("hand-out latency p50, us", lat["p50"], ""),
        ("hand-out latency p99, us", lat["p99"], f"{GOAL_P99_US:g}"),
        ("hand-out latency max, us", lat["max"], ""),
    ]))
    return 0
