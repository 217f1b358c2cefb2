"""Where an agent is rung: a number on an agent-side span (the agents' PBX).

An agent's ``interface`` is written like Asterisk's member interfaces: ``span3/8001``
calls extension 8001 on span 3 (qbox is the network side there).  Without one, the
agent's id is dialled on the box's first agent span.
"""
from __future__ import annotations

from dataclasses import dataclass

from appliance.acd.config import AGENT_INTERFACE, AgentConfig
from appliance.config.schema import BoxConfig
from appliance.errors import BadInput

__all__ = ["AgentInterface", "agent_interface"]


@dataclass(frozen=True)
class AgentInterface:
    span: int
    number: str

    def __str__(self) -> str:
        return f"span{self.span}/{self.number}"


def agent_interface(agent: AgentConfig, config: BoxConfig, interface: str = "") -> AgentInterface:
    """The interface to ring ``agent`` on; BadInput if it names no agent span."""
    agent_spans = [s.number for s in config.agent_spans]
    if not interface:
        if not agent_spans:
            raise BadInput(f"agent {agent.id!r}: the box has no agent span to ring agents on")
        return AgentInterface(agent_spans[0], agent.id)
    match = AGENT_INTERFACE.match(interface)
    if match is None:
        raise BadInput(f"agent {agent.id!r}: interface {interface!r} is not like 'span3/8001'")
    span = int(match["span"])
    if span not in agent_spans:
        raise BadInput(f"agent {agent.id!r}: span {span} is not an agent span")
    return AgentInterface(span, match["number"])
