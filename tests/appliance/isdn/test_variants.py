"""Switch variants: the coding each puts on the wire."""
from __future__ import annotations

import pytest

from appliance.isdn.backtoback import BackToBack
from appliance.isdn.q921 import LAPD
from appliance.isdn.q931 import (
    BearerCapability, CalledPartyNumber, CallingPartyNumber, Display, DisplayWithType, Q931,
    SendingComplete, Setup,
)
from appliance.isdn.variants import VARIANTS, get_variant


def _setup_on_the_line(variant: str) -> Setup:
    seen = []
    pair = BackToBack(variant=variant)
    pair.line = lambda frame, to_network: seen.append(frame) or [frame]
    pair.start()
    call = pair.user.place_call("5551234567", calling="2125551000", display="Queue")
    pair.pump()
    incoming = pair.network_events[-1].call
    assert (incoming.display, incoming.calling, incoming.called) == ("Queue", "2125551000", "5551234567")
    pair.close()
    setup = next(LAPD(f)[Q931] for f in seen if len(f) > 4)
    assert isinstance(setup, Setup) and call.channel == (31 if variant == "euroisdn" else 23)
    return setup


def test_euroisdn_coding():
    setup = _setup_on_the_line("euroisdn")
    assert setup.ie(BearerCapability).layer1_protocol == 3             # A-law
    assert setup.ie(SendingComplete) is not None
    assert setup.ie(Display) is not None and setup.ie(DisplayWithType) is None
    assert setup.ie(CalledPartyNumber).type_of_number == 0


def test_ni2_coding():
    setup = _setup_on_the_line("ni2")
    assert setup.ie(BearerCapability).layer1_protocol == 2             # mu-law
    assert setup.ie(SendingComplete) is None
    display = setup.ie(DisplayWithType)
    assert display is not None and display.display_type == 0x31 and display.text == b"Queue"
    assert setup.ie(CalledPartyNumber).type_of_number == 2             # national
    assert setup.ie(CallingPartyNumber).type_of_number == 2


def test_variant_names():
    assert get_variant("national") is VARIANTS["ni2"]
    with pytest.raises(ValueError, match="unknown switch variant 'dms100' .known: euroisdn, national, ni2"):
        get_variant("dms100")
