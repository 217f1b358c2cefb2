"""The call path: trunk SETUP -> answer -> IVR -> queue -> agent -> bridge -> clear -> CDR.

The manager joins the parts and owns none of their logic: ISDN stacks report call
events (``on_isdn_event``), the media engine reports digits, the IVR session asks for
prompts and routing through a port, and the ACD engine says which agent to ring.
Everything runs on the service's one loop; nothing here blocks.
"""
from __future__ import annotations

import itertools
import logging
import os
from collections import Counter
from collections.abc import Callable
from pathlib import Path

from appliance.acd import AcdEngine
from appliance.acd import events as acd_events
from appliance.calls.call import Leg, QueueCall
from appliance.calls.interfaces import AgentInterface
from appliance.config.schema import BoxConfig
from appliance.events import EventBus
from appliance.isdn.call import Call as IsdnCall
from appliance.isdn.call import CallEvent, CallStateError
from appliance.isdn.stack import Stack
from appliance.ivr.prompts import PromptLibrary, say_digits_prompts
from appliance.ivr.session import HookRunner, IvrSession
from appliance.media import ChannelRef, MediaEngine, Recorder
from appliance.store.cdr import CdrStore
from drivers.clock import Clock

__all__ = ["CallManager", "Recording"]

log = logging.getLogger(__name__)

# Q.850 causes used here
NORMAL_CLEARING, USER_BUSY, NO_ANSWER, CALL_REJECTED = 16, 17, 19, 21
NON_SELECTED_USER_CLEARING, CHANNEL_UNACCEPTABLE, NO_CIRCUIT = 26, 6, 34
CHANNEL_NOT_AVAILABLE, CHANNEL_DOES_NOT_EXIST, TEMPORARY_FAILURE = 44, 82, 41


class Recording:
    """Which queues are recorded, where the WAV files go, and in which encoding."""

    def __init__(self, directory: str | Path | None, queues: frozenset[str], encoding: str = "g711") -> None:
        self.directory = os.fspath(directory) if directory else None
        self.queues = queues
        self.encoding = encoding

    def recorder_for(self, call: QueueCall, law: str) -> Recorder | None:
        if self.directory is None or call.queue not in self.queues:
            return None
        return Recorder(os.path.join(self.directory, f"{call.id}.wav"), law, self.encoding)


class _CallPort:
    """What an IVR session asks of its call (see appliance.ivr.session.IvrPort)."""

    def __init__(self, manager: "CallManager", call: QueueCall) -> None:
        self.manager = manager
        self.call = call

    def play(self, prompts, on_done) -> None:
        self.manager.play(self.call, list(prompts), on_done)

    def stop_playback(self) -> None:
        if self.call.channel is not None:
            self.manager.media.stop(self.call.channel)

    def enqueue(self, queue: str, priority: int, variables: dict[str, str]) -> None:
        self.manager.enqueue(self.call, queue, priority)

    def transfer(self, number: str) -> None:
        self.manager.transfer(self.call, number)

    def hangup(self, cause: int) -> None:
        self.manager.hangup(self.call, cause, by="system")


class CallManager:
    def __init__(self, config: BoxConfig, clock: Clock, media: MediaEngine, acd: AcdEngine,
                 cdrs: CdrStore, bus: EventBus, prompts: PromptLibrary, *,
                 interfaces: dict[str, AgentInterface], hold_audio: bytes,
                 hooks: HookRunner | None = None, recording: Recording | None = None) -> None:
        self.config = config
        self.clock = clock
        self.media = media
        self.acd = acd
        self.cdrs = cdrs
        self.bus = bus
        self.prompts = prompts
        self.interfaces = interfaces
        self.hold_audio = hold_audio
        self.hooks = hooks
        self.recording = recording or Recording(None, frozenset())
        self.stacks: dict[int, Stack] = {}
        self.calls: dict[str, QueueCall] = {}
        self.counters: Counter[str] = Counter()
        self._busy: set[ChannelRef] = set()
        self._seq = itertools.count(1)
        # timeslot -> index of the B-channel in the span's media block
        self._index = {s.number: {ts: i for i, ts in enumerate(s.bchannel_positions)} for s in config.spans}
        self._leg_handlers = {"trunk": self._trunk_event, "agent": self._agent_event,
                              "transfer": self._transfer_event}
        acd.subscribe(self._on_acd_event)

    # -- wiring -----------------------------------------------------------------------
    def attach(self, span: int, stack: Stack) -> None:
        """Register a span's stack (whose ``on_event`` calls :meth:`on_isdn_event`)."""
        self.stacks[span] = stack

    def on_isdn_event(self, span: int, event: CallEvent) -> None:
        if event.kind in ("link_up", "link_down"):
            self.bus.publish(f"span.{event.kind}", span=span)
            return
        leg = event.call.user_data if event.call is not None else None
        if leg is None:
            if event.kind == "setup":
                self._incoming(span, event.call)
            return
        self._leg_handlers[leg.role](leg, event)
        if event.kind == "released":     # its last event: untie the leg, so the call's objects
            event.call.user_data = None  # go when the call does, not at the collector's next pass
            leg.owner = None

    # -- the trunk leg ------------------------------------------------------------------
    def _incoming(self, span: int, isdn: IsdnCall) -> None:
        stack = self.stacks[span]
        span_config = self.config.span(span)
        if span_config.role != "trunk":
            stack.disconnect(isdn, CALL_REJECTED)
            return
        index = self._index[span].get(isdn.channel)
        if index is None:
            stack.disconnect(isdn, CHANNEL_DOES_NOT_EXIST)
            return
        ref = ChannelRef(span, index)
        if ref in self._busy:
            stack.disconnect(isdn, CHANNEL_NOT_AVAILABLE)
            return
        wall = self.clock.wall()
        call = QueueCall(id=f"{int(wall)}.{next(self._seq)}", trunk=None, calling=isdn.calling,
                         called=isdn.called, started=wall)
        call.trunk = Leg(span, stack, isdn, call, "trunk", ref)
        isdn.user_data = call.trunk
        self._busy.add(ref)
        self.calls[call.id] = call
        self.counters["offered"] += 1
        self.bus.publish("call.setup", call=call.id, calling=call.calling, called=call.called, span=span,
                         channel=isdn.channel)
        stack.answer(isdn)  # the IVR answers at once

    def _trunk_event(self, leg: Leg, event: CallEvent) -> None:
        call = leg.owner
        if event.kind == "active" and call.answered is None:
            call.answered = self.clock.wall()
            self.bus.publish("call.answered", call=call.id)
            self.media.listen(leg.channel, lambda digit: self._digit(call, digit))
            self._start_ivr(call)
        elif event.kind == "disconnect":
            call.hangup_by = call.hangup_by or "caller"
            call.cause = event.cause
            self._caller_gone(call)
            # the call is over: its CDR now, so it is committed before our RELEASE goes
            # out (the service sends frames after the commit) and the far end hears the end
            self._write_cdr(call)
        elif event.kind == "released":
            call.cause = call.cause or event.cause
            call.hangup_by = call.hangup_by or "caller"
            self._caller_gone(call)
            self._finish(call)

    def _start_ivr(self, call: QueueCall, node: str | None = None) -> None:
        ivr = self.config.ivr
        if ivr is None:
            first = self.config.queues[0].name if self.config.queues else None
            if first is None:
                self.hangup(call, NORMAL_CLEARING, by="system")
            else:
                self.enqueue(call, first, 0)
            return
        call.state = "ivr"
        call.ivr = IvrSession(ivr, _CallPort(self, call), self.clock, self.hooks,
                              variables={"calling": call.calling, "called": call.called})
        if node is None:
            call.ivr.start()
        else:
            call.ivr.goto(node)

    def _digit(self, call: QueueCall, digit: str) -> None:
        call.digits.append(digit)
        self.counters["digits_detected"] += 1
        self.bus.publish("call.digit", call=call.id, digit=digit, state=call.state)
        if call.state == "ivr" and call.ivr is not None:
            call.ivr.on_digit(digit)
        elif call.state in ("queued", "ringing"):
            self.acd.key(call.id, digit)

    # -- what the IVR asks ----------------------------------------------------------------
    def play(self, call: QueueCall, prompts: list[str], on_done: Callable[[], None] | None) -> None:
        if call.channel is None or call.state == "clearing":
            return
        self.media.play(call.channel, [self.prompts.get(p) for p in prompts], on_done)

    def enqueue(self, call: QueueCall, queue: str, priority: int) -> None:
        previous = call.state, call.queue, call.queued_at
        # Set before joining: a free agent is offered the caller inside join() (state "ringing").
        call.state, call.queue = "queued", queue
        call.queued_at = call.queued_at or self.clock.wall()
        self._hold(call)
        result = self.acd.join(queue, call.id, callerid=call.calling, priority=priority)
        if result.status in ("joined", "resumed"):
            self.bus.publish("call.queued", call=call.id, queue=queue, position=result.position,
                             priority=priority)
            return
        # Refused (full, joinempty) or gone at once (leavewhenempty): the queue's overflow
        # if it has one, else tell the caller and clear as busy.
        call.state, call.queue, call.queued_at = previous
        self.bus.publish("call.refused", call=call.id, queue=queue, reason=result.status)
        overflow = self._queue_config(queue).overflow
        if overflow and overflow != queue:
            self._overflow(call, overflow)
        else:
            self.play(call, ["queue-full"], lambda: self.hangup(call, USER_BUSY, by="system"))

    def transfer(self, call: QueueCall, number: str) -> None:
        for span in self.config.trunk_spans:
            stack = self.stacks.get(span.number)
            if stack is None or not stack.link_up:
                continue
            try:
                isdn = stack.place_call(number, calling=call.calling)
            except CallStateError:
                continue
            leg = Leg(span.number, stack, isdn, call, "transfer")
            isdn.user_data = leg
            call.transfer_leg, call.state = leg, "transfer"
            self.play(call, ["transfer"], None)
            return
        self.play(call, ["sorry"], lambda: self.hangup(call, NO_CIRCUIT, by="system"))

    def hangup(self, call: QueueCall, cause: int, by: str) -> None:
        call.hangup_by = call.hangup_by or by
        if call.trunk is not None and not call.trunk.released:
            call.cause = call.cause or cause
            self._write_cdr(call)        # before our DISCONNECT (which waits for its commit)
            call.trunk.stack.disconnect(call.trunk.isdn, cause)

    def _hold(self, call: QueueCall) -> None:
        if call.channel is not None:
            self.media.play(call.channel, self.hold_audio, loop=True)

    # -- the ACD's decisions -----------------------------------------------------------------
    def _on_acd_event(self, event: acd_events.AcdEvent) -> None:
        name = "queue." + event.kind
        if self.bus.wanted(name):          # the event's data is built only for a listener
            self.bus.publish(name, **acd_events.event_data(event))
        call = self.calls.get(getattr(event, "caller", ""))
        if call is None:
            return
        if isinstance(event, acd_events.Offer):
            self._ring_agent(call, event.agent)
        elif isinstance(event, (acd_events.RingCanceled, acd_events.RingNoAnswer)):
            self._stop_ringing(call, event.agent, NON_SELECTED_USER_CLEARING
                               if getattr(event, "reason", "") == "answered_elsewhere" else NO_ANSWER)
        elif isinstance(event, acd_events.Announcement):
            self._announce(call, event)
        elif isinstance(event, acd_events.CallerLeft) and event.reason != "abandon":
            self._left_queue(call, event)

    def _ring_agent(self, call: QueueCall, agent: str) -> None:
        interface = self.interfaces.get(agent)
        stack = self.stacks.get(interface.span) if interface else None
        isdn = None
        if stack is not None and stack.link_up:
            try:
                isdn = stack.place_call(interface.number, calling=call.calling)
            except CallStateError:
                isdn = None
        if isdn is None:
            self.acd.decline(call.id, agent)  # no channel or no link: try the next agent
            return
        index = self._index[interface.span].get(isdn.channel)
        leg = Leg(interface.span, stack, isdn, call, "agent",
                  ChannelRef(interface.span, index) if index is not None else None, agent=agent)
        isdn.user_data = leg
        call.ringing[agent] = leg
        call.state = "ringing"
        self.bus.publish("call.offered", call=call.id, agent=agent, interface=str(interface))

    def _stop_ringing(self, call: QueueCall, agent: str, cause: int) -> None:
        leg = call.ringing.pop(agent, None)
        if leg is not None and not leg.released:
            leg.stack.disconnect(leg.isdn, cause)
        if not call.ringing and call.state == "ringing":
            call.state = "queued"

    def _announce(self, call: QueueCall, event: acd_events.Announcement) -> None:
        if call.state not in ("queued", "ringing"):
            return
        if event.what == "periodic":
            prompts = [event.prompt] if event.prompt else ["queue-periodic"]
        else:
            prompts = []
            if event.position == 1:
                prompts.append("queue-youarenext")
            elif event.position is not None or event.more_than is not None:
                count = event.position if event.position is not None else event.more_than
                prompts += ["queue-thereare"] + (["queue-morethan"] if event.position is None else [])
                prompts += say_digits_prompts(str(count)) + ["queue-callswaiting"]
            if event.holdtime_minutes:
                prompts += ["queue-holdtime"] + say_digits_prompts(str(event.holdtime_minutes)) + ["queue-minutes"]
            elif event.holdtime_seconds:
                prompts += ["queue-holdtime"] + say_digits_prompts(str(event.holdtime_seconds)) + ["queue-seconds"]
            prompts.append("queue-thankyou")
        self.counters["announcements"] += 1
        self.play(call, prompts, lambda: self._hold(call) if call.state in ("queued", "ringing") else None)

    def _left_queue(self, call: QueueCall, event: acd_events.CallerLeft) -> None:
        for agent in list(call.ringing):
            self._stop_ringing(call, agent, NON_SELECTED_USER_CLEARING)
        call.state = "ivr"
        if event.reason == "timeout" and event.destination:
            self._overflow(call, event.destination)
        elif event.reason == "key" and self.config.ivr is not None:
            self._start_ivr(call)
        else:  # empty, or a timeout with nowhere to go
            self.play(call, ["queue-full"], lambda: self.hangup(call, USER_BUSY, by="system"))

    def _overflow(self, call: QueueCall, destination: str) -> None:
        call.overflowed = True
        self.counters["overflowed"] += 1
        self.bus.publish("call.overflow", call=call.id, destination=destination)
        if any(q.name == destination for q in self.config.queues):
            self.enqueue(call, destination, 0)
        elif self.config.ivr is not None and destination in self.config.ivr.nodes:
            self._start_ivr(call, destination)
        else:
            self.hangup(call, USER_BUSY, by="system")

    # -- the agent leg ---------------------------------------------------------------------
    def _agent_event(self, leg: Leg, event: CallEvent) -> None:
        call = leg.owner
        answered = call.agent_leg is leg
        if event.kind == "alerting" and leg.agent in call.ringing:
            self.acd.ringing(call.id, leg.agent)
        elif event.kind == "active" and leg.agent in call.ringing:
            self._agent_answered(call, leg)
        elif event.kind in ("disconnect", "released"):
            if answered and call.state == "talking":
                call.hangup_by = call.hangup_by or "agent"
                call.state = "clearing"
                self.acd.agent_hangup(leg.agent)
                self.hangup(call, NORMAL_CLEARING, by="agent")
            elif call.ringing.get(leg.agent) is leg:   # not a newer leg to the same agent
                del call.ringing[leg.agent]
                self.acd.decline(call.id, leg.agent)  # busy, rejected or unreachable
                if not call.ringing and call.state == "ringing":
                    call.state = "queued"
            if event.kind == "released" and leg.channel is not None:
                self.media.release(leg.channel)

    def _agent_answered(self, call: QueueCall, leg: Leg) -> None:
        if call.trunk is None or call.channel is None or leg.channel is None:
            leg.stack.disconnect(leg.isdn, CHANNEL_UNACCEPTABLE)
            return
        del call.ringing[leg.agent]
        call.agent, call.agent_leg, call.state = leg.agent, leg, "talking"
        call.connected = self.clock.wall()
        self.counters["answered"] += 1
        recorder = self.recording.recorder_for(call, self.media.law)
        if recorder is not None and recorder.error is None:    # no CDR link to a file that is not there
            call.recording = recorder.path
            self.counters["recordings"] += 1
        self._bridge(call, leg, recorder)
        self.acd.answer(call.id, leg.agent)
        self.bus.publish("call.bridged", call=call.id, agent=leg.agent, recording=call.recording)

    def _bridge(self, call: QueueCall, leg: Leg, recorder: Recorder | None = None) -> None:
        """Join the caller to ``leg``.  The caller's digits are no longer detected: the other
        party hears them in-band, and speech cannot key false ones into the CDR (app_queue
        detects DTMF in a bridge only for features that need it)."""
        self.media.listen(call.channel, None)
        self.media.bridge(call.channel, leg.channel, recorder)

    # -- an outside transfer -----------------------------------------------------------------
    def _transfer_event(self, leg: Leg, event: CallEvent) -> None:
        call = leg.owner
        if event.kind == "active" and call.channel is not None:
            index = self._index[leg.span].get(leg.isdn.channel)
            if index is None:
                leg.stack.disconnect(leg.isdn, CHANNEL_UNACCEPTABLE)
                return
            leg.channel = ChannelRef(leg.span, index)
            self._busy.add(leg.channel)
            self._bridge(call, leg)
            self.bus.publish("call.transferred", call=call.id, number=leg.isdn.called)
        elif event.kind in ("disconnect", "released"):
            if event.kind == "released" and leg.channel is not None:
                self.media.release(leg.channel)
                self._busy.discard(leg.channel)
            if call.state == "transfer":
                call.state = "clearing"
                self.hangup(call, event.cause or NORMAL_CLEARING, by="transfer")

    # -- the end -------------------------------------------------------------------------------
    def _caller_gone(self, call: QueueCall) -> None:
        """The caller's side is clearing: take the call out of the IVR, queue and bridge."""
        if call.cleaned_up:
            return
        call.cleaned_up = True
        previous, call.state = call.state, "clearing"
        if call.ivr is not None:
            call.ivr.stop()
        if previous in ("queued", "ringing") or (previous == "talking" and call.hangup_by != "agent"):
            self.acd.hangup(call.id)  # ABANDON while waiting, COMPLETECALLER when talking
        for agent in list(call.ringing):
            self._stop_ringing(call, agent, NORMAL_CLEARING)
        for other in (call.agent_leg, call.transfer_leg):
            if other is not None and not other.released:
                other.stack.disconnect(other.isdn, NORMAL_CLEARING)

    def _finish(self, call: QueueCall) -> None:
        """The trunk leg is released: free its channel, the CDR if not written yet."""
        if call.id not in self.calls:
            return
        if call.channel is not None:
            self.media.release(call.channel)
            self._busy.discard(call.channel)
        self._write_cdr(call)
        self.calls.pop(call.id)
        call.ivr = None          # its session's port holds the call (after the CDR, which names its path)
        self.bus.publish("call.cleared", call=call.id, disposition=call.disposition, cause=call.cause,
                         hangup_by=call.hangup_by, digits="".join(call.digits))

    def _write_cdr(self, call: QueueCall) -> None:
        """The call is over (its end was heard or decided): its CDR, once."""
        if call.cdr_written:
            return
        call.ended = self.clock.wall()
        call.disposition = (
            "ANSWERED" if call.connected is not None else
            "TRANSFERRED" if call.transfer_leg is not None else
            "ABANDONED" if call.hangup_by == "caller" else
            "OVERFLOW" if call.overflowed else
            "BUSY" if call.cause == USER_BUSY else
            "NO ANSWER" if call.answered is None else "FAILED")
        if call.disposition == "ABANDONED" and call.queue is not None:
            self.counters["abandoned"] += 1
        self.cdrs.write(call.cdr())
        call.cdr_written = True

    def shut_down(self) -> None:
        """The service is stopping: clear every call still up and write its CDR now."""
        for call in list(self.calls.values()):
            call.hangup_by = call.hangup_by or "system"
            call.cause = call.cause or TEMPORARY_FAILURE
            for leg in (call.trunk, call.agent_leg, call.transfer_leg, *call.ringing.values()):
                if leg is not None and not leg.released:
                    leg.stack.disconnect(leg.isdn, TEMPORARY_FAILURE)
            self._caller_gone(call)
            self._finish(call)

    # -- views ---------------------------------------------------------------------------------
    def _queue_config(self, name: str):
        return next(q for q in self.config.queues if q.name == name)

    def summaries(self) -> list[dict]:
        now = self.clock.wall()
        return [call.summary(now) for call in self.calls.values()]
