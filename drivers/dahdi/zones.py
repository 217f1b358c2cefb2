"""DAHDI's tone zones: the names ``loadzone=``/``defaultzone=`` accept in system.conf, and
each zone's ring cadence.  The truth is DAHDI's zonedata (libtonezone); a test checks this
table against the installed library (tests/drivers/dahdi/test_sim_ring_cadence.py)."""
from __future__ import annotations

__all__ = ["RING_CADENCES", "TONE_ZONES"]

#: Each tone zone's ring cadence in ms, ring and silence in turn, as DAHDI's zonedata
#: (libtonezone) gives it: DAHDI_HOOK RING follows it on an FXO-signalled port, round
#: and round until the phone answers or the near end stops it.  Hong Kong ("hk") has none.
RING_CADENCES: dict[str, tuple[int, ...]] = {
    "us": (2000, 4000), "au": (400, 200, 400, 2000), "fr": (1500, 3500), "nl": (1000, 4000),
    "uk": (400, 200, 400, 2000), "fi": (1000, 4000), "es": (1500, 3000), "jp": (1000, 2000),
    "no": (1000, 4000), "at": (1000, 5000), "nz": (400, 200, 400, 2000), "it": (1000, 4000),
    "us-old": (2000, 4000), "gr": (1000, 4000), "tw": (1000, 4000), "cl": (1000, 3000),
    "se": (1000, 5000), "be": (1000, 3000), "sg": (400, 200, 400, 2000), "il": (1000, 3000),
    "br": (1000, 4000), "hu": (1250, 3750), "lt": (1000, 4000), "pl": (1000, 4000),
    "za": (400, 200, 400, 2000), "pt": (1000, 5000), "ee": (1000, 4000), "mx": (2000, 4000),
    "in": (400, 200, 400, 2000), "de": (1000, 4000), "ch": (1000, 4000), "dk": (1000, 4000),
    "cz": (1000, 4000), "cn": (1000, 4000), "ar": (1000, 4500), "my": (400, 200, 400, 2000),
    "th": (1000, 4000), "bg": (1000, 4000), "ve": (1000, 4000), "ph": (1000, 4000),
    "ru": (1000, 4000), "tr": (2000, 4000), "pa": (2000, 4000), "mo": (1000, 4000),
    "cr": (1203, 4797), "ae": (1500, 4000),
}

#: Every zone DAHDI knows, in zonedata's order.
TONE_ZONES: tuple[str, ...] = tuple(RING_CADENCES)
