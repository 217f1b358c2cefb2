"""Helpers for ACD tests: an engine on a ManualClock with its events recorded."""
from __future__ import annotations

import pytest

from appliance.acd import AcdEngine, AgentConfig, Membership, QueueConfig
from appliance.acd import events as ev


class Recorder:
    def __init__(self) -> None:
        self.events: list[ev.AcdEvent] = []

    def __call__(self, event: ev.AcdEvent) -> None:
        self.events.append(event)

    def of(self, kind: type) -> list:
        return [e for e in self.events if isinstance(e, kind)]

    def offers(self) -> list[str]:
        return [e.agent for e in self.of(ev.Offer)]

    def clear(self) -> None:
        self.events.clear()


def agents_in(queue: str, *ids: str, penalties: dict[str, int] | None = None, **extra) -> list[AgentConfig]:
    penalties = penalties or {}
    return [AgentConfig(i, queues=(Membership(queue, penalties.get(i, 0)),), **extra) for i in ids]


@pytest.fixture
def build(clock):
    """build(queues, agents, login=True, seed=1) -> (engine, recorder)."""

    def make(queues, agents, *, login=True, seed=1):
        queues = [q if isinstance(q, QueueConfig) else QueueConfig(q) for q in queues]
        engine = AcdEngine(clock, queues, agents, seed=seed)
        recorder = Recorder()
        engine.subscribe(recorder)
        engine.start()
        if login:
            for agent in agents:
                engine.agent_login(agent.id)
        recorder.clear()
        return engine, recorder

    return make
