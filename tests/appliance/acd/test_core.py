"""The Cython routing core against a plain-Python model of the same rules, under random operations."""
from __future__ import annotations

import random

import pytest

from cython_ext.acdcore import NO_LIMIT, STRATEGY_CODES, RoutingCore

DETERMINISTIC = ("ringall", "leastrecent", "fewestcalls", "least-talk-time", "rrmemory", "rrordered", "linear")


class Model:
    """The routing rules written the obvious way (slow, but plainly right)."""

    def __init__(self):
        self.queues, self.agents, self.members, self.callers, self.free_ids = [], [], [], {}, []
        self.added = 0

    def add_queue(self, weight, strategy, ringinuse):
        self.queues.append(dict(weight=weight, strategy=strategy, ringinuse=ringinuse, rr=-1, members=[]))

    def add_agent(self):
        self.agents.append(dict(free=False, busy=False, last_end=-1e300, talk=0.0, members=[]))

    def add_member(self, a, q, penalty, order):
        m = len(self.members)
        self.members.append(dict(agent=a, queue=q, penalty=penalty, order=order, added=self.added, calls=0,
                                 paused=False))
        self.added += 1
        self.agents[a]["members"].append(m)
        self.queues[q]["members"].append(m)

    def add_caller(self, c, q, prio, seq, low, high):
        self.callers[c] = dict(queue=q, prio=prio, seq=seq, min=low, max=high, blocked=False, tried=[])

    def usable(self, m):
        mem, ag = self.members[m], self.agents[self.members[m]["agent"]]
        return ag["free"] and not mem["paused"] and (not ag["busy"] or self.queues[mem["queue"]]["ringinuse"])

    def queue_order(self, q):
        return sorted((c for c, d in self.callers.items() if d["queue"] == q),
                      key=lambda c: (-self.callers[c]["prio"], self.callers[c]["seq"]))

    def best_caller(self, a):
        if not self.agents[a]["free"]:
            return -1
        best, best_key = -1, None
        for m in self.agents[a]["members"]:
            if not self.usable(m):
                continue
            q, pen = self.members[m]["queue"], self.members[m]["penalty"]
            for c in self.queue_order(q):
                d = self.callers[c]
                if not d["blocked"] and d["min"] <= pen <= d["max"]:
                    key = (-self.queues[q]["weight"], -d["prio"], d["seq"])
                    if best_key is None or key < best_key:
                        best, best_key = c, key
                    break
        return best

    def select(self, c, rng_unused=None):
        d = self.callers[c]
        q = self.queues[d["queue"]]
        usable = [m for m in q["members"] if self.usable(m)
                  and d["min"] <= self.members[m]["penalty"] <= d["max"]]
        if not usable:
            return []
        if all(self.members[m]["agent"] in d["tried"] for m in usable):
            d["tried"] = []
        candidates = [m for m in usable if self.members[m]["agent"] not in d["tried"]]
        s = q["strategy"]

        def key(m):
            mem, ag = self.members[m], self.agents[self.members[m]["agent"]]
            if s == "ringall":
                return (mem["penalty"], 0, mem["order"])
            if s == "linear":
                return (mem["penalty"], mem["order"], mem["order"])
            if s in ("rrmemory", "rrordered"):
                k = mem["added"] if s == "rrmemory" else mem["order"]
                return (mem["penalty"], 1 if k <= q["rr"] else 0, k)
            if s == "leastrecent":
                return (mem["penalty"], ag["last_end"], mem["order"])
            if s == "fewestcalls":
                return (mem["penalty"], mem["calls"], mem["order"])
            return (mem["penalty"], ag["talk"], mem["order"])

        best = min(candidates, key=key)          # min() keeps the first of equal keys
        if s == "ringall":
            low = self.members[best]["penalty"]
            return [self.members[m]["agent"] for m in candidates if self.members[m]["penalty"] == low]
        if s in ("rrmemory", "rrordered"):
            q["rr"] = key(best)[2]
        return [self.members[best]["agent"]]


@pytest.mark.parametrize("seed", range(12))
def test_core_decides_like_the_model(seed):
    rng = random.Random(seed)
    core, model = RoutingCore(seed + 1), Model()
    n_queues, n_agents = rng.randint(1, 5), rng.randint(1, 12)
    for _ in range(n_queues):
        args = (rng.choice([0, 0, 5]), rng.choice(DETERMINISTIC), rng.random() < 0.3)
        core.add_queue(args[0], STRATEGY_CODES[args[1]], args[2])
        model.add_queue(*args)
    members = []
    for a in range(n_agents):
        core.add_agent()
        model.add_agent()
    for a in rng.sample(range(n_agents), n_agents):    # addition order differs from configured order
        for q in rng.sample(range(n_queues), rng.randint(1, n_queues)):
            pen = rng.randint(0, 3)
            members.append(core.add_member(a, q, pen, a))
            model.add_member(a, q, pen, a)
    seq = 0
    for _ in range(600):
        op = rng.random()
        live = list(model.callers)
        if op < 0.25:
            q, prio = rng.randrange(n_queues), rng.choice([0, 0, 0, 1, 2])
            low = rng.choice([0, 0, 1])
            high = rng.choice([NO_LIMIT, NO_LIMIT, 1, 2])
            seq += 1
            c = core.add_caller(q, prio, seq, low, max(low, high))
            model.add_caller(c, q, prio, seq, low, max(low, high))
        elif op < 0.35 and live:
            c = rng.choice(live)
            core.remove_caller(c)
            del model.callers[c]
        elif op < 0.45 and live:
            c, b = rng.choice(live), rng.random() < 0.5
            core.set_blocked(c, b)
            model.callers[c]["blocked"] = b
        elif op < 0.5 and live:
            c, p = rng.choice(live), rng.randint(0, 3)
            core.set_priority(c, p)
            model.callers[c]["prio"] = p
        elif op < 0.62:
            a, free, busy = rng.randrange(n_agents), rng.random() < 0.7, rng.random() < 0.2
            core.set_agent(a, free, busy)
            model.agents[a].update(free=free, busy=busy)
        elif op < 0.67:
            m, p = rng.randrange(len(members)), rng.random() < 0.3
            core.set_member_paused(m, p)
            model.members[m]["paused"] = p
        elif op < 0.72:
            a, end, talk = rng.randrange(n_agents), rng.uniform(0, 100), rng.uniform(0, 100)
            core.set_agent_history(a, end, talk)
            model.agents[a].update(last_end=end, talk=talk)
        elif op < 0.77:
            m = rng.randrange(len(members))
            core.count_call(m)
            model.members[m]["calls"] += 1
        elif op < 0.9:
            a = rng.randrange(n_agents)
            assert core.best_caller(a) == model.best_caller(a)
        elif live:
            c = rng.choice(live)
            chosen = core.select_agents(c)
            assert chosen == model.select(c)
            for a in chosen:
                core.mark_tried(c, a)
                if a not in model.callers[c]["tried"]:
                    model.callers[c]["tried"].append(a)
        for q in range(n_queues):
            assert core.callers_of(q) == model.queue_order(q)


def test_positions_and_bad_ids():
    core = RoutingCore()
    q = core.add_queue(0, 0, False)
    ids = [core.add_caller(q, 0, seq, 0, NO_LIMIT) for seq in range(5)]
    vip = core.add_caller(q, 9, 99, 0, NO_LIMIT)
    assert [core.position(c) for c in ids + [vip]] == [2, 3, 4, 5, 6, 1]
    core.remove_caller(ids[0])
    assert core.position(ids[4]) == 5 and core.length(q) == 5
    with pytest.raises(IndexError):
        core.position(ids[0])
    with pytest.raises(IndexError):
        core.best_caller(3)
    with pytest.raises(ValueError):
        core.add_member(core.add_agent(), q, -1, 0)


@pytest.mark.parametrize("strategy, without, with_raise", [
    ("ringall", [0], [0, 1]),          # raised to 1, a rings together with b
    ("leastrecent", [0], [1]),         # as equals, b has been idle longer
    ("linear", [0], [0]),              # as equals, configured order still decides
])
def test_raise_penalty_ranks_members_below_it_as_if_at_it(strategy, without, with_raise):
    picks = []
    for raise_penalty in (0, 1):
        core = RoutingCore(seed=1)
        q = core.add_queue(0, STRATEGY_CODES[strategy], False)
        a, b = core.add_agent(), core.add_agent()
        core.add_member(a, q, 0, 0)
        core.add_member(b, q, 1, 1)
        for agent, last_end in ((a, 50.0), (b, 10.0)):
            core.set_agent(agent, True, False)
            core.set_agent_history(agent, last_end, 0.0)
        c = core.add_caller(q, 0, 1, 0, NO_LIMIT, raise_penalty)
        picks.append(sorted(core.select_agents(c)))
    assert picks == [without, with_raise]
