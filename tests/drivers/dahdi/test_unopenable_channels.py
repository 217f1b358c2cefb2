"""Channels that cannot be opened fail alike on both backends.

The real backend on the fake kernel (a branch box whose FXS card has channel 59 left
out of system.conf) and a simulator laid out the same way (FXS ports 56-58 and 60, so
59 is on the card but unconfigured) must give the same errno and the same words,
the only difference being where each tells the user to look.
"""
from __future__ import annotations

import errno
import re

import pytest

from drivers.clock import ManualClock
from drivers.dahdi import DahdiError, open_backend
from drivers.dahdi.sim import FarEnd, PortSpec
from tests.drivers.dahdi.fakedahdi import branch_kernel
from tests.drivers.dahdi.test_sim_backend import SPANS, TIMING, sim_dir  # noqa: F401  (fixture)

SIM_PORTS = [PortSpec(c, "fxoks", "alaw", "agents") for c in (56, 57, 58, 60)]


@pytest.fixture
def both(sim_dir):
    """(real backend on the fake kernel, simulated backend), laid out alike."""
    far = FarEnd(sim_dir, SPANS, SIM_PORTS, clock=ManualClock(), timing=TIMING).start()
    real = open_backend("dahdi:///dev/dahdi", io=branch_kernel())
    sim = open_backend(f"sim://{sim_dir}")
    yield real, sim
    sim.close()
    real.close()
    far.stop()


def refusal(backend, channo: int) -> DahdiError:
    with pytest.raises(DahdiError) as info:
        backend.open_channel(channo)
    return info.value


def in_form(message: str) -> str:
    """The message with the pointer to the configuration ("(see ...)") left out."""
    return re.sub(r" \(see [^)]*\)$", " (see ...)", message)


@pytest.mark.parametrize("channo, errno_, form", [
    (59, errno.ENXIO, "DAHDI channel 59 is not configured (see ...)"),   # on the card, not in system.conf
    (999, errno.EINVAL, "DAHDI channel 999 does not exist"),             # nowhere
])
def test_unconfigured_and_missing_channels_are_refused_alike(both, channo, errno_, form):
    real, sim = (refusal(backend, channo) for backend in both)
    assert (real.errno, in_form(str(real))) == (errno_, form)
    assert (sim.errno, in_form(str(sim))) == (errno_, form)


def test_the_simulator_points_at_the_box_configuration(both):
    _, sim = both
    assert str(refusal(sim, 59)) == "DAHDI channel 59 is not configured (see the fxs channels of the box configuration)"


def test_a_dchannel_is_no_voice_channel_on_either(both):
    real, sim = (str(refusal(backend, 16)) for backend in both)
    assert real == "DAHDI channel 16 is Hardware-assisted HDLC, not a voice channel"
    assert sim.startswith(real + " (")                                   # and says what opens it


def test_the_unconfigured_channel_shows_on_the_card_as_on_a_real_one(both):
    real, sim = (backend.span_status(3).channels for backend in both)
    assert [(c.channo, c.signalling) for c in real][3] == (59, "Unconfigured")
    assert [(c.channo, c.signalling, c.state) for c in sim] == [
        (56, "FXOKS", "idle"), (57, "FXOKS", "idle"), (58, "FXOKS", "idle"), (59, "Unconfigured", "idle"),
        (60, "FXOKS", "idle")]
    assert [c.name for c in sim] == [f"SIM/FXS/{pos}" for pos in range(1, 6)]
