"""Fault specs for the simulated bench: ``qbox demo --fault SPEC`` and HIL fault injectors.

Grammar (one spec; several are given as repeated options or joined by commas)::

    SPEC   = [TARGET ":"] KIND ["@" START ["-" END]]
    TARGET = "span" N | "tower" | "sound"          (default: span1)
    KIND   = span: los lof ais rai ber dchan       tower/sound: unplug
    START, END = seconds from the start of the run (decimals allowed); no END: to the end

    span1:los@10-30    loss of signal on span 1 from second 10 to second 30
    ais                AIS (blue alarm) on span 1 for the whole run
    span2:ber@5        excessive line errors on span 2 from second 5 on
    tower:unplug@20    the tower is unplugged at second 20 (and stays out)
    tower:unplug@20-40 ... and plugged back in at second 40

Each span fault has the DAHDI alarm bits a simulated span should show
(:attr:`Fault.alarm_bits`) or, for ``ber``/``dchan``, what else to break.  Errors are
one line naming the spec and the character where it went wrong.
"""
from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from drivers.dahdi.interface import DAHDI_ALARM_LFA, DAHDI_ALARM_LOS, Alarm

__all__ = ["Fault", "FaultSpecError", "parse_fault", "parse_faults", "SPAN_KINDS", "DEVICE_KINDS"]

# DAHDI_ALARM_* bits from <dahdi/user.h>
SPAN_KINDS = {
    "los": Alarm.RED | DAHDI_ALARM_LOS,     # loss of signal: RED with the LOS detail bit
    "lof": Alarm.RED | DAHDI_ALARM_LFA,     # loss of frame alignment: RED with LFA
    "ais": Alarm.BLUE,                      # all ones from upstream
    "rai": Alarm.YELLOW,                    # the far end reports an alarm
    "ber": 0,                               # no alarm bit: line error counters climb
    "dchan": 0,                             # the D-channel stops answering (Q.921 down)
}
DEVICE_KINDS = {"tower": ("unplug",), "sound": ("unplug",)}

_WORD = re.compile(r"[a-z]+\d*")
_KIND = re.compile(r"[a-z]+")
_SECONDS = re.compile(r"\d+(?:\.\d+)?")


class FaultSpecError(ValueError):
    """A fault spec that does not parse; the message names the spec and the offset."""


@dataclass(frozen=True)
class Fault:
    target: str                 # "span1", "tower", "sound"
    kind: str                   # "los", "ais", ..., "unplug"
    start_s: float = 0.0
    end_s: float | None = None  # None: until the end of the run

    @property
    def span(self) -> int | None:
        return int(self.target[4:]) if self.target.startswith("span") else None

    @property
    def alarm_bits(self) -> int:
        """DAHDI alarm bits the faulty span shows (0 for device faults, ber and dchan)."""
        return SPAN_KINDS.get(self.kind, 0) if self.span is not None else 0

    def active_at(self, t: float) -> bool:
        return t >= self.start_s and (self.end_s is None or t < self.end_s)

    def __str__(self) -> str:
        when = f"@{self.start_s:g}" + (f"-{self.end_s:g}" if self.end_s is not None else "")
        return f"{self.target}:{self.kind}{when}"


class _Scanner:
    """Left to right over one spec, so an error can point at its character."""

    def __init__(self, spec: str) -> None:
        self.spec = spec
        self.text = spec.lower()
        self.pos = len(spec) - len(spec.lstrip())
        self.end = len(spec.rstrip())

    def take(self, pattern: re.Pattern) -> str | None:
        match = pattern.match(self.text, self.pos, self.end)
        if match is None:
            return None
        self.pos = match.end()
        return match.group()

    def skip(self, char: str) -> bool:
        if self.text.startswith(char, self.pos) and self.pos < self.end:
            self.pos += 1
            return True
        return False

    def fail(self, why: str, at: int | None = None) -> FaultSpecError:
        offset = self.pos if at is None else at
        return FaultSpecError(f"fault {self.spec!r}, character {offset + 1}: {why}")


def parse_fault(spec: str) -> Fault:
    scan = _Scanner(spec)
    head_at = scan.pos
    head = scan.take(_WORD)
    if head is None:
        raise scan.fail("expected [TARGET:]KIND[@START[-END]], e.g. span1:los@10-30")
    if scan.skip(":"):
        target, kind_at = head, scan.pos
        kind = scan.take(_KIND)
        if kind is None:
            raise scan.fail(f"expected a fault kind after {target!r}:")
    else:
        target, kind, kind_at = "span1", head, head_at
    start, end, end_at = 0.0, None, 0
    if scan.skip("@"):
        seconds = scan.take(_SECONDS)
        if seconds is None:
            raise scan.fail("expected the start in seconds after '@'")
        start = float(seconds)
        if scan.skip("-"):
            end_at = scan.pos
            seconds = scan.take(_SECONDS)
            if seconds is None:
                raise scan.fail("expected the end in seconds after '-'")
            end = float(seconds)
    if scan.pos != scan.end:
        raise scan.fail(f"unexpected {spec[scan.pos]!r}")
    if re.fullmatch(r"span\d+", target):
        if int(target[4:]) < 1:
            raise scan.fail("spans are numbered from 1", head_at)
        if kind not in SPAN_KINDS:
            raise scan.fail(f"unknown span fault {kind!r} (use {', '.join(SPAN_KINDS)})", kind_at)
    elif target in DEVICE_KINDS:
        if kind not in DEVICE_KINDS[target]:
            raise scan.fail(f"unknown {target} fault {kind!r} (use {', '.join(DEVICE_KINDS[target])})", kind_at)
    else:
        raise scan.fail(f"unknown target {target!r} (use spanN, tower or sound)", head_at)
    if end is not None and end <= start:
        raise scan.fail(f"ends at {end:g} s, not after it starts at {start:g} s", end_at)
    return Fault(target, kind, start, end)


def parse_faults(specs: Iterable[str]) -> list[Fault]:
    """Every fault of repeated ``--fault`` options, each possibly a comma-separated list."""
    faults = []
    for option in specs:
        for spec in option.split(","):
            if spec.strip():
                faults.append(parse_fault(spec))
    return faults
