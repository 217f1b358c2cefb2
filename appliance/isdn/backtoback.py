"""A user-side and a network-side Stack wired together in memory.

Frames go into two queues and :meth:`BackToBack.pump` delivers them alternately until
both sides are quiet, so requests made from event handlers never re-enter a stack.
Time is a :class:`~drivers.clock.ManualClock` that :meth:`BackToBack.run` moves
forward, firing both sides' timers in order.  The benchmark, the simulator and the
tests use it; ``line`` lets a test drop, duplicate or reorder frames in flight.
"""
from __future__ import annotations

from collections import deque
from collections.abc import Callable

from appliance.isdn.call import CallEvent
from appliance.isdn.pcap import PcapWriter
from appliance.isdn.stack import Stack
from drivers.clock import ManualClock

__all__ = ["BackToBack"]


class BackToBack:
    """``user`` and ``network`` stacks on one simulated D-channel.

    ``on_user_event`` / ``on_network_event`` receive each side's events (after they
    are appended to ``user_events`` / ``network_events``).  ``line``, if set, is
    called as ``line(frame, to_network)`` for every frame and returns the frames to
    deliver instead (``[]`` drops it).
    """

    def __init__(self, variant: str = "euroisdn", clock: ManualClock | None = None,
                 on_user_event: Callable[[CallEvent], None] | None = None,
                 on_network_event: Callable[[CallEvent], None] | None = None,
                 capture: PcapWriter | None = None, strict: bool = True, record: bool = True,
                 **stack_options) -> None:
        self.clock = clock or ManualClock()
        self.to_network: deque[bytes] = deque()
        self.to_user: deque[bytes] = deque()
        self.user_events: list[CallEvent] = []
        self.network_events: list[CallEvent] = []
        self.on_user_event = on_user_event
        self.on_network_event = on_network_event
        self.line: Callable[[bytes, bool], list[bytes]] | None = None
        self.frames = 0
        self._record = record
        self.user = Stack("user", self.to_network.append, self.clock, self._user_event, variant=variant,
                          capture=capture, strict=strict, name="user", **stack_options)
        self.network = Stack("network", self.to_user.append, self.clock, self._network_event,
                             variant=variant, strict=strict, name="network", **stack_options)

    def _user_event(self, event: CallEvent) -> None:
        if self._record:
            self.user_events.append(event)
        if self.on_user_event is not None:
            self.on_user_event(event)

    def _network_event(self, event: CallEvent) -> None:
        if self._record:
            self.network_events.append(event)
        if self.on_network_event is not None:
            self.on_network_event(event)

    def start(self) -> None:
        """Both sides bring the link up; returns once it is up (or both gave up)."""
        self.user.start()
        self.network.start()
        self.pump()

    def pump(self, limit: int = 1_000_000) -> int:
        """Deliver queued frames until both queues are empty; the number delivered."""
        to_network, to_user = self.to_network, self.to_user
        user, network = self.user, self.network
        line = self.line
        delivered = 0
        while to_network or to_user:
            if to_network:
                frame = to_network.popleft()
                for f in (line(frame, True) if line else (frame,)):
                    network.receive_frame(f)
                    delivered += 1
            if to_user:
                frame = to_user.popleft()
                for f in (line(frame, False) if line else (frame,)):
                    user.receive_frame(f)
                    delivered += 1
            if delivered > limit:
                raise RuntimeError("the two stacks never went quiet")
        self.frames += delivered
        return delivered

    def run(self, seconds: float) -> None:
        """Let ``seconds`` pass, firing timers in order and delivering what they send."""
        target = self.clock.now() + seconds
        self.pump()
        while (due := self.clock.next_due()) is not None and due <= target:
            self.clock.advance_to(due)
            self.pump()
        self.clock.advance_to(target)
        self.pump()

    def close(self) -> None:
        self.user.close()
        self.network.close()
