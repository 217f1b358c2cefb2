"""Call-progress tone plans (dial, ringback, busy, congestion, call waiting) per country.

Plans are data, written in Asterisk's ``indications.conf`` notation so anyone who
has configured Asterisk reads them at a glance: a tone is comma-separated parts
``FREQ[+FREQ...][/MS]``; ``0`` is silence; a part without ``/MS`` lasts for ever
(a continuous tone); a leading ``!`` marks a part that is played once and not
repeated.  :func:`render` turns a plan into audio through :mod:`cython_ext.tones`.

Sources: ITU-T E.180 Suppl. 2 and ETSI TR 101 041 (425 Hz European plan),
ANSI T1.401 / the North American precise tone plan, and YD/T 1216 (450 Hz
Chinese plan); cadences match Asterisk's ``[us]``, ``[cn]`` and CEPT zones.
"""
from __future__ import annotations

from dataclasses import dataclass

from cython_ext import tones as _kernel

__all__ = [
    "TONE_PLANS",
    "TONE_LEVELS_DBM0",
    "ToneSegment",
    "parse_tone",
    "tone_segments",
    "render",
]

#: country -> tone name -> Asterisk indications.conf notation.
TONE_PLANS: dict[str, dict[str, str]] = {
    "cn": {
        "dial": "450",
        "ringback": "450/1000,0/4000",
        "busy": "450/350,0/350",
        "congestion": "450/700,0/700",
        "callwaiting": "450/400,0/4000",
    },
    "itu": {  # CEPT/ETSI: the 425 Hz plan used across Europe ("eu" is an alias)
        "dial": "425",
        "ringback": "425/1000,0/4000",
        "busy": "425/500,0/500",
        "congestion": "425/250,0/250",
        "callwaiting": "425/200,0/200,425/200,0/5000",
    },
    "us": {
        "dial": "350+440",
        "ringback": "440+480/2000,0/4000",
        "busy": "480+620/500,0/500",
        "congestion": "480+620/250,0/250",
        "callwaiting": "440/300,0/10000",
    },
}
TONE_PLANS["eu"] = TONE_PLANS["itu"]

#: Default level per tone (each frequency), in dBm0, per country and tone.
TONE_LEVELS_DBM0: dict[str, dict[str, float]] = {
    "cn": dict.fromkeys(TONE_PLANS["cn"], -10.0),
    "itu": dict.fromkeys(TONE_PLANS["itu"], -10.0),
    "us": {"dial": -13.0, "ringback": -19.0, "busy": -24.0, "congestion": -24.0,
           "callwaiting": -13.0},
}
TONE_LEVELS_DBM0["eu"] = TONE_LEVELS_DBM0["itu"]


@dataclass(frozen=True)
class ToneSegment:
    """One part of a cadence: ``freqs`` (empty for silence) for ``duration_ms``
    (None: continuous); ``once`` parts are not repeated."""

    freqs: tuple[float, ...]
    duration_ms: float | None
    once: bool = False


def parse_tone(text: str) -> list[ToneSegment]:
    """Parse Asterisk indications notation, e.g. ``"480+620/500,0/500"``.

    Raises ValueError naming the offending part.
    """
    segments = []
    for part in (p.strip() for p in text.split(",")):
        once = part.startswith("!")
        body = part[1:] if once else part
        freq_text, _, ms_text = body.partition("/")
        try:
            freqs = tuple(float(f) for f in freq_text.split("+"))
            duration = float(ms_text) if ms_text else None
        except ValueError:
            raise ValueError(f"bad tone part {part!r} in {text!r}") from None
        if any(f < 0 for f in freqs) or (duration is not None and duration <= 0):
            raise ValueError(f"bad tone part {part!r} in {text!r}")
        freqs = tuple(f for f in freqs if f > 0)
        segments.append(ToneSegment(freqs, duration, once))
    return segments


def tone_segments(country: str, tone: str) -> list[ToneSegment]:
    """The parsed plan of ``tone`` in ``country`` (KeyError names what is known)."""
    plans = TONE_PLANS.get(country.lower())
    if plans is None:
        raise KeyError(f"no tone plan for country {country!r}; known: {', '.join(sorted(TONE_PLANS))}")
    if tone not in plans:
        raise KeyError(f"no tone {tone!r} in plan {country!r}; known: {', '.join(plans)}")
    return parse_tone(plans[tone])


def render(country: str, tone: str, duration_ms: float, level_dbm0: float | None = None,
           sample_rate: int = 8000) -> bytes:
    """``duration_ms`` of ``tone`` (int16 little-endian), cadence repeated as needed.

    ``level_dbm0`` (per frequency) defaults to the country's level for that tone.
    """
    segments = tone_segments(country, tone)
    if level_dbm0 is None:
        level_dbm0 = TONE_LEVELS_DBM0[country.lower()][tone]
    wanted = int(round(duration_ms * sample_rate / 1000.0))
    once = [(s.freqs, s.duration_ms or duration_ms) for s in segments if s.once]
    looped = [(s.freqs, s.duration_ms or duration_ms) for s in segments if not s.once]
    audio = _kernel.cadence(once, level_dbm0, sample_rate=sample_rate) if once else b""
    if looped:
        period = _kernel.cadence(looped, level_dbm0, sample_rate=sample_rate)
        missing = max(0, 2 * wanted - len(audio))
        audio += period * -(-missing // len(period))
    return audio[:2 * wanted] + bytes(max(0, 2 * wanted - len(audio)))
