"""The alarm manager: conditions in, alarms out (store, tower, buzzer, syslog, control API).

Sources call :meth:`AlarmManager.report` with a managed object, a probable cause and
whether the condition is present now.  Each (object, cause) has a :class:`Debouncer`;
when it decides, the manager raises, reopens, changes or clears the alarm, writes the
change to the store (before anything else sees it), then hands the change and the full
list of active alarms to every output.  An output that fails is logged and skipped:
the manager and the other outputs carry on.

Acknowledging stops the sound and turns flashing steady; it does not clear.  A raise
more severe than the acknowledged alarm re-arms it (unacknowledged again).  After a
restart :meth:`restore` reloads the active alarms, acknowledged ones stay silent.
"""
from __future__ import annotations

import itertools
import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from appliance.alarms.config import AlarmsConfig, Debounce
from appliance.alarms.debounce import Debouncer
from appliance.alarms.model import Alarm, AlarmEvent, ChangeKind, Severity, severity_rank
from appliance.errors import BadInput
from appliance.store.db import StoreError
from drivers.clock import Clock

if TYPE_CHECKING:
    from appliance.store.alarms import AlarmStore

__all__ = ["AlarmManager", "AlarmOutput"]

log = logging.getLogger(__name__)


class AlarmOutput(Protocol):
    def update(self, event: AlarmEvent | None, active: Sequence[Alarm]) -> None:
        """One alarm changed (``event``), or None: just the current picture (start-up)."""


@dataclass
class _Condition:
    """What the source last said about one (object, cause)."""

    severity: Severity
    event_type: str
    text: str
    debouncer: Debouncer


class AlarmManager:
    def __init__(self, config: AlarmsConfig, clock: Clock, store: "AlarmStore",
                 outputs: Iterable[AlarmOutput] = ()) -> None:
        self.config = config
        self.clock = clock
        self.store = store
        self.outputs: list[AlarmOutput] = list(outputs)
        self._active: dict[tuple[str, str], Alarm] = {}
        self._recently_cleared: dict[tuple[str, str], tuple[Alarm, float]] = {}
        self._conditions: dict[tuple[str, str], _Condition] = {}
        self.output_errors = 0
        self.store_errors = 0
        self._unsaved_ids = itertools.count(-1, -1)  # ids for alarms the store refused

    # -- queries -------------------------------------------------------------------

    def active(self) -> list[Alarm]:
        """Active alarms, most severe first, then oldest first."""
        return sorted(self._active.values(), key=lambda a: (-severity_rank(a.severity), a.raised_at, a.id))

    def get(self, alarm_id: int) -> Alarm | None:
        for alarm in self._active.values():
            if alarm.id == alarm_id:
                return alarm
        return self.store.get(alarm_id)

    # -- start-up ------------------------------------------------------------------

    def restore(self) -> list[Alarm]:
        """Reload active alarms from the store and show them (acknowledged ones silent).

        Each restored alarm's condition counts as present until its source says
        otherwise; then it clears after the usual settle time.
        """
        for alarm in self.store.active():
            self._active[alarm.key] = alarm
        self._push(None)
        log.info("alarms restored active=%d", len(self._active))
        return self.active()

    def add_output(self, output: AlarmOutput) -> None:
        self.outputs.append(output)
        self._deliver(output, None, self.active())

    # -- conditions ----------------------------------------------------------------

    def report(self, obj: str, cause: str, present: bool, *, severity: Severity = "major",
               event_type: str = "communicationsAlarm", text: str = "",
               debounce: Debounce | None = None) -> None:
        """The source's view of one condition now; repeats are cheap and expected."""
        key = (obj, cause)
        condition = self._conditions.get(key)
        if condition is None:
            if not present and key not in self._active:
                return  # nothing to clear, nothing to remember
            condition = self._new_condition(key, severity, event_type, text, debounce)
        elif debounce is not None:      # a source may ask for other delays as things change
            condition.debouncer.raise_s, condition.debouncer.clear_s = debounce.raise_s, debounce.clear_s
        if present:
            condition.event_type, condition.text = event_type, text or condition.text
            if severity != condition.severity:
                condition.severity = severity
                if key in self._active:
                    self._change_severity(key, severity)
        condition.debouncer.set(present)

    def _new_condition(self, key, severity, event_type, text, debounce) -> _Condition:
        debounce = debounce or Debounce(0.0, 0.0)
        condition = _Condition(severity, event_type, text, None)  # type: ignore[arg-type]
        condition.debouncer = Debouncer(
            self.clock, debounce.raise_s, debounce.clear_s,
            flap_window_s=self.config.flap_window_s, flap_threshold=self.config.flap_threshold,
            on_raise=lambda count, flapping: self._raise(key, count, flapping),
            on_reassert=lambda flapping: self._reassert(key, flapping),
            on_clear=lambda: self._clear(key),
            active=key in self._active,
        )
        self._conditions[key] = condition
        return condition

    def _raise(self, key: tuple[str, str], count: int, flapping: bool) -> None:
        condition = self._conditions[key]
        now = self.clock.wall()
        reopen = self._recently_cleared.pop(key, None)
        if reopen is not None and self.clock.now() - reopen[1] <= self.config.flap_window_s:
            # Back within the flap window: the same alarm again, not a new one.
            old = reopen[0]
            alarm = old.evolve(severity=condition.severity, text=condition.text, cleared_at=None,
                               changed_at=now, count=old.count + count)
            if severity_rank(condition.severity) > severity_rank(old.severity):
                alarm = alarm.evolve(acked_by=None, acked_at=None)
            self._commit("reraised", alarm, now)
        else:
            alarm = Alarm(0, key[0], key[1], condition.severity, condition.event_type, condition.text,
                          raised_at=now, changed_at=now, count=count)
            self._commit("raised", alarm, now)
        log.warning("alarm raised object=%s cause=%s severity=%s count=%d flapping=%s",
                    key[0], key[1], condition.severity, self._active[key].count, flapping)

    def _reassert(self, key: tuple[str, str], flapping: bool) -> None:
        alarm = self._active.get(key)
        if alarm is None:
            return
        # A flap folded into the alarm: count it, without telling the outputs again.
        self._active[key] = alarm.evolve(count=alarm.count + 1)
        try:
            self.store.update_count(alarm.id, alarm.count + 1)
        except StoreError as exc:
            self.store_errors += 1
            log.error("alarm count not stored id=%d error=%s", alarm.id, exc)

    def _change_severity(self, key: tuple[str, str], severity: Severity) -> None:
        alarm = self._active[key]
        now = self.clock.wall()
        changed = alarm.evolve(severity=severity, changed_at=now)
        if severity_rank(severity) > severity_rank(alarm.severity):
            changed = changed.evolve(acked_by=None, acked_at=None)  # worse: take notice again
        self._commit("changed", changed, now)

    def _clear(self, key: tuple[str, str]) -> None:
        alarm = self._active.get(key)
        if alarm is None:
            return
        now = self.clock.wall()
        cleared = alarm.evolve(cleared_at=now, changed_at=now)
        self._commit("cleared", cleared, now)
        self._recently_cleared[key] = (cleared, self.clock.now())
        log.info("alarm cleared object=%s cause=%s count=%d", key[0], key[1], cleared.count)

    # -- operators -----------------------------------------------------------------

    def acknowledge(self, alarm_id: int, by: str, comment: str | None = None) -> Alarm:
        """Take an alarm: silence it and stop its flashing.  BadInput if there is no such alarm."""
        event = self._acknowledge(alarm_id, by, comment)
        if event is None:
            return self._find(alarm_id)
        self._push(event)
        return event.alarm

    def acknowledge_all(self, by: str, comment: str | None = None) -> list[Alarm]:
        """Acknowledge every active alarm at once: outputs see only the final picture."""
        events = [self._acknowledge(a.id, by, comment) for a in self.active() if not a.acknowledged]
        for event in events:
            self._push(event)
        return [e.alarm for e in events if e is not None]

    def _acknowledge(self, alarm_id: int, by: str, comment: str | None) -> AlarmEvent | None:
        alarm = self._find(alarm_id)
        if alarm.acknowledged:
            return None
        now = self.clock.wall()
        log.info("alarm acknowledged id=%d by=%s", alarm_id, by)
        return self._commit("acknowledged", alarm.evolve(acked_by=by, acked_at=now), now, actor=by,
                            text=comment, push=False)

    def comment(self, alarm_id: int, by: str, text: str) -> Alarm:
        alarm = self._find(alarm_id)
        now = self.clock.wall()
        self._commit("commented", alarm, now, actor=by, text=text)
        return self.get(alarm_id) or alarm

    def _find(self, alarm_id: int) -> Alarm:
        alarm = self.get(alarm_id)
        if alarm is None:
            raise BadInput(f"no alarm with id {alarm_id}")
        return alarm

    # -- plumbing ------------------------------------------------------------------

    def _commit(self, kind: ChangeKind, alarm: Alarm, now: float, *, actor: str | None = None,
                text: str | None = None, push: bool = True) -> AlarmEvent:
        """Store first, then tell the outputs: what they show is on disk.

        If the store fails (a full disk is itself an alarm) the change is logged and
        still shown: an alarm nobody sees is worse than one not recorded.
        """
        try:
            stored = self.store.write(AlarmEvent(kind, alarm, actor, text), now)
            if kind in ("commented", "acknowledged"):
                stored = self.store.get(stored.id) or stored  # with its comments
        except StoreError as exc:
            self.store_errors += 1
            log.error("alarm not stored object=%s cause=%s error=%s", alarm.object, alarm.cause, exc)
            stored = alarm if alarm.id else alarm.evolve(id=next(self._unsaved_ids))
        if stored.active:
            self._active[stored.key] = stored
        else:
            self._active.pop(stored.key, None)
        event = AlarmEvent(kind, stored, actor, text)
        if push:
            self._push(event)
        return event

    def _push(self, event: AlarmEvent | None) -> None:
        active = self.active()
        for output in list(self.outputs):
            self._deliver(output, event, active)

    def _deliver(self, output: AlarmOutput, event: AlarmEvent | None, active: Sequence[Alarm]) -> None:
        try:
            output.update(event, active)
        except Exception:
            self.output_errors += 1
            log.exception("alarm output failed output=%s", type(output).__name__)

    def close(self) -> None:
        for condition in self._conditions.values():
            condition.debouncer.cancel()
