"""How many agents: the least number that meets a service-level target.

Erlang C without patience, Erlang A (callers hang up after an exponential patience)
with it.  A day profile is a YAML file of 15-minute intervals::

    target_sl: 0.8          # optional here; --target-sl wins
    threshold: 20           # seconds; --threshold wins
    patience: 120           # optional; --patience wins
    intervals:
      - {start: "08:00", calls: 40, aht: 180}     # calls offered in the 15 minutes
      - {start: "08:15", calls: 55, aht: 175}
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Optional

import yaml

from appliance.acd.erlang import erlang_a_metrics, erlang_c_metrics
from appliance.errors import BadInput

__all__ = ["Staffing", "required_agents", "ProfileInterval", "DayProfile", "load_day_profile", "staff_day"]

MAX_AGENTS = 100_000


@dataclass(frozen=True)
class Staffing:
    agents: int
    service_level: float
    asa: float
    occupancy: float
    p_abandon: Optional[float]      # Erlang A only
    model: str                      # "erlang_c" or "erlang_a"

    def as_json(self) -> dict[str, Any]:
        out = {"agents": self.agents, "service_level": self.service_level, "asa": self.asa,
               "occupancy": self.occupancy, "model": self.model}
        if self.p_abandon is not None:
            out["p_abandon"] = self.p_abandon
        return out


def check_target(target_sl: float, threshold: float) -> None:
    if not 0 < target_sl < 1:
        raise BadInput(f"--target-sl must be a fraction between 0 and 1 (e.g. 0.8), not {target_sl}")
    if not threshold >= 0 or math.isinf(threshold):
        raise BadInput(f"--threshold must be seconds >= 0, not {threshold}")


def _evaluate(agents: int, calls_per_hour: float, aht: float, threshold: float,
              patience: Optional[float]) -> Staffing:
    if patience is None:
        c = erlang_c_metrics(agents, calls_per_hour, aht, threshold)
        return Staffing(agents, c.service_level, c.asa, c.occupancy, None, "erlang_c")
    a = erlang_a_metrics(agents, calls_per_hour, aht, patience, threshold)
    return Staffing(agents, a.service_level, a.asa, a.occupancy, a.p_abandon, "erlang_a")


def required_agents(calls_per_hour: float, aht: float, target_sl: float, threshold: float,
                    patience: Optional[float] = None) -> Staffing:
    """The least agents whose predicted service level is at least ``target_sl``."""
    check_target(target_sl, threshold)
    if not calls_per_hour >= 0 or not aht > 0 or (patience is not None and not patience > 0):
        raise BadInput("calls per hour must be >= 0, AHT and patience > 0")
    if calls_per_hour == 0:
        return Staffing(0, 1.0, 0.0, 0.0, 0.0 if patience is not None else None,
                        "erlang_a" if patience is not None else "erlang_c")
    load = calls_per_hour * aht / 3600

    def good(n: int) -> bool:
        return _evaluate(n, calls_per_hour, aht, threshold, patience).service_level >= target_sl

    # The service level grows with the agents: double, then bisect.
    low = math.floor(load) if patience is None else 0      # Erlang C needs more agents than erlangs
    high = max(1, low + 1)
    while not good(high):
        low, high = high, high * 2
        if high > MAX_AGENTS:
            raise BadInput(f"no staffing up to {MAX_AGENTS} agents meets {target_sl:.0%} within {threshold:g} s")
    while high - low > 1:
        mid = (low + high) // 2
        if good(mid):
            high = mid
        else:
            low = mid
    return _evaluate(high, calls_per_hour, aht, threshold, patience)


@dataclass(frozen=True)
class ProfileInterval:
    start: str
    calls: float
    aht: float

    @property
    def calls_per_hour(self) -> float:
        return self.calls * 4


@dataclass(frozen=True)
class DayProfile:
    intervals: tuple[ProfileInterval, ...]
    target_sl: Optional[float] = None
    threshold: Optional[float] = None
    patience: Optional[float] = None


def _number(node: yaml.Node, where: str, *, positive: bool) -> float:
    try:
        value = float(node.value) if isinstance(node, yaml.ScalarNode) else None
    except ValueError:
        value = None
    if value is None or math.isnan(value) or math.isinf(value) or value < 0 or (positive and value == 0):
        need = "a number > 0" if positive else "a number >= 0"
        raise BadInput(f"{where} (line {node.start_mark.line + 1}): must be {need}, not {getattr(node, 'value', '?')!r}")
    return value


def load_day_profile(path: str | Path) -> DayProfile:
    """Read and check a day profile; errors name the file, line and field."""
    path = Path(path)
    try:
        root = yaml.compose(path.read_text())
    except OSError as exc:
        raise BadInput(f"{path}: cannot read: {exc.strerror}") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = f":{mark.line + 1}" if mark else ""
        raise BadInput(f"{path}{line}: not valid YAML: {getattr(exc, 'problem', exc)}") from None
    if not isinstance(root, yaml.MappingNode):
        raise BadInput(f"{path}: expected a mapping with 'intervals'")
    fields = {key.value: value for key, value in root.value}
    unknown = set(fields) - {"intervals", "target_sl", "threshold", "patience"}
    if unknown:
        key = next(k for k, _ in root.value if k.value in unknown)
        raise BadInput(f"{path}:{key.start_mark.line + 1}: unknown field {key.value!r}")
    extra = {name: _number(fields[name], f"{path}: {name}", positive=name != "threshold")
             for name in ("target_sl", "threshold", "patience") if name in fields}
    items = fields.get("intervals")
    if not isinstance(items, yaml.SequenceNode) or not items.value:
        raise BadInput(f"{path}: 'intervals' must be a non-empty list")
    intervals, seen = [], set()
    for i, item in enumerate(items.value):
        where = f"{path}:{item.start_mark.line + 1}: intervals[{i}]"
        if not isinstance(item, yaml.MappingNode):
            raise BadInput(f"{where}: expected {{start, calls, aht}}")
        entry = {key.value: value for key, value in item.value}
        for name in ("start", "calls", "aht"):
            if name not in entry:
                raise BadInput(f"{where}: missing {name!r}")
        start = str(entry["start"].value)
        hours, _, minutes = start.partition(":")
        if not (hours.isdigit() and minutes.isdigit() and int(hours) < 24 and int(minutes) < 60
                and int(minutes) % 15 == 0 and len(minutes) == 2):
            raise BadInput(f"{where}.start: {start!r} is not a quarter hour like '08:15'")
        if start in seen:
            raise BadInput(f"{where}.start: {start!r} appears twice")
        seen.add(start)
        intervals.append(ProfileInterval(start, _number(entry["calls"], f"{where}.calls", positive=False),
                                         _number(entry["aht"], f"{where}.aht", positive=True)))
    return DayProfile(tuple(intervals), extra.get("target_sl"), extra.get("threshold"), extra.get("patience"))


def staff_day(profile: DayProfile, target_sl: float, threshold: float,
              patience: Optional[float]) -> list[tuple[ProfileInterval, Staffing]]:
    return [(interval, required_agents(interval.calls_per_hour, interval.aht, target_sl, threshold, patience))
            for interval in profile.intervals]
