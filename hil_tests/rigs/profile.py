"""The traffic a rig offers: a market-open arrival curve, caller scripts and bot habits.

A :class:`TrafficProfile` is plain data.  Its arrival curve is a list of points
``(minute, fraction of the peak rate)`` joined by straight lines; the default is a
securities branch at market open (09:25 to 09:45: a climb to the 09:30 open, the
rush, the slow decline).  ``speed`` compresses the profile's own clock: at speed 10
the twenty minutes pass in two, arrivals come ten times as fast, and the bots'
habits (ring delay, handling time, patience, breaks) shrink ten times too.  Audio
is never sped up: prompts, DTMF and talk run at 8000 samples a second whatever the
speed, since the service under test hears them through its real media path.

Arrivals are a Poisson process with that time-varying rate (Lewis-Shedler thinning),
drawn from a seeded :class:`random.Random`, so a run is repeatable.
"""
from __future__ import annotations

import math
import random
import re
from dataclasses import dataclass

__all__ = ["Script", "TrafficProfile", "ArrivalProcess", "MARKET_OPEN", "DEFAULT_SCRIPTS", "parse_script"]

#: 09:25 to 09:45 as (minute, fraction of the peak rate): the open at minute 5.
MARKET_OPEN: tuple[tuple[float, float], ...] = (
    (0.0, 0.15), (3.0, 0.35), (4.5, 0.7), (5.0, 1.0), (8.0, 1.0), (12.0, 0.7), (16.0, 0.5), (20.0, 0.4),
)
_STEP = re.compile(r"^(?:[0-9*#ABCD]|\{account\})+$")


@dataclass(frozen=True)
class Script:
    """What one kind of caller keys in: one string of digits per prompt, in order.

    ``{account}`` in a step stands for ``account_digits`` random digits (a different
    account for every caller).  After the last step the caller waits in the queue.
    """

    steps: tuple[str, ...]
    weight: float = 1.0

    def __post_init__(self) -> None:
        if self.weight <= 0:
            raise ValueError(f"script {self}: weight must be positive")
        for step in self.steps:
            if not _STEP.match(step):
                raise ValueError(f"script step {step!r}: use DTMF keys 0-9 * # A-D and {{account}}")

    def render(self, rng: random.Random, account_digits: int) -> tuple[str, ...]:
        account = "".join(rng.choice("0123456789") for _ in range(account_digits))
        return tuple(step.replace("{account}", account) for step in self.steps)

    def __str__(self) -> str:
        return f"{self.weight:g}:{','.join(self.steps)}"


def parse_script(text: str) -> Script:
    """``"0.3:2,{account}#"`` -> Script(("2", "{account}#"), weight=0.3); weight optional."""
    weight, colon, steps = text.rpartition(":") if ":" in text else ("1", "", text)
    try:
        value = float(weight)
    except ValueError:
        raise ValueError(f"script {text!r}: {weight!r} is not a weight (WEIGHT:STEP,STEP,...)") from None
    parts = tuple(s.strip() for s in steps.split(",")) if steps.strip() else ()
    return Script(parts, value)


#: Most callers press 1 for the trading desk; some press 2 and key in an account.
DEFAULT_SCRIPTS: tuple[Script, ...] = (Script(("1",), 0.7), Script(("2", "{account}#"), 0.3))


@dataclass(frozen=True)
class TrafficProfile:
    """Everything that shapes a run's traffic.  Times are seconds of profile time."""

    peak_per_minute: float = 30.0
    curve: tuple[tuple[float, float], ...] = MARKET_OPEN
    speed: float = 1.0
    called_number: str = "95511"
    calling_prefix: str = "138"          # callers are 138NNNNNNNN, one number per caller
    scripts: tuple[Script, ...] = DEFAULT_SCRIPTS
    account_digits: int = 8
    # caller habits
    patience_mean: float = 60.0          # exponential; the caller abandons the queue after it
    caller_hangup_fraction: float = 0.3  # of answered calls, the caller clears (else the agent)
    prompt_gap: float = 0.6              # quiet that ends a prompt (audio time, never scaled)
    prompt_patience: float = 10.0        # press anyway after this long (audio time)
    barge_in: float | None = None        # regulars key this long into a prompt, not after it (audio time)
    # agent habits
    ring_delay: tuple[float, float] = (1.0, 4.0)   # uniform
    no_answer_fraction: float = 0.05     # rings an agent lets go unanswered
    handling_mean: float = 40.0          # exponential talk time
    break_fraction: float = 0.0          # after a call, an agent takes a break this often
    break_mean: float = 60.0
    talk_level_dbm0: float = -30.0
    seed: int = 1

    def __post_init__(self) -> None:
        if self.peak_per_minute < 0:
            raise ValueError("peak_per_minute must not be negative")
        if self.speed <= 0:
            raise ValueError(f"speed {self.speed:g}: must be positive")
        if not self.curve or any(b[0] <= a[0] for a, b in zip(self.curve, self.curve[1:])):
            raise ValueError("curve: give (minute, fraction) points in increasing minute order")
        if any(f < 0 for _, f in self.curve):
            raise ValueError("curve: fractions must not be negative")
        if not self.scripts:
            raise ValueError("give at least one caller script")
        for name in ("caller_hangup_fraction", "no_answer_fraction", "break_fraction"):
            if not 0 <= getattr(self, name) <= 1:
                raise ValueError(f"{name} must be between 0 and 1")
        low, high = self.ring_delay
        if not 0 <= low <= high:
            raise ValueError(f"ring_delay {self.ring_delay}: expected 0 <= low <= high")
        if self.barge_in is not None and self.barge_in < 0:
            raise ValueError(f"barge_in {self.barge_in:g}: must not be negative")
        for name in ("patience_mean", "handling_mean", "break_mean"):
            if getattr(self, name) <= 0:
                raise ValueError(f"{name} must be positive")

    def fraction_at(self, minute: float) -> float:
        """The curve at ``minute`` of profile time (flat before the first and after the last point)."""
        points = self.curve
        if minute <= points[0][0]:
            return points[0][1]
        for (m0, f0), (m1, f1) in zip(points, points[1:]):
            if minute <= m1:
                return f0 + (f1 - f0) * (minute - m0) / (m1 - m0)
        return points[-1][1]

    def rate_at(self, run_seconds: float) -> float:
        """Arrivals per second of run time, ``run_seconds`` into the run."""
        minute = run_seconds * self.speed / 60.0
        return self.peak_per_minute * self.fraction_at(minute) * self.speed / 60.0

    @property
    def max_rate(self) -> float:
        return self.peak_per_minute * max(f for _, f in self.curve) * self.speed / 60.0

    def scaled(self, seconds: float) -> float:
        """A bot habit of ``seconds`` profile time as run time."""
        return seconds / self.speed

    def pick_script(self, rng: random.Random) -> Script:
        return rng.choices(self.scripts, weights=[s.weight for s in self.scripts])[0]


class ArrivalProcess:
    """Arrival times of a non-homogeneous Poisson process with ``profile.rate_at``."""

    def __init__(self, profile: TrafficProfile, rng: random.Random) -> None:
        self.profile = profile
        self.rng = rng

    def next_after(self, t: float, horizon: float = math.inf) -> float | None:
        """The first arrival after run time ``t`` (None if there is none before ``horizon``)."""
        ceiling = self.profile.max_rate
        if ceiling <= 0:
            return None
        while True:
            t += self.rng.expovariate(ceiling)
            if t >= horizon:
                return None
            if self.rng.random() * ceiling <= self.profile.rate_at(t):
                return t
