"""A simulated E1/T1 line: faults at the far end and what each end's framer reports.

Pure state and arithmetic on an injected clock; no sockets.  The far end injects
faults; the near end sees them the way a DAHDI card does (wct4xxp's alarm logic):

- ``los`` (loss of signal toward the near end): near end RED after the LOS
  debounce; the near end then sends RAI, so the far end shows YELLOW.
- ``lof`` (a signal, but no frame alignment in it): the same alarms as ``los``.
- ``ais`` (the far end sends all ones): near end BLUE after the AIS debounce.
- ``rai`` (the far end signals it lost us): near end YELLOW, far end RED.
- ``loop`` (the far end loops the line up): near end LOOP; the far end receives
  its own signal back.
- ``ber[:RATE]`` bit errors in both directions: the near end counts BPV, FAS, CRC-4
  (CRC-6 on T1 ESF, in the same counter as DAHDI drivers do) and E-bits (the far
  end's CRC-4 errors on our signal, reported back); D-channel frames hit by an error
  fail their FCS.
- ``slip[:RATE]`` clocks out of step: RATE controlled slips per second.
- ``dchan[:MODE]`` the far end's D-channel fails while layer 1 stays up (no alarm):
  ``down`` (the default: its HDLC timeslot is dead or its layer 2 is down, so no
  frame crosses either way and the near end's Q.921 loses the link: T203, then N200 x T200),
  ``corrupt[:FRACTION]`` (that fraction of frames, default all, fails its FCS: the near
  end gets DAHDI's BADFCS event instead of the frame, the far end drops the near end's)
  or ``abort[:FRACTION]`` (the same, ended by an HDLC abort: DAHDI's ABORT event).
- ``clear`` removes every fault.

When RED, BLUE and YELLOW have all gone the span shows RECOVERING for the settle
time; while the near end has RED, BLUE or RECOVERING it sends RAI (far end YELLOW).
A span also comes up through RECOVERING when the line starts.  Counters grow by
their expected value (fractions carried), so runs are exact and repeatable.
"""
from __future__ import annotations

import enum
import itertools
import math
from collections.abc import Callable
from dataclasses import dataclass

from drivers.clock import ManualClock
from drivers.dahdi.interface import Alarm, EventType, SpanCounters
from drivers.dahdi.sim.spec import LineTiming, SpanSpec

__all__ = ["FaultKind", "Fault", "parse_fault", "SpanLine", "DCHAN_MODES"]


class FaultKind(str, enum.Enum):
    LOS = "los"
    LOF = "lof"
    AIS = "ais"
    RAI = "rai"
    LOOP = "loop"
    BER = "ber"
    SLIP = "slip"
    DCHAN = "dchan"
    CLEAR = "clear"


_DEFAULT_RATE = {FaultKind.BER: 1e-5, FaultKind.SLIP: 0.1}
# D-channel fault modes: the DAHDI event a damaged frame becomes at the near end (None: no frame crosses).
DCHAN_MODES: dict[str, EventType | None] = {"down": None, "corrupt": EventType.BADFCS, "abort": EventType.ABORT}
# The alarm each line condition raises at the near end once its debounce has passed.
_RAISES = {FaultKind.LOS: Alarm.RED, FaultKind.LOF: Alarm.RED, FaultKind.AIS: Alarm.BLUE,
           FaultKind.RAI: Alarm.YELLOW}


@dataclass(frozen=True)
class Fault:
    kind: FaultKind
    rate: float = 0.0     # ber: bit error rate; slip: per second; dchan corrupt/abort: fraction of frames
    mode: str = ""        # dchan: down, corrupt or abort

    def __str__(self) -> str:
        if self.kind is FaultKind.DCHAN:
            return self.kind.value if self.mode == "down" else f"{self.kind.value}:{self.mode}:{self.rate:g}"
        return f"{self.kind.value}:{self.rate:g}" if self.kind in _DEFAULT_RATE else self.kind.value


def parse_fault(text: str) -> Fault:
    """``"los"``, ``"ber:1e-4"``, ``"slip:0.5"``, ``"dchan:corrupt:0.1"``, ``"clear"`` -> Fault.

    ValueError says why not.
    """
    word, colon, rate_text = text.strip().lower().partition(":")
    try:
        kind = FaultKind(word)
    except ValueError:
        names = "|".join(k.value for k in FaultKind)
        raise ValueError(f"unknown fault {text!r} (use {names}, ber:RATE, slip:RATE, dchan:MODE)") from None
    if kind is FaultKind.DCHAN:
        return _parse_dchan(rate_text if colon else "down")
    if kind not in _DEFAULT_RATE:
        if colon:
            raise ValueError(f"fault {word!r} takes no rate")
        return Fault(kind)
    if not colon:
        return Fault(kind, _DEFAULT_RATE[kind])
    try:
        rate = float(rate_text)
    except ValueError:
        raise ValueError(f"{word} rate {rate_text!r} is not a number") from None
    if kind is FaultKind.BER and not 0.0 < rate <= 0.5:
        raise ValueError(f"bit error rate {rate_text} is not in (0, 0.5], e.g. ber:1e-5")
    if kind is FaultKind.SLIP and not 0.0 < rate <= 1000.0:
        raise ValueError(f"slip rate {rate_text} is not in (0, 1000] slips per second")
    return Fault(kind, rate)


def _parse_dchan(text: str) -> Fault:
    """``down``, ``corrupt[:FRACTION]`` or ``abort[:FRACTION]`` (what follows ``dchan:``)."""
    mode, colon, fraction_text = text.partition(":")
    if mode not in DCHAN_MODES:
        raise ValueError(f"unknown D-channel fault {mode!r} (use dchan, dchan:down, "
                         f"dchan:corrupt[:FRACTION], dchan:abort[:FRACTION])")
    if mode == "down":
        if colon:
            raise ValueError("fault 'dchan:down' takes no fraction")
        return Fault(FaultKind.DCHAN, 1.0, "down")
    if not colon:
        return Fault(FaultKind.DCHAN, 1.0, mode)
    try:
        fraction = float(fraction_text)
    except ValueError:
        raise ValueError(f"dchan:{mode} fraction {fraction_text!r} is not a number") from None
    if not 0.0 < fraction <= 1.0:
        raise ValueError(f"dchan:{mode} fraction {fraction_text} is not in (0, 1], e.g. dchan:{mode}:0.1")
    return Fault(FaultKind.DCHAN, fraction, mode)


def _block_error_probability(ber: float, bits: int) -> float:
    """P(at least one of ``bits`` bits is wrong) = 1 - (1 - ber)**bits, precisely."""
    return -math.expm1(bits * math.log1p(-ber))


class SpanLine:
    """One span's line: active faults, each end's alarms, the near end's error counters.

    ``on_alarm(line, old, new)`` is called whenever the near end's alarms change,
    which is when DAHDI queues ALARM (new alarms) or NOALARM (none left) on every
    channel of the span.
    """

    def __init__(self, spec: SpanSpec, clock: ManualClock, timing: LineTiming,
                 on_alarm: Callable[["SpanLine", Alarm, Alarm], None] | None = None) -> None:
        self.spec = spec
        self.clock = clock
        self.timing = timing
        self.on_alarm = on_alarm
        self.faults: dict[FaultKind, Fault] = {}
        self.near_alarms = Alarm.NONE
        self._detected = Alarm.NONE        # debounced RED / BLUE / YELLOW
        self._settle_until: float | None = None
        self._onset: dict[FaultKind, int] = {}     # which injection each active fault came from
        self._injections = itertools.count(1)
        self._counts = [0.0] * 5           # bpv, crc4, fas, ebit, slips
        self._counted_until = clock.now()
        self._fcs_hits = 0.0
        self._dchan_hits = 0.0

    # -- far-end actions ---------------------------------------------------------

    def start(self) -> None:
        """The line comes up: the near end frames up and shows RECOVERING for the settle time."""
        self._begin_settle()
        self._update()

    def inject(self, fault: Fault) -> None:
        """Add ``fault`` (replacing one of the same kind); ``clear`` removes all of them."""
        self._accrue()
        if fault.kind is FaultKind.CLEAR:
            self.faults.clear()
            self._onset.clear()
        else:
            if fault.kind is FaultKind.DCHAN:
                self._dchan_hits = 0.0
            if fault.kind not in self.faults:
                self._onset[fault.kind] = onset = next(self._injections)
                if fault.kind in _RAISES:
                    delay = {Alarm.RED: self.timing.los_debounce, Alarm.BLUE: self.timing.ais_debounce,
                             Alarm.YELLOW: self.timing.rai_debounce}[_RAISES[fault.kind]]
                    self.clock.call_later(delay, self._detect, _RAISES[fault.kind], fault.kind, onset)
            self.faults[fault.kind] = fault
        self._update()

    # -- what each end sees --------------------------------------------------------

    @property
    def far_alarms(self) -> Alarm:
        alarms = Alarm.NONE
        if self.near_alarms & (Alarm.RED | Alarm.BLUE | Alarm.RECOVER | Alarm.NOTOPEN):
            alarms |= Alarm.YELLOW          # the near end sends RAI while it has these
        if FaultKind.RAI in self.faults:
            alarms |= Alarm.RED             # the far end has lost the near end's signal
        return alarms

    @property
    def reaches_near(self) -> bool:
        """Whether the far end's signal gets to the near end (no LOS, LOF or AIS)."""
        return not self.faults.keys() & {FaultKind.LOS, FaultKind.LOF, FaultKind.AIS}

    @property
    def reaches_far(self) -> bool:
        """Whether the near end's signal gets to the far end (no RAI cut, not looped up)."""
        return FaultKind.RAI not in self.faults and FaultKind.LOOP not in self.faults

    @property
    def looped(self) -> bool:
        return FaultKind.LOOP in self.faults

    @property
    def sending_ais(self) -> bool:
        return FaultKind.AIS in self.faults

    @property
    def dchannel_down(self) -> bool:
        """Whether the far end's D-channel carries no frames at all (``dchan``/``dchan:down``)."""
        fault = self.faults.get(FaultKind.DCHAN)
        return fault is not None and fault.mode == "down"

    def counters(self) -> SpanCounters:
        self._accrue()
        bpv, crc4, fas, ebit, slips = (int(c) for c in self._counts)
        return SpanCounters(bpv=bpv, crc4=crc4, fas=fas, ebit=ebit, slips=slips)

    def frame_hit(self, length: int) -> bool:
        """Whether a D-channel frame of ``length`` bytes (+2 FCS) is hit by a bit error.

        Deterministic: the expected number of hit frames is carried from frame to frame.
        """
        ber = self.faults.get(FaultKind.BER)
        if ber is None:
            return False
        self._fcs_hits += _block_error_probability(ber.rate, 8 * (length + 2))
        if self._fcs_hits >= 1.0:
            self._fcs_hits -= 1.0
            return True
        return False

    def frame_damage(self, length: int) -> EventType | None:
        """What a D-channel frame of ``length`` bytes arrives as: None if intact, else the
        DAHDI event the receiver raises instead (BADFCS, or ABORT for ``dchan:abort``).

        A ``dchan`` corrupt/abort fault damages its fraction of frames, carried from frame
        to frame like bit errors; a frame it spares can still be hit by ``ber``.
        """
        fault = self.faults.get(FaultKind.DCHAN)
        if fault is not None and DCHAN_MODES[fault.mode] is not None:
            self._dchan_hits += fault.rate
            if self._dchan_hits >= 1.0 - 1e-9:      # (a tenth added ten times is 0.999...)
                self._dchan_hits -= 1.0
                return DCHAN_MODES[fault.mode]
        return EventType.BADFCS if self.frame_hit(length) else None

    # -- internals -----------------------------------------------------------------

    def _detect(self, bit: Alarm, kind: FaultKind, onset: int) -> None:
        # A timer left over from a fault that was cleared (and maybe injected again) does nothing.
        if self._onset.get(kind) == onset:
            self._detected |= bit
            self._update()

    def _still_has(self, bit: Alarm) -> bool:
        return any(kind in self.faults for kind, raised in _RAISES.items() if raised == bit)

    def _begin_settle(self) -> None:
        self._settle_until = self.clock.now() + self.timing.settle
        self.clock.call_at(self._settle_until, self._update)

    def _update(self) -> None:
        # Alarms whose fault has been cleared go at once (the framer sees the signal back).
        present = Alarm.NONE
        for bit in (Alarm.RED, Alarm.BLUE, Alarm.YELLOW):
            if self._detected & bit and self._still_has(bit):
                present |= bit
        if self._detected and not present:
            self._begin_settle()
        self._detected = present
        alarms = present
        if self._settle_until is not None and self.clock.now() < self._settle_until:
            alarms |= Alarm.RECOVER
        else:
            self._settle_until = None
        if self.looped:
            alarms |= Alarm.LOOPBACK
        if alarms != self.near_alarms:
            old, self.near_alarms = self.near_alarms, alarms
            if self.on_alarm is not None:
                self.on_alarm(self, old, alarms)

    def _accrue(self) -> None:
        """Add the errors expected since the last call to the counters."""
        now = self.clock.now()
        elapsed, self._counted_until = now - self._counted_until, now
        if elapsed <= 0:
            return
        slip = self.faults.get(FaultKind.SLIP)
        if slip is not None:
            self._counts[4] += slip.rate * elapsed
        ber = self.faults.get(FaultKind.BER)
        if ber is None:
            return
        p, spec = ber.rate, self.spec
        if self.reaches_near:
            self._counts[0] += spec.bit_rate * p * elapsed
            if spec.type == "E1":
                # FAS: a 7-bit word in every other frame, 4000 words a second.
                self._counts[2] += 4000 * _block_error_probability(p, 7) * elapsed
                if spec.crc4:
                    # One CRC-4 per sub-multiframe: 1000 a second over 2048 bits each.
                    self._counts[1] += 1000 * _block_error_probability(p, 2048) * elapsed
            else:
                # T1 framing bits: 2000/s of FPS in ESF, 8000/s of Ft+Fs in D4.
                self._counts[2] += (2000 if spec.framing == "ESF" else 8000) * p * elapsed
                if spec.framing == "ESF":
                    # CRC-6 per 24-frame superframe: 1000/3 a second over 4632 bits each.
                    self._counts[1] += 1000 / 3 * _block_error_probability(p, 4632) * elapsed
        if self.reaches_far and self.reaches_near and spec.type == "E1" and spec.crc4:
            # E-bits: the far end's CRC-4 errors on the near end's signal, reported back to it.
            self._counts[3] += 1000 * _block_error_probability(p, 2048) * elapsed
