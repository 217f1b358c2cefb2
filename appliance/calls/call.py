"""A caller's call as the box sees it, from SETUP to the CDR.

A call has one trunk leg (the ISDN call from the exchange) and, once an agent is
rung, an agent leg.  Legs are linked to the ISDN stack's calls through
``isdn_call.user_data`` so a stack event finds its call without a search.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from appliance.media import ChannelRef
from appliance.store.cdr import Cdr

if TYPE_CHECKING:
    from appliance.isdn.call import Call as IsdnCall
    from appliance.isdn.stack import Stack
    from appliance.ivr.session import IvrSession

__all__ = ["Leg", "QueueCall", "CALL_STATES"]

# setup -> ivr -> queued -> ringing -> talking -> clearing (any state may go to clearing)
CALL_STATES = ("setup", "ivr", "queued", "ringing", "talking", "transfer", "clearing")


@dataclass(eq=False)
class Leg:
    """One ISDN call on one span and the B-channel it uses in the media engine."""

    span: int
    stack: "Stack"
    isdn: "IsdnCall"
    owner: "QueueCall | None"          # None once the leg is released
    role: str                          # "trunk", "agent" or "transfer"
    channel: ChannelRef | None = None
    agent: str | None = None           # agent legs: whom we are ringing

    @property
    def released(self) -> bool:
        return self.isdn.released


@dataclass(eq=False)
class QueueCall:
    id: str
    trunk: Leg | None
    calling: str
    called: str
    started: float                     # wall time of SETUP
    state: str = "setup"
    answered: float | None = None
    queued_at: float | None = None
    connected: float | None = None
    ended: float | None = None
    ivr: "IvrSession | None" = None
    digits: list[str] = field(default_factory=list)
    queue: str | None = None
    agent: str | None = None           # the agent who answered
    ringing: dict[str, Leg] = field(default_factory=dict)   # agent id -> leg being rung
    agent_leg: Leg | None = None       # the leg that answered
    transfer_leg: Leg | None = None
    overflowed: bool = False
    recording: str | None = None
    disposition: str | None = None
    cause: int | None = None
    hangup_by: str | None = None
    cleaned_up: bool = False           # out of IVR, queue and bridge (the caller is clearing)
    cdr_written: bool = False

    @property
    def channel(self) -> ChannelRef | None:
        return self.trunk.channel if self.trunk else None

    def summary(self, now: float) -> dict:
        """The control API's view of the call (docs/control-api.md, ``calls``)."""
        channel = self.channel
        return {
            "id": self.id,
            "span": channel.span if channel else None,
            "channel": self.trunk.isdn.channel if self.trunk else None,
            "calling": self.calling,
            "called": self.called,
            "state": self.state,
            "started": round(self.started, 3),
            "duration_s": round(now - self.started, 1),
            "ivr_node": self.ivr.node_name if self.ivr is not None and not self.ivr.finished else None,
            "digits": "".join(self.digits),
            "queue": self.queue,
            "agent": self.agent,
        }

    def cdr(self) -> Cdr:
        channel = self.channel
        wait = None
        if self.queued_at is not None:
            wait = round((self.connected or self.ended or self.queued_at) - self.queued_at, 3)
        talk = round(self.ended - self.connected, 3) if self.connected is not None and self.ended else None
        return Cdr(
            uniqueid=self.id, start=self.started, end=self.ended or self.started,
            src=self.calling, dst=self.called, disposition=self.disposition or "FAILED",
            answer=self.answered, span=channel.span if channel else None,
            channel=self.trunk.isdn.channel if self.trunk else None, cause=self.cause,
            hangup_by=self.hangup_by,
            ivr_path=" ".join(self.ivr.path) if self.ivr is not None else "",
            digits="".join(self.digits), queue=self.queue, agent=self.agent, wait=wait, talk=talk,
            recording=self.recording,
        )
