"""The ``ivr`` section of the box configuration: nodes, actions, hooks and opening hours.

An IVR is a set of named nodes.  Each node has a ``kind``:

- ``menu``: play a prompt, take one digit, do what ``options`` says for it; ``timeout``,
  ``retries``, ``invalid_prompt``, ``timeout_prompt`` and ``on_failure`` as in any PBX.
- ``collect``: read ``min_digits``..``max_digits`` digits (ended by ``terminator`` or the
  ``inter_digit_timeout``) into the call variable ``into``, then ``next``.
- ``hook``: ask an ISV service (``hooks``) with the call variables; its answer's keys become
  variables; ``next`` on success, ``fallback`` on error or after ``timeout`` seconds.
- ``play``: play ``prompt`` and, if ``say`` names a variable, read its value back digit by
  digit; then ``next``.
- ``queue`` / ``transfer`` / ``hangup``: the call leaves the IVR.

Wherever an action is expected (``options``, ``next``, ``on_failure``, ``fallback``) a bare
name means ``{goto: name}``.
"""
from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Literal

__all__ = ["Action", "IvrNode", "HookConfig", "OpeningHours", "IvrConfig", "DTMF_KEYS"]

DTMF_KEYS = "0123456789*#ABCD"
_VARIABLE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_HOURS = re.compile(r"^(?P<days>[a-z]{3}(-[a-z]{3})?)\s+(?P<start>\d\d:\d\d)-(?P<end>\d\d:\d\d)$")
DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def _goto(name: object) -> dict:
    return {"goto": str(name)}


def _prompts(value: object) -> tuple[str, ...]:
    """A prompt is one name or a list of names played in turn."""
    if isinstance(value, str):
        return (value,)
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return tuple(value)
    raise ValueError(f"expected a prompt name or a list of names, got {value!r}")


@dataclass(frozen=True)
class Action:
    """Where a call goes next: exactly one of goto, queue, transfer, hangup."""

    goto: str | None = None
    queue: str | None = None
    priority: int = field(default=0, metadata={"min": 0, "max": 1000})
    transfer: str | None = None
    hangup: bool = False
    cause: int = field(default=16, metadata={"min": 1, "max": 127})  # Q.850; 16 = normal clearing

    @property
    def kind(self) -> str:
        for name in ("goto", "queue", "transfer"):
            if getattr(self, name) is not None:
                return name
        return "hangup"

    def config_checks(self) -> Iterator[tuple[tuple, str]]:
        chosen = [n for n in ("goto", "queue", "transfer") if getattr(self, n) is not None]
        chosen += ["hangup"] if self.hangup else []
        if len(chosen) != 1:
            yield (), f"an action needs exactly one of goto, queue, transfer, hangup (got {', '.join(chosen) or 'none'})"
        if self.transfer is not None and not re.fullmatch(r"[0-9*#+]{1,32}", self.transfer):
            yield ("transfer",), f"{self.transfer!r} is not a dialable number"


_ACTION = {"shorthand": _goto}


@dataclass(frozen=True)
class IvrNode:
    kind: Literal["menu", "collect", "hook", "play", "queue", "transfer", "hangup"]
    prompt: tuple[str, ...] = field(default=(), metadata={"parse": _prompts})
    # menu
    options: dict[str, Action] = field(default_factory=dict, metadata=_ACTION)
    timeout: float = field(default=5.0, metadata={"min": 0.5, "max": 120})
    retries: int = field(default=3, metadata={"min": 1, "max": 10})
    invalid_prompt: tuple[str, ...] = field(default=("invalid",), metadata={"parse": _prompts})
    timeout_prompt: tuple[str, ...] = field(default=(), metadata={"parse": _prompts})
    on_failure: Action = field(default_factory=lambda: Action(hangup=True), metadata=_ACTION)
    # collect
    min_digits: int = field(default=1, metadata={"min": 1, "max": 64})
    max_digits: int = field(default=20, metadata={"min": 1, "max": 64})
    terminator: str = "#"
    inter_digit_timeout: float = field(default=3.0, metadata={"min": 0.5, "max": 60})
    into: str = "digits"
    # hook
    hook: str | None = None
    fallback: Action | None = field(default=None, metadata=_ACTION)
    # play
    say: str | None = None
    # what follows collect, hook and play
    next: Action | None = field(default=None, metadata=_ACTION)
    # queue / transfer / hangup nodes
    queue: str | None = None
    priority: int = field(default=0, metadata={"min": 0, "max": 1000})
    number: str | None = None
    cause: int = field(default=16, metadata={"min": 1, "max": 127})

    def config_checks(self) -> Iterator[tuple[tuple, str]]:
        for key in self.options:
            if len(key) != 1 or key not in DTMF_KEYS:
                yield ("options", key), f"{key!r} is not a DTMF key ({DTMF_KEYS})"
        if self.kind == "menu" and not self.options:
            yield ("options",), "a menu needs at least one option"
        if self.kind in ("collect", "hook", "play") and self.next is None:
            yield ("next",), f"a {self.kind} node needs 'next'"
        if self.kind == "collect":
            if self.min_digits > self.max_digits:
                yield ("min_digits",), f"min_digits {self.min_digits} is more than max_digits {self.max_digits}"
            if self.terminator and (len(self.terminator) != 1 or self.terminator not in DTMF_KEYS):
                yield ("terminator",), f"{self.terminator!r} is not a DTMF key"
            if not _VARIABLE.match(self.into):
                yield ("into",), f"{self.into!r} is not a variable name"
        if self.kind == "hook":
            if self.hook is None:
                yield ("hook",), "a hook node needs 'hook' (the name of an entry in ivr.hooks)"
            if self.fallback is None:
                yield ("fallback",), "a hook node needs 'fallback' for when the service fails"
        if self.say is not None and not _VARIABLE.match(self.say):
            yield ("say",), f"{self.say!r} is not a variable name"
        if self.kind == "queue" and self.queue is None:
            yield ("queue",), "a queue node needs 'queue'"
        if self.kind == "transfer" and (self.number is None or not re.fullmatch(r"[0-9*#+]{1,32}", self.number)):
            yield ("number",), "a transfer node needs 'number', a dialable number"

    def targets(self) -> Iterator[tuple[tuple, Action]]:
        """Every action in this node, with its path below the node."""
        for key, action in self.options.items():
            yield ("options", key), action
        for name in ("on_failure", "fallback", "next"):
            action = getattr(self, name)
            if action is not None:
                yield (name,), action


@dataclass(frozen=True)
class HookConfig:
    """An ISV self-service call: a Python entry point or a local HTTP/JSON endpoint."""

    python: str | None = None          # "package.module:function", called with the variables
    http: str | None = None            # POSTed the variables as JSON; answers a JSON object
    timeout: float = field(default=2.0, metadata={"min": 0.1, "max": 30})

    def config_checks(self) -> Iterator[tuple[tuple, str]]:
        if (self.python is None) == (self.http is None):
            yield (), "a hook needs exactly one of 'python' or 'http'"
        if self.python is not None and not re.fullmatch(r"[\w.]+:[\w.]+", self.python):
            yield ("python",), f"{self.python!r} is not 'module:function'"
        if self.http is not None and not re.match(r"^https?://(127\.\d+\.\d+\.\d+|localhost|\[::1\])(:\d+)?/", self.http):
            yield ("http",), f"{self.http!r}: hooks call local services only (http://127.0.0.1:PORT/...)"


@dataclass(frozen=True)
class OpeningHours:
    """When the branch answers; outside these hours calls take ``closed``."""

    open: tuple[str, ...] = field(metadata={"min_items": 1})   # "mon-fri 09:00-17:30", "sat 09:00-12:00"
    closed: Action = field(metadata=_ACTION)
    timezone: str = "UTC"
    holidays: tuple[str, ...] = ()    # "2026-10-01": closed all day

    def config_checks(self) -> Iterator[tuple[tuple, str]]:
        from zoneinfo import available_timezones

        for i, rule in enumerate(self.open):
            match = _HOURS.match(rule.strip().lower())
            days = match and match["days"].split("-")
            if not match or any(d not in DAYS for d in days):
                yield ("open", i), f"{rule!r} is not like 'mon-fri 09:00-17:30'"
            elif not (_minutes(match["start"]) < _minutes(match["end"]) <= 24 * 60):
                yield ("open", i), f"{rule!r}: the opening time must come before the closing time"
        for i, day in enumerate(self.holidays):
            if not re.fullmatch(r"\d{4}-\d\d-\d\d", day):
                yield ("holidays", i), f"{day!r} is not a date like 2026-10-01"
        if self.timezone not in available_timezones():
            yield ("timezone",), f"{self.timezone!r} is not a known time zone (e.g. Asia/Shanghai)"


def _minutes(hhmm: str) -> int:
    hours, minutes = hhmm.split(":")
    return int(hours) * 60 + int(minutes) if int(minutes) < 60 else 10**6


@dataclass(frozen=True)
class IvrConfig:
    nodes: dict[str, IvrNode] = field(metadata={"min_items": 1})
    entry: str = "main"
    language: str = "en"
    prompts_dir: str = "/var/lib/qbox/prompts"
    hooks: dict[str, HookConfig] = field(default_factory=dict)
    hours: OpeningHours | None = None

    def config_checks(self) -> Iterator[tuple[tuple, str]]:
        if self.entry not in self.nodes:
            yield ("entry",), f"entry node {self.entry!r} is not defined in nodes"
        for name, node in self.nodes.items():
            if node.hook is not None and node.hook not in self.hooks:
                yield ("nodes", name, "hook"), f"hook {node.hook!r} is not defined in ivr.hooks"
            for path, action in node.targets():
                if action.goto is not None and action.goto not in self.nodes:
                    yield ("nodes", name) + path, f"node {action.goto!r} is not defined"
        if self.hours is not None and self.hours.closed.goto not in (None, *self.nodes):
            yield ("hours", "closed"), f"node {self.hours.closed.goto!r} is not defined"
