"""A simulated bench for the rig tests: a far end, a box configuration, a stand-in service."""
from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import pytest

from appliance.cli.sim import simulated_spans
from appliance.config import BoxConfig, load_config_text
from drivers.clock import ManualClock
from drivers.dahdi.sim import FarEnd, LineTiming
from tests.hil_tests.rigs.standin import StandIn

SPANS = """\
node: {name: rig-test}
dahdi: {device: "sim:///unused", loadzones: [cn], defaultzone: cn}
spans:
  - {number: 1, type: e1, framing: ccs, coding: hdb3, crc4: true, timing: 1, signalling: pri_cpe,
     switchtype: euroisdn, dchannel: 16}
  - {number: 2, type: e1, framing: ccs, coding: hdb3, crc4: true, signalling: pri_net,
     switchtype: euroisdn, dchannel: 16, role: agent}
queues:
  - {name: trading}
"""


def box_config(agents: int = 2, extra: str = "") -> BoxConfig:
    """Span 1 a trunk (qbox pri_cpe), span 2 the agent side (qbox pri_net), agents 8001..."""
    text = SPANS
    if agents:
        text += "agents:\n" + "".join(f'  - {{id: "{8000 + i}", queues: [{{queue: trading}}]}}\n'
                                      for i in range(1, agents + 1))
    return load_config_text(text + extra, "rig-test.yaml")


@pytest.fixture
def simdir():
    """A short socket directory (Unix socket paths are limited to 108 bytes)."""
    path = Path(tempfile.mkdtemp(prefix="rig", dir="/tmp"))
    yield path / "sim"
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture
def bench(simdir):
    """``bench(config, lockstep=True, **standin_options)`` -> (farend, standin), both running."""
    started: list = []

    def make(config: BoxConfig, lockstep: bool = True, **options):
        farend = FarEnd(simdir, simulated_spans(config), clock=ManualClock() if lockstep else None,
                        timing=LineTiming.scaled(settle=0)).start()
        started.append(farend)
        standin = StandIn(simdir, config, **options).start()
        started.append(standin)
        return farend, standin

    yield make
    for thing in reversed(started):
        thing.stop()
