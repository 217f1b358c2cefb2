"""One caller's walk through the IVR: a state machine driven by digits, prompt ends and timers.

The session does no I/O.  It tells its :class:`IvrPort` (the call it belongs to) what to
play and where the call goes, and it is told of digits (``on_digit``) and of the end of
each prompt (the ``on_done`` callback it passed to ``play``).  Timers come from the
injected clock, so a test walks a caller through a menu in no time.
"""
from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from appliance.ivr.config import DAYS, Action, IvrConfig, IvrNode, OpeningHours
from appliance.ivr.prompts import say_digits_prompts
from drivers.clock import Clock, TimerHandle

__all__ = ["IvrPort", "IvrSession", "HookRunner", "is_open"]

log = logging.getLogger(__name__)


class IvrPort(Protocol):
    """What a session asks of its call."""

    def play(self, prompts: Sequence[str], on_done: Callable[[], None]) -> None:
        """Play the prompts in turn, then call ``on_done`` (not called if stopped)."""

    def stop_playback(self) -> None: ...

    def enqueue(self, queue: str, priority: int, variables: dict[str, str]) -> None: ...

    def transfer(self, number: str) -> None: ...

    def hangup(self, cause: int) -> None: ...


class HookRunner(Protocol):
    def run(self, hook: str, variables: dict[str, str],
            on_result: Callable[[dict[str, Any] | None, str | None], None]) -> None:
        """Call the hook; later ``on_result(answer, None)`` or ``on_result(None, error)``."""


def is_open(hours: OpeningHours, epoch_seconds: float) -> bool:
    """True if the branch is open at that moment (in its own time zone)."""
    local = datetime.fromtimestamp(epoch_seconds, ZoneInfo(hours.timezone))
    if local.strftime("%Y-%m-%d") in hours.holidays:
        return False
    today, minute = DAYS[local.weekday()], local.hour * 60 + local.minute
    for rule in hours.open:
        days, _, span = rule.strip().lower().partition(" ")
        first, _, last = days.partition("-")
        first_i, last_i = DAYS.index(first), DAYS.index(last or first)
        start, _, end = span.strip().partition("-")
        if first_i <= DAYS.index(today) <= last_i and _mins(start) <= minute < _mins(end):
            return True
    return False


def _mins(hhmm: str) -> int:
    hours, minutes = hhmm.split(":")
    return int(hours) * 60 + int(minutes)


class IvrSession:
    """Runs ``config`` for one call.  ``start()`` once answered; feed ``on_digit``."""

    def __init__(self, config: IvrConfig, port: IvrPort, clock: Clock, hooks: HookRunner | None = None,
                 variables: dict[str, str] | None = None) -> None:
        self.config = config
        self.port = port
        self.clock = clock
        self.hooks = hooks
        self.variables: dict[str, str] = dict(variables or {})
        self.node_name: str | None = None
        self.finished = False
        self.path: list[str] = []           # nodes visited, for the CDR
        self._attempts = 0
        self._digits = ""
        self._awaiting_input = False        # the prompt has ended (or been cut) and we wait
        self._timer: TimerHandle | None = None
        self._generation = 0                # invalidates callbacks from an earlier node

    # -- events in -------------------------------------------------------------------
    def start(self) -> None:
        hours = self.config.hours
        if hours is not None and not is_open(hours, self.clock.wall()):
            self.variables["closed"] = "1"
            self._do(hours.closed)
        else:
            self._enter(self.config.entry)

    def goto(self, name: str) -> None:
        """Continue at node ``name`` (a caller sent back from a queue: overflow, exit key)."""
        self.finished = False
        self._enter(name)

    def on_digit(self, digit: str) -> None:
        if self.finished or self.node_name is None:
            return
        node = self.node
        if node.kind == "menu":
            self._menu_digit(node, digit)
        elif node.kind == "collect":
            self._collect_digit(node, digit)
        # Digits pressed while a play/hook node runs are ignored, as in a PBX's Playback().

    def stop(self) -> None:
        """The call went away: cancel timers; nothing more will be asked of the port."""
        self.finished = True
        self._cancel_timer()
        self._generation += 1

    @property
    def node(self) -> IvrNode:
        assert self.node_name is not None
        return self.config.nodes[self.node_name]

    # -- moving between nodes ----------------------------------------------------------
    def _enter(self, name: str) -> None:
        self.node_name = name
        self.path.append(name)
        self._attempts = 0
        self._generation += 1
        self._cancel_timer()
        node = self.node
        if node.kind in ("queue", "transfer", "hangup"):
            self._do(Action(queue=node.queue, priority=node.priority) if node.kind == "queue" else
                     Action(transfer=node.number) if node.kind == "transfer" else
                     Action(hangup=True, cause=node.cause), prompts=node.prompt)
        elif node.kind in ("menu", "collect"):
            self._prompt_for_input(node.prompt)
        elif node.kind == "play":
            prompts = list(node.prompt)
            if node.say is not None:
                prompts += say_digits_prompts(self.variables.get(node.say, ""))
            self._play(prompts, lambda: self._do(node.next))
        elif node.kind == "hook":
            self._run_hook(node)

    def _do(self, action: Action | None, prompts: Sequence[str] = ()) -> None:
        if action is None or self.finished:
            return
        if action.goto is not None:
            self._enter(action.goto)
            return
        self._cancel_timer()
        if prompts:  # a goodbye before leaving: leave only once it has played
            self._play(prompts, lambda: self._leave(action))
        else:
            self._leave(action)

    def _leave(self, action: Action) -> None:
        self.finished = True
        self._generation += 1
        if action.queue is not None:
            self.port.enqueue(action.queue, action.priority, dict(self.variables))
        elif action.transfer is not None:
            self.port.transfer(action.transfer)
        else:
            self.port.hangup(action.cause)

    # -- prompts and timers -------------------------------------------------------------
    def _play(self, prompts: Sequence[str], then: Callable[[], None]) -> None:
        generation = self._generation

        def done() -> None:
            if generation == self._generation and not self.finished:
                then()

        self.port.play(list(prompts), done)

    def _prompt_for_input(self, prompts: Sequence[str]) -> None:
        self._digits = ""
        self._awaiting_input = False
        self._play(prompts, self._prompt_ended)

    def _prompt_ended(self) -> None:
        self._awaiting_input = True
        node = self.node
        if node.kind == "collect" and self._digits:
            self._arm(node.inter_digit_timeout, self._collect_timeout)
        else:
            self._arm(node.timeout, self._input_timeout)

    def _arm(self, seconds: float, callback: Callable[[], None]) -> None:
        self._cancel_timer()
        generation = self._generation

        def fire() -> None:
            if generation == self._generation and not self.finished:
                callback()

        self._timer = self.clock.call_later(seconds, fire)

    def _cancel_timer(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def _cut_prompt(self) -> None:
        """A digit barges in: stop the prompt; its on_done must not fire any more."""
        if not self._awaiting_input:
            self._generation += 1
            self.port.stop_playback()
            self._awaiting_input = True

    # -- menu -------------------------------------------------------------------------
    def _menu_digit(self, node: IvrNode, digit: str) -> None:
        self._cut_prompt()
        self._cancel_timer()
        action = node.options.get(digit)
        if action is not None:
            self.variables["menu_" + self.node_name] = digit
            self._do(action)
        else:
            self._retry(node, node.invalid_prompt)

    def _input_timeout(self) -> None:
        node = self.node
        if node.kind == "collect" and self._digits:
            self._collect_timeout()
        else:
            self._retry(node, node.timeout_prompt)

    def _retry(self, node: IvrNode, apology: Sequence[str]) -> None:
        self._attempts += 1
        if self._attempts >= node.retries:
            self._do(node.on_failure, prompts=apology)
            return
        self._generation += 1
        self._prompt_for_input(list(apology) + list(node.prompt))

    # -- collect ----------------------------------------------------------------------
    def _collect_digit(self, node: IvrNode, digit: str) -> None:
        self._cut_prompt()
        if node.terminator and digit == node.terminator:
            self._collect_finish(node)
            return
        self._digits += digit
        if len(self._digits) >= node.max_digits:
            self._collect_finish(node)
        else:
            self._arm(node.inter_digit_timeout, self._collect_timeout)

    def _collect_timeout(self) -> None:
        node = self.node
        if self._digits:
            self._collect_finish(node)
        else:
            self._retry(node, node.timeout_prompt)

    def _collect_finish(self, node: IvrNode) -> None:
        self._cancel_timer()
        if len(self._digits) < node.min_digits:
            self._retry(node, node.invalid_prompt)
            return
        self.variables[node.into] = self._digits
        self._do(node.next)

    # -- hooks ------------------------------------------------------------------------
    def _run_hook(self, node: IvrNode) -> None:
        hook = self.config.hooks[node.hook]
        generation = self._generation
        if self.hooks is None:
            log.warning("no hook runner; taking the fallback", extra={"kv": {"hook": node.hook}})
            self._do(node.fallback)
            return

        def answered(result: dict[str, Any] | None, error: str | None) -> None:
            if generation != self._generation or self.finished:
                return  # too late: the timeout already took the fallback
            self._cancel_timer()
            if error is not None or not isinstance(result, dict):
                log.warning("hook failed", extra={"kv": {"hook": node.hook, "error": error}})
                self.variables["hook_error"] = error or "bad answer"
                self._do(node.fallback)
                return
            self.variables.update({str(k): str(v) for k, v in result.items()})
            self._do(node.next)

        def timed_out() -> None:
            self.variables["hook_error"] = "timeout"
            log.warning("hook timed out", extra={"kv": {"hook": node.hook}})
            self._do(node.fallback)

        self._arm(hook.timeout, timed_out)
        self.hooks.run(node.hook, dict(self.variables), answered)
