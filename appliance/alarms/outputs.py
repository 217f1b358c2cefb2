"""Alarm outputs that show the alarm state: the tower, the buzzer and control-API callbacks.

Each takes ``update(event, active)`` from the :class:`AlarmManager`.  The tower and
the buzzer show :func:`indicate` of the active alarms; "beep" sounds are timed here on
the injected clock (one beep every ``beep_interval_s``), a siren repeats until the
alarms asking for it are acknowledged or cleared.

A device that fails (unplugged tower, vanished sound card) is closed, reported through
``on_presence(False, reason)`` (the "device missing" alarm) and re-opened every
``retry_s`` or at once when hot-plug calls :meth:`attach`.  Presence reports are
deferred to the next clock tick so they never re-enter the manager mid-update.
"""
from __future__ import annotations

import logging
from collections.abc import Callable, Sequence

from appliance.alarms import sounds
from appliance.alarms.config import AlarmsConfig
from appliance.alarms.indication import indicate
from appliance.alarms.model import Alarm, AlarmEvent
from drivers.clock import Clock, TimerHandle
from drivers.sound import SoundError
from drivers.tower import Tower, TowerError, TowerState

__all__ = ["DeviceOutput", "TowerOutput", "SoundOutput", "CallbackOutput", "PresenceCallback"]

log = logging.getLogger(__name__)

PresenceCallback = Callable[[bool, str], None]


class DeviceOutput:
    """Open/lose/retry bookkeeping shared by the tower and the sound output."""

    errors: tuple[type[BaseException], ...] = (OSError,)

    def __init__(self, clock: Clock, opener: Callable[[], object], on_presence: PresenceCallback | None,
                 retry_s: float, name: str) -> None:
        self.clock = clock
        self._opener = opener
        self._on_presence = on_presence
        self.retry_s = retry_s
        self.name = name
        self.device = None
        self._retry: TimerHandle | None = None
        self._present: bool | None = None

    def attach(self) -> bool:
        """Open the device now (start-up, hot-plug add, retry timer); True if it is open."""
        if self._retry is not None:
            self._retry.cancel()
            self._retry = None
        if self.device is not None:
            return True
        try:
            self.device = self._opener()
        except self.errors as exc:
            self._lost(exc)
            return False
        log.info("%s attached", self.name)
        self._presence(True, "attached")
        self.on_attached()
        return True

    def on_attached(self) -> None:
        """Bring the fresh device up to date (subclasses)."""

    def detach(self, reason: str) -> None:
        """Hot-plug says the device left: let go of it (retries keep looking for it)."""
        self._lost(OSError(reason))

    def _lost(self, exc: BaseException) -> None:
        if self.device is not None:
            log.error("%s lost error=%s", self.name, exc)
            try:
                self.device.close()
            except Exception:  # it is already gone; closing is a courtesy
                pass
            self.device = None
        self._presence(False, str(exc))
        if self._retry is None and self.retry_s > 0:
            self._retry = self.clock.call_later(self.retry_s, self._retry_now)

    def _retry_now(self) -> None:
        self._retry = None
        self.attach()

    def _presence(self, present: bool, reason: str) -> None:
        if present == self._present:
            return
        self._present = present
        if self._on_presence is not None:
            self.clock.call_later(0, self._on_presence, present, reason)

    def close(self) -> None:
        if self._retry is not None:
            self._retry.cancel()
            self._retry = None
        if self.device is not None:
            self.device.close()
            self.device = None


class TowerOutput(DeviceOutput):
    """Shows the alarms on a signal tower; ``opener`` opens it (e.g. ``lambda: open_tower(url)``)."""

    errors = (TowerError,)

    def __init__(self, config: AlarmsConfig, clock: Clock, opener: Callable[[], Tower], *,
                 on_presence: PresenceCallback | None = None, retry_s: float = 5.0) -> None:
        super().__init__(clock, opener, on_presence, retry_s, "tower")
        self.config = config
        self.indication = indicate((), config)
        self._beep_on = False
        self._beep_timers: list[TimerHandle] = []
        self.sent: list[tuple[float, TowerState]] = []   # (clock time, state) for each command
        self.attach()

    @property
    def tower(self) -> Tower | None:
        return self.device

    def desired(self) -> TowerState:
        lamps = self.indication.lamps
        sound = self.indication.sound
        buzzer = self.config.tower_buzzer and (sound == "siren" or (sound == "beep" and self._beep_on))
        return TowerState(lamps.red, lamps.amber, lamps.green, buzzer)

    def update(self, event: AlarmEvent | None, active: Sequence[Alarm]) -> None:
        indication = indicate(active, self.config)
        restart_beeps = indication.sound != self.indication.sound
        self.indication = indication
        if restart_beeps:
            self._stop_beeps()
            if indication.sound == "beep" and self.config.tower_buzzer:
                self._beep()
                return
        self._apply()

    def on_attached(self) -> None:
        self._apply()

    def _apply(self) -> None:
        tower = self.device
        if tower is None:
            return
        state = self.desired()
        if tower.written == state:
            return
        try:
            tower.set(state)
        except TowerError as exc:
            self._lost(exc)
            return
        self.sent.append((self.clock.now(), state))

    def supervise(self) -> None:
        """Write the shown state again (every few seconds): a tower that vanished without
        hot-plug telling us (a network tower, a pulled cable) is found missing, and one
        that lost power comes back showing the right lamps."""
        tower = self.device
        if tower is None:
            return
        try:
            tower.refresh(self.desired())
        except TowerError as exc:
            self._lost(exc)

    def _beep(self) -> None:
        self._beep_on = True
        self._apply()
        self._beep_timers = [
            self.clock.call_later(self.config.beep_ms / 1000.0, self._beep_off),
            self.clock.call_later(self.config.beep_interval_s, self._beep),
        ]

    def _beep_off(self) -> None:
        self._beep_on = False
        self._apply()

    def _stop_beeps(self) -> None:
        for timer in self._beep_timers:
            timer.cancel()
        self._beep_timers = []
        self._beep_on = False

    def close(self) -> None:
        self._stop_beeps()
        super().close()


class SoundOutput(DeviceOutput):
    """Sounds the buzzer on an ALSA player; ``opener`` opens it (``lambda: open_sound(url)``)."""

    errors = (SoundError,)

    def __init__(self, config: AlarmsConfig, clock: Clock, opener: Callable[[], object], *,
                 on_presence: PresenceCallback | None = None, retry_s: float = 30.0) -> None:
        super().__init__(clock, opener, on_presence, retry_s, "sound")
        self.config = config
        self.sound = "none"
        self._timer: TimerHandle | None = None
        self.played: list[tuple[float, str]] = []   # (clock time, "siren"/"beep") per buffer
        self.attach()

    def update(self, event: AlarmEvent | None, active: Sequence[Alarm]) -> None:
        sound = indicate(active, self.config).sound
        if sound == self.sound:
            return
        self.sound = sound
        self._restart()

    def on_attached(self) -> None:
        self._restart()

    def _restart(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if self.device is not None:
            self.device.stop()
        if self.sound != "none":
            self._play()

    def _play(self) -> None:
        self._timer = None
        if self.device is None:
            return
        if self.sound == "siren":
            samples, period = sounds.siren(self.config.level_dbm0), sounds.SIREN_CHUNK_S
        else:
            samples, period = sounds.beep(self.config.beep_ms, self.config.level_dbm0), self.config.beep_interval_s
        try:
            self.device.play(samples)
        except SoundError as exc:
            self._lost(exc)
            return
        self.played.append((self.clock.now(), self.sound))
        self._timer = self.clock.call_later(period, self._play)

    def close(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        super().close()


class CallbackOutput:
    """Hands every alarm change to ``callback(event)`` (the control API's event stream)."""

    def __init__(self, callback: Callable[[AlarmEvent], None]) -> None:
        self.callback = callback

    def update(self, event: AlarmEvent | None, active: Sequence[Alarm]) -> None:
        if event is not None:
            self.callback(event)
