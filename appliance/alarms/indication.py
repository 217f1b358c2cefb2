"""What the tower and the buzzer show for a set of active alarms (a pure function).

Each active alarm asks for its severity's lamp (see :class:`AlarmsConfig`): flashing
if so configured and not yet acknowledged, else steady.  A lamp asked for by several
alarms takes the strongest request (flash > on).  The sound is the loudest any
*unacknowledged* alarm asks for (siren > beep > none): acknowledging silences.  With
no active alarm the idle lamp (green) is lit.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from appliance.alarms.config import AlarmsConfig
from appliance.alarms.model import Alarm
from drivers.tower import LAMPS, TowerState

__all__ = ["Indication", "indicate", "lamp_test_sequence", "SOUND_RANK"]

SOUND_RANK = {"none": 0, "beep": 1, "siren": 2}
_MODE_RANK = {"off": 0, "on": 1, "flash": 2}


@dataclass(frozen=True)
class Indication:
    lamps: TowerState     # buzzer left off here: outputs decide how to sound ``sound``
    sound: str            # "none", "beep" or "siren"


def indicate(active: Sequence[Alarm], config: AlarmsConfig) -> Indication:
    modes = {lamp: "off" for lamp in LAMPS}
    sound = "none"
    for alarm in active:
        if not alarm.active:
            continue
        shown = config.annunciation(alarm.severity)
        if shown.lamp != "none":
            mode = "flash" if shown.flash and not alarm.acknowledged else "on"
            if _MODE_RANK[mode] > _MODE_RANK[modes[shown.lamp]]:
                modes[shown.lamp] = mode
        if not alarm.acknowledged and SOUND_RANK[shown.sound] > SOUND_RANK[sound]:
            sound = shown.sound
    if not any(a.active for a in active) and config.idle_lamp != "none":
        modes[config.idle_lamp] = "on"
    return Indication(TowerState(**modes), sound)


def lamp_test_sequence() -> list[TowerState]:
    """The technician's lamp test: each lamp steady, then flashing, then the buzzer, then all."""
    steps = [TowerState()]
    for mode in ("on", "flash"):
        for lamp in LAMPS:
            steps.append(TowerState().with_lamp(lamp, mode))
    steps.append(TowerState(buzzer=True))
    steps.append(TowerState(red="on", amber="on", green="on", buzzer=True))
    steps.append(TowerState())
    return steps
