"""Switch variants: what differs on the wire between ETSI and North American PRIs.

The procedures are Q.931's in every variant; what changes is coding and a few
defaults.  Each variant is one frozen :class:`SwitchVariant`; a new one is one more
entry in :data:`VARIANTS` (names follow chan_dahdi's ``switchtype`` option).

==================  ===================  ==============================================
                    euroisdn (ETSI)      ni2 / national (North America)
==================  ===================  ==============================================
span                E1, 30 B-channels    T1, 23 B-channels
bearer layer 1      G.711 A-law          G.711 mu-law
Sending complete    sent with en-bloc    not used (not in NI-2)
                    numbers
Display             IA5 text             a type octet (0xB1) before the text
number type         unknown              national for 10 digits, else unknown
==================  ===================  ==============================================
"""
from __future__ import annotations

from dataclasses import dataclass

from appliance.isdn.codec import IESpec, ie
from appliance.isdn.q931 import Display, DisplayWithType

__all__ = ["SwitchVariant", "VARIANTS", "get_variant"]

LAYER1_ULAW = 2
LAYER1_ALAW = 3


@dataclass(frozen=True)
class SwitchVariant:
    name: str
    span_type: str                 # default span: "E1" or "T1"
    layer1: int                    # bearer capability octet 5: G.711 law
    sending_complete: bool         # mark en-bloc numbers with Sending complete
    display_with_type: bool        # Display IE carries a type octet first
    national_number_type: bool     # 10-digit numbers go out as type "national"

    def display(self, text: str) -> IESpec:
        """The Display element for ``text`` in this variant's coding."""
        data = text.encode("ascii", "replace")[:80]
        if self.display_with_type:
            return ie(DisplayWithType, text=data)
        return ie(Display, text=data)

    def type_of_number(self, digits: str) -> int:
        if self.national_number_type and len(digits) == 10:
            return 2
        return 0


VARIANTS: dict[str, SwitchVariant] = {
    "euroisdn": SwitchVariant("euroisdn", "E1", LAYER1_ALAW, sending_complete=True,
                              display_with_type=False, national_number_type=False),
    "ni2": SwitchVariant("ni2", "T1", LAYER1_ULAW, sending_complete=False,
                         display_with_type=True, national_number_type=True),
}
VARIANTS["national"] = VARIANTS["ni2"]


def get_variant(name: str) -> SwitchVariant:
    """The variant called ``name``; ValueError listing the known ones otherwise."""
    try:
        return VARIANTS[name]
    except KeyError:
        raise ValueError(f"unknown switch variant {name!r} (known: {', '.join(sorted(VARIANTS))})") from None
