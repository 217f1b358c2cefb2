"""What a simulated DAHDI system is made of: its spans, its FXS ports, its line timing.

These are plain descriptions, built by whoever starts the simulator (``qbox sim run``
builds them from the box configuration).  Names and numbers follow DAHDI: channels are
numbered consecutively across spans, an E1 span has 31 timeslots with the D-channel on
16, a T1 span 24 channels with the D-channel on 24.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from drivers.dahdi.zones import RING_CADENCES

__all__ = ["SpanSpec", "PortSpec", "LineTiming", "LBO_TEXT", "SIGNALLING_TEXT"]

#: The words dahdi_scan prints for each ``lbo`` setting (dahdi-tools' lbostr table).
LBO_TEXT = (
    "0 db (CSU)/0-133 feet (DSX-1)",
    "133-266 feet (DSX-1)",
    "266-399 feet (DSX-1)",
    "399-533 feet (DSX-1)",
    "533-655 feet (DSX-1)",
    "-7.5db (CSU)",
    "-15db (CSU)",
    "-22.5db (CSU)",
)

#: How ``/proc/dahdi/N`` names each signalling (dahdi-base.c's sigstr()).
SIGNALLING_TEXT = {
    "clear": "Clear",
    "hardhdlc": "Hardware-assisted HDLC",
    "dchan": "HDLCFCS",
    "fxoks": "FXOKS",
    "fxols": "FXOLS",
}

_BIT_RATE = {"E1": 2_048_000, "T1": 1_544_000}
_CHANNELS = {"E1": 31, "T1": 24}


@dataclass(frozen=True)
class SpanSpec:
    """One digital span: line format, its place in DAHDI's channel numbering, its D-channel."""

    number: int
    type: Literal["E1", "T1"] = "E1"
    framing: str = "CCS"            # CCS or CAS (E1), D4 or ESF (T1)
    coding: str = "HDB3"            # HDB3 or AMI (E1), B8ZS or AMI (T1)
    crc4: bool = False
    first_channo: int = 1
    dchannel: int = 16              # position of the D-channel in the span; 0 for none
    dchan_mode: Literal["hardhdlc", "dchan"] = "hardhdlc"
    timing: int = 0                 # sync priority: 0 never, 1 first choice, ...
    lbo: int = 0
    description: str = ""

    def __post_init__(self) -> None:
        if self.type not in _CHANNELS:
            raise ValueError(f"span {self.number}: type must be E1 or T1, not {self.type!r}")
        if not 0 <= self.dchannel <= self.channel_count:
            raise ValueError(f"span {self.number}: no timeslot {self.dchannel} on {self.type}")

    @property
    def name(self) -> str:
        return f"SIM/{self.number}"

    @property
    def channel_count(self) -> int:
        return _CHANNELS[self.type]

    @property
    def bit_rate(self) -> int:
        return _BIT_RATE[self.type]

    @property
    def law(self) -> Literal["alaw", "ulaw"]:
        """What the line carries: A-law on E1, mu-law on T1 (DAHDI's defaults)."""
        return "alaw" if self.type == "E1" else "ulaw"

    @property
    def channos(self) -> range:
        return range(self.first_channo, self.first_channo + self.channel_count)

    @property
    def dchannel_channo(self) -> int | None:
        return self.first_channo + self.dchannel - 1 if self.dchannel else None

    @property
    def bchannel_channos(self) -> tuple[int, ...]:
        return tuple(c for c in self.channos if c != self.dchannel_channo)

    @property
    def line_text(self) -> str:
        """Coding, framing and CRC-4 as /proc/dahdi prints them: ``HDB3/CCS/CRC4``."""
        return "/".join([self.coding, self.framing] + (["CRC4"] if self.crc4 else []))

    @property
    def lbo_text(self) -> str:
        return LBO_TEXT[self.lbo] if 0 <= self.lbo < len(LBO_TEXT) else str(self.lbo)

    def signalling_of(self, channo: int) -> str:
        if channo == self.dchannel_channo:
            return SIGNALLING_TEXT[self.dchan_mode]
        return SIGNALLING_TEXT["clear"]


@dataclass(frozen=True)
class PortSpec:
    """One analogue FXS port an agent's phone plugs into (FXO signalling on the port)."""

    channo: int
    signalling: Literal["fxoks", "fxols"] = "fxoks"
    law: Literal["alaw", "ulaw"] = "alaw"
    group: str = ""
    zone: str = "us"              # the tone zone (system.conf defaultzone): its ring cadence

    @property
    def ring_cadence(self) -> tuple[float, ...] | None:
        """Ring and silence in seconds, in turn; None if DAHDI has no such zone (it cannot ring)."""
        cadence = RING_CADENCES.get(self.zone)
        return None if cadence is None else tuple(ms / 1000 for ms in cadence)


@dataclass(frozen=True)
class LineTiming:
    """How long the near end takes to notice a line condition, DAHDI's defaults.

    The debounces are wct4xxp's ``losalarmdebounce``, ``aisalarmdebounce`` and
    ``yelalarmdebounce``; ``settle`` is ``DAHDI_ALARMSETTLE_TIME``, how long a span
    stays RECOVERING after its alarms clear.
    """

    los_debounce: float = 2.5
    ais_debounce: float = 2.5
    rai_debounce: float = 0.5
    settle: float = 5.0

    @classmethod
    def scaled(cls, debounce: float | None = None, settle: float | None = None) -> "LineTiming":
        """Defaults with every debounce set to ``debounce`` and/or a different ``settle``."""
        base = cls()
        if debounce is not None:
            base = cls(debounce, debounce, debounce, base.settle)
        if settle is not None:
            base = cls(base.los_debounce, base.ais_debounce, base.rai_debounce, settle)
        return base
