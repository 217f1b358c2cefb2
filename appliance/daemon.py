"""``qbox run``: the service.  One asyncio loop runs everything.

Start-up is in dependency order and fails before anything answers a call: the
configuration (every error at once), the store, the DAHDI backend and its spans, the
ACD (restored from the store), the ISDN stacks, the alarms, the control socket.  Then:

- each span's media descriptor being readable marks its 20 ms block ready; when every
  span has one (or 5 ms after the first, so one late span never stalls the rest) the
  media engine runs one tick over all of them;
- D-channel frames go to their span's ISDN stack as they arrive;
- what those change (CDRs, queue events) is committed once a tick, after the media, in one
  transaction; frames the stacks send meanwhile wait for that commit, so the far end never
  hears a call end before its CDR is on disk (control requests commit before they answer);
- once a second: span status to the alarm sources, queue figures to the surge alarms;
- under systemd, READY once up and WATCHDOG at half the configured interval.

In *lock-step* mode (``--lockstep``, for ``qbox bench bhca``) the service's clock is the
media: it moves 20 ms per tick and never on its own, so a simulator that waits for
each tick's answer runs the box as fast as the machine allows.
"""
from __future__ import annotations

import asyncio
import gc
import inspect
import logging
import signal
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from appliance import __version__
from appliance.acd import AcdEngine
from appliance.acd.persistence import AcdStore, attach_store
from appliance.acd.queue_log import attach_queue_log
from appliance.alarms import (
    AlarmManager, DChannelAlarms, DeviceAlarms, DiskAlarms, EventBusOutput, QueueAlarms, SoundOutput, SpanAlarms, SyslogOutput,
    TowerOutput, alarm_handlers,
)
from appliance.calls import CallManager, Recording, agent_interface
from appliance.config import BoxConfig, load_config
from appliance.control import ControlServer
from appliance.cpu import CpuMeter
from appliance.events import EventBus
from appliance.isdn.stack import Stack
from appliance.ivr.hooks import ThreadedHookRunner
from appliance.ivr.prompts import PromptLibrary
from appliance.media import MediaEngine
from appliance.sdnotify import Notifier
from appliance.service_api import DChannelTap, ServiceApi
from appliance.store import Store
from appliance.store.alarms import AlarmStore
from appliance.store.cdr import CdrStore
from appliance.tones import render
from cython_ext import g711
from drivers.clock import Clock, LoopClock, ManualClock
from drivers.dahdi import DahdiError, open_backend
from drivers.dahdi.interface import Alarm as SpanAlarm

__all__ = ["Service", "ServicePaths"]

log = logging.getLogger(__name__)

TICK = 0.020
LATE_SPAN_GRACE = 0.005
TOWER_SUPERVISION_S = 3          # rewrite the tower's state this often: finds a tower gone quietly
REOPEN_S = 2.0                   # try a lost span device again this often (real seconds: no ticks without it)


# The collector's young generation: a call's objects mostly die with it, by reference
# count; at CPython's 700 net allocations a collection came every few calls and moved the
# calls in progress into the old generations, whose full collections then cost about 5%
# of the CPU (qbox bench bhca).  At 5000 calls end before their objects age: the collector
# takes about half the time, with no full collection in a bench run.
GC_THRESHOLDS = (5000, 10, 10)


class ServicePaths:
    """Where the service keeps its files (one state directory, like /var/lib/qbox)."""

    def __init__(self, state_dir: str | Path, socket: str | Path | None = None) -> None:
        self.state_dir = Path(state_dir)
        self.database = self.state_dir / "qbox.db"
        self.queue_log = self.state_dir / "queue_log"
        self.socket = Path(socket) if socket else Path("/run/qbox/control.sock")


class Service:
    def __init__(self, config: BoxConfig, paths: ServicePaths, *, lockstep: bool = False,
                 notifier: Notifier | None = None) -> None:
        self.config = config
        self.paths = paths
        self.lockstep = lockstep
        self.notifier = notifier or Notifier()
        self.started = time.time()
        self.stopping = asyncio.Event()
        self._ready: dict[int, bytes] = {}     # span -> this tick's block, read as it arrived
        self._lost: set[int] = set()            # spans whose device went away
        self._seconds = 0
        # CPU seconds of this thread per kind of work, for `qbox bench bhca`'s profile:
        # media_tick (DTMF, prompts, bridges, and the IVR/ACD work digits trigger),
        # signalling (D-channel frames: ISDN, call control, ACD), store (the group commits of
        # CDRs and queue events), timers, housekeeping.
        # (The thread's CPU clock costs about 1 us a reading; wall time would count preemption.)
        meter = CpuMeter()                # CPU seconds by part: the bench's profile, status cpu_s
        self.cpu, self._measure = meter.seconds, meter.measure
        self._tick_pending: asyncio.TimerHandle | None = None
        self._commit_pending: asyncio.TimerHandle | None = None
        self._held: list[tuple[int, bytes]] = []   # (span, D-channel frame) waiting for the commit
        self.loop: asyncio.AbstractEventLoop | None = None

    # -- start-up -------------------------------------------------------------------------
    def _build(self, loop: asyncio.AbstractEventLoop) -> None:
        config = self.config
        self.loop = loop
        self.clock: Clock = ManualClock(epoch=time.time()) if self.lockstep else LoopClock(loop)
        self.bus = EventBus(self.clock)
        self.paths.state_dir.mkdir(parents=True, exist_ok=True)
        self.store = Store(self.paths.database)
        # one COMMIT a tick (or TICK after the first write, when no tick comes)
        self.store.group_commits(self._commit_later)
        self.cdrs = CdrStore(self.store)

        self.acd = AcdEngine(self.clock, config.queues, config.agents)
        fresh = not AcdStore(self.store).load_agents()[0]
        # queue events are committed with the CDRs, in the same transaction
        self.stats = attach_store(self.acd, self.store, group_commit=True)
        self.queue_log = attach_queue_log(self.acd, self.paths.queue_log)

        self.backend = open_backend(config.dahdi.device)
        self.law = "alaw" if config.spans[0].type == "e1" else "ulaw"
        self.span_media = {s.number: self.backend.open_span_media(s.number, mode=self.law) for s in config.spans}
        self.dchannels = {s.number: self.backend.open_dchannel(s.number) for s in config.spans}
        self.media = MediaEngine(self.span_media, law=self.law, on_device_lost=self._media_lost)

        ivr = config.ivr
        self.prompts = PromptLibrary(ivr.prompts_dir if ivr else "/var/lib/qbox/prompts",
                                     ivr.language if ivr else "en", law=self.law)
        hold = g711.encode(render(config.dahdi.defaultzone if config.dahdi.defaultzone in ("cn", "us") else "itu",
                                  "ringback", 6000), self.law)
        interfaces = {a.id: agent_interface(a, config, a.interface) for a in config.agents}
        hooks = ThreadedHookRunner(ivr.hooks, loop) if ivr and ivr.hooks else None
        recording = Recording(config.recording.directory, frozenset(config.recording.queues),
                              config.recording.format)
        self.calls = CallManager(config, self.clock, self.media, self.acd, self.cdrs, self.bus, self.prompts,
                                 interfaces=interfaces, hold_audio=hold, hooks=hooks, recording=recording)
        self.stacks: dict[int, Stack] = {}
        for span in config.spans:
            role = "user" if span.signalling == "pri_cpe" else "network"
            # frames go to the span's D-channel of the moment (a lost device is re-opened)
            stack = Stack(role, lambda frame, n=span.number: self._send_frame(n, frame), self.clock, variant=span.switchtype, span_type=span.type.upper(),
                          name=f"span{span.number}", capture=DChannelTap(self.bus, span.number),
                          on_event=lambda event, n=span.number: self.calls.on_isdn_event(n, event))
            self.calls.attach(span.number, stack)
            self.stacks[span.number] = stack

        self.alarms = AlarmManager(config.alarms, self.clock, AlarmStore(self.store), [EventBusOutput(self.bus)])
        self.device_alarms = DeviceAlarms(self.alarms, config.alarms)
        self.tower_output: TowerOutput | None = None
        self.disk_alarms = DiskAlarms(self.alarms, config.alarms)
        self._alarm_outputs()
        self.alarms.restore()
        self.span_alarms = SpanAlarms(self.alarms, self.clock, config.alarms)
        self.dchannel_alarms = DChannelAlarms(self.alarms, config.alarms)
        self.queue_alarms = QueueAlarms(self.alarms, config.alarms)

        self.acd.start()
        if fresh:  # a new box: configured agents start logged in, as static members do
            for agent in config.agents:
                self.acd.agent_login(agent.id)
        self.api = ServiceApi(self)
        handlers = self.api.handlers()
        handlers.update(alarm_handlers(self.alarms))
        self.control = ControlServer(self.paths.socket, {name: self._committing(handler)
                                                         for name, handler in handlers.items()}, self.bus)

    def _alarm_outputs(self) -> None:
        config = self.config.alarms
        if config.tower:
            from drivers.tower import open_tower
            self.tower_output = TowerOutput(config, self.clock, lambda: open_tower(config.tower),
                                            on_presence=self.device_alarms.presence_callback("tower"))
            self.alarms.add_output(self.tower_output)
        if config.sound:
            from drivers.sound import open_sound
            self.alarms.add_output(SoundOutput(config, self.clock, lambda: open_sound(config.sound),
                                               on_presence=self.device_alarms.presence_callback("sound")))
        if getattr(config, "syslog", ""):
            self.alarms.add_output(SyslogOutput(config.syslog, self.clock, facility=config.syslog_facility))

    async def run(self) -> None:
        loop = asyncio.get_running_loop()
        self._build(loop)
        gc.freeze()     # what start-up made (configuration, prompts, codec tables) stays: the collector skips it
        gc.set_threshold(*GC_THRESHOLDS)
        await self.control.start()
        for number, media in self.span_media.items():
            loop.add_reader(media.fileno(), self._span_ready, number)
        for number, dchannel in self.dchannels.items():
            loop.add_reader(dchannel.fileno(), self._dchannel_readable, number)
        for stack in self.stacks.values():
            stack.start()
        self._every_second()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, self.stopping.set)
        self.notifier.ready(f"{len(self.config.spans)} spans, {len(self.config.agents)} agents")
        if self.notifier.watchdog_interval:
            self._watchdog()
        log.info("qbox running", extra={"kv": {"node": self.config.node.name, "version": __version__,
                                                "socket": self.paths.socket, "lockstep": self.lockstep}})
        try:
            await self.stopping.wait()
        finally:
            await self._shutdown()

    async def _shutdown(self) -> None:
        self.notifier.stopping()
        self.calls.shut_down()          # calls still up get their CDR (cause 41, cleared by the system)
        self._commit()                  # and their DISCONNECTs go out once those are on disk
        loop = asyncio.get_running_loop()
        for media in self.span_media.values():
            loop.remove_reader(media.fileno())
        for dchannel in self.dchannels.values():
            loop.remove_reader(dchannel.fileno())
        await self.control.close()
        for stack in self.stacks.values():
            stack.close()
        self.alarms.close()
        self.queue_log.close()
        for resource in (*self.span_media.values(), *self.dchannels.values()):
            resource.close()
        self.backend.close()
        self.store.close()
        self._held.clear()

    # -- media ----------------------------------------------------------------------------
    def _span_ready(self, number: int) -> None:
        """A span's block has arrived: keep it; tick once every span has one."""
        media = self.span_media[number]
        try:
            block = media.read_block()
        except DahdiError as exc:
            self._device_lost(number, media, exc)
            return
        if media.events_seen():            # ALARM/NOALARM: look at the span now, not in a second
            self._check_span(self.config.span(number))
        if block is None:
            return
        if number in self._ready:          # a second block before the tick: we are behind
            self._tick()
        self._ready[number] = block
        if len(self._ready) + len(self._lost) >= len(self.span_media):
            self._tick()
        elif self._tick_pending is None and not self.lockstep:
            self._tick_pending = self.loop.call_later(LATE_SPAN_GRACE, self._tick)

    def _tick(self) -> None:
        if self._tick_pending is not None:
            self._tick_pending.cancel()
            self._tick_pending = None
        blocks, self._ready = self._ready, {}
        self._measure("media_tick", self.media.tick, blocks)
        if self.lockstep:     # timers due in this tick: IVR, Q.931, ACD, alarms (housekeeping apart)
            self._measure("timers", self.clock.advance, TICK)
        self._commit()

    # -- the commit and the frames that wait for it -----------------------------------------
    def _commit_later(self, commit: Callable[[], None]) -> None:
        """The first write since the last commit: the tick commits it, or this timer if
        no tick comes (every span lost)."""
        if self._commit_pending is None:
            self._commit_pending = self.loop.call_later(TICK, self._commit)

    def _commit(self) -> None:
        """Commit what the store holds, then send the frames that waited for it."""
        if self._commit_pending is not None:
            self._commit_pending.cancel()
            self._commit_pending = None
        if self.store.pending:
            self._measure("store", self.store.commit_pending)
        if self._held:
            self._measure("signalling", self._send_held)

    def _send_held(self) -> None:
        held, self._held = self._held, []
        for number, frame in held:
            self._send_now(number, frame)

    def _send_frame(self, number: int, frame: bytes) -> None:
        """A stack's frame: out now, unless a write it may follow is still uncommitted."""
        if self.store.pending or self._held:
            self._held.append((number, frame))
        else:
            self._send_now(number, frame)

    def _send_now(self, number: int, frame: bytes) -> None:
        """Onto the span's D-channel; dropped while its device is lost (the stack's timers
        go on asking for the link until the device is back)."""
        if number in self._lost:
            return
        try:
            self.dchannels[number].send(frame)
        except DahdiError as exc:
            self._device_lost(number, self.dchannels[number], exc)

    def _committing(self, handler: Callable[[dict], Any]) -> Callable[[dict], Any]:
        """A control request answers once what it changed is committed."""
        def answer(args: dict) -> Any:
            result = handler(args)
            if inspect.isawaitable(result):
                return self._commit_after(result)
            self._commit()
            return result
        return answer

    async def _commit_after(self, result: Awaitable[Any]) -> Any:
        value = await result
        self._commit()
        return value

    def _dchannel_readable(self, number: int) -> None:
        self._measure("signalling", self._read_frame, number)

    def _read_frame(self, number: int) -> None:
        """One frame a wake-up, as Asterisk's PRI thread reads them: the loop calls again
        while more wait, and no read is spent finding the queue empty (most wake-ups
        bring one frame)."""
        dchannel = self.dchannels[number]
        try:
            frame = dchannel.recv()
        except DahdiError as exc:
            self._device_lost(number, dchannel, exc)
        else:
            if frame is not None:
                self.stacks[number].receive_frame(frame)

    # -- once a second ----------------------------------------------------------------------
    def _every_second(self) -> None:
        self._measure("housekeeping", self._housekeeping)
        self.clock.call_later(1.0, self._every_second)

    def _housekeeping(self) -> None:
        try:        # one question for every span's alarms and counters (its channels are not needed)
            statuses = {status.number: status for status in self.backend.spans(channels=False)}
        except OSError as exc:
            log.warning("span status failed", extra={"kv": {"error": exc}})
            statuses = {}
        for span in self.config.spans:
            if span.number in statuses:
                self._span_status(span, statuses[span.number])
        for queue in self.config.queues:
            status = self.acd.queue_status(queue.name)
            waits = [caller.waited for caller in status.callers]
            self.queue_alarms.update(queue.name, len(waits), max(waits, default=0.0))
        if self.cdrs.backlog:       # what a full disk kept back: try it again
            self.cdrs.retry()
        if self.queue_log.held:
            self.queue_log.flush()
        if self._seconds % 60 == 0:
            self.disk_alarms.check(str(self.paths.state_dir))
        if self._seconds % TOWER_SUPERVISION_S == 0 and self.tower_output is not None:
            self.tower_output.supervise()
        self._seconds += 1

    def _media_lost(self, number: int, exc: DahdiError) -> None:
        self._device_lost(number, self.span_media[number], exc)

    def _device_lost(self, number: int, device, exc: DahdiError) -> None:
        """A span's device went away (driver unloaded, card or simulator gone): stop
        reading it, say so once, alarm (the span's equipment is missing and its D-channel
        down: no status will come to say so), and try to open it again every REOPEN_S."""
        self.loop.remove_reader(device.fileno())
        first = number not in self._lost
        self._lost.add(number)
        self.media.detach(number)
        log.error("span device lost; no longer read", extra={"kv": {"span": number, "error": exc}})
        self.bus.publish("span.device_lost", span=number, error=str(exc))
        if self.stacks[number].link_up:
            self.stacks[number].physical_down()
        if first:
            self.device_alarms.changed(f"span{number}", False, str(exc))
            self.dchannel_alarms.down(number, "span device lost")
            self.loop.call_later(REOPEN_S, self._reopen, number)

    def _reopen(self, number: int) -> None:
        """Open a lost span's media and D-channel again; on success they are read as before
        and the span's status brings its data link back up."""
        if self.stopping.is_set():
            return
        try:
            media = self.backend.open_span_media(number, mode=self.law)
            try:
                dchannel = self.backend.open_dchannel(number)
            except BaseException:
                media.close()
                raise
        except OSError as exc:
            log.debug("span device still gone", extra={"kv": {"span": number, "error": exc}})
            self.loop.call_later(REOPEN_S, self._reopen, number)
            return
        for old in (self.span_media[number], self.dchannels[number]):
            self.loop.remove_reader(old.fileno())      # the one not lost yet may still be read
            old.close()
        self.span_media[number], self.dchannels[number] = media, dchannel
        self._ready.pop(number, None)
        self.media.reattach(number, media)
        self.loop.add_reader(media.fileno(), self._span_ready, number)
        self.loop.add_reader(dchannel.fileno(), self._dchannel_readable, number)
        self._lost.discard(number)
        log.warning("span device re-opened", extra={"kv": {"span": number}})
        self.bus.publish("span.device_restored", span=number)
        self.device_alarms.changed(f"span{number}", True)
        self._check_span(self.config.span(number))      # and its D-channel alarm clears with the link

    def _check_span(self, span) -> None:
        try:
            status = self.backend.span_status(span.number, channels=False)
        except OSError as exc:
            log.warning("span status failed", extra={"kv": {"span": span.number, "error": exc}})
            return
        self._span_status(span, status)

    def _span_status(self, span, status) -> None:
        """Span status to the alarm sources; layer 1 up or down to the span's ISDN stack."""
        self.span_alarms.update(status)
        stack = self.stacks[span.number]
        down = bool(status.alarms & (SpanAlarm.RED | SpanAlarm.BLUE))
        if down and stack.link_up:
            stack.physical_down()
        elif not down and not stack.link_up:
            stack.physical_up()
        (self.dchannel_alarms.up if stack.link_up else self.dchannel_alarms.down)(span.number)

    def _watchdog(self) -> None:
        self.notifier.watchdog()
        self.loop.call_later(self.notifier.watchdog_interval, self._watchdog)


def run_service(config_path: str, state_dir: str, socket: str | None, lockstep: bool) -> int:
    """Load, check, run until SIGTERM/SIGINT.  Config errors raise before anything starts."""
    config = load_config(config_path)
    service = Service(config, ServicePaths(state_dir, socket), lockstep=lockstep)
    asyncio.run(service.run())
    return 0
