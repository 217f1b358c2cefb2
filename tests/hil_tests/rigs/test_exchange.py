"""The exchange's pieces: a line's audio queue, channel positions, roles, lock-step guard."""
from __future__ import annotations

import pytest

from appliance.cli.sim import simulated_spans
from appliance.config import load_config_text
from drivers.clock import ManualClock
from drivers.dahdi.sim import FarEnd
from hil_tests.rigs.exchange import Exchange, Line
from tests.hil_tests.rigs.conftest import box_config

SILENCE = bytes([0xD5]) * 160


def test_a_line_sends_its_queue_then_its_background_and_says_when_a_piece_is_out():
    line = Line(1, 5, 4, "alaw")
    done = []
    assert line.next_block() is None                            # nothing to say: silence
    line.play(b"\x01" * 200, lambda: done.append("a"))
    line.play(b"\x02" * 100, lambda: done.append("b"))
    first = line.next_block()
    assert first == b"\x01" * 160 and done == []
    second = line.next_block()
    assert second == b"\x01" * 40 + b"\x02" * 100 + SILENCE[:20] and done == ["a", "b"]
    line.background = b"\x03" * 160
    assert line.next_block() == b"\x03" * 160
    line.play(b"\x04" * 10, lambda: done.append("c"))
    line.stop()                                                 # dropped: its on_done never runs
    assert line.next_block() is None and done == ["a", "b"] and not line.playing


def test_block_index_is_the_position_order_of_the_b_channels(simdir):
    config = box_config(0)
    farend = FarEnd(simdir, simulated_spans(config), clock=ManualClock())
    exchange = Exchange(farend, config, on_setup=lambda span, call: None)
    assert exchange.line(1, 1).index == 0 and exchange.line(1, 15).index == 14
    assert exchange.line(1, 17).index == 15 and exchange.line(1, 31).index == 29
    with pytest.raises(ValueError):
        exchange.line(1, 16)                                    # the D-channel carries no audio
    # the far end is the network side facing qbox's pri_cpe trunk, the user side (PBX) on pri_net
    assert exchange.stack(1).role == "network" and exchange.stack(2).role == "user"
    assert exchange.trunk_spans == [1] and exchange.agent_spans == [2]
    exchange.close()


def test_t1_spans_carry_mu_law_and_23_b_channels(simdir):
    config = load_config_text("""\
node: {name: t1-box}
spans:
  - {number: 1, type: t1, framing: esf, coding: b8zs, signalling: pri_cpe, switchtype: ni2, dchannel: 24}
""")
    farend = FarEnd(simdir, simulated_spans(config), clock=ManualClock())
    exchange = Exchange(farend, config, on_setup=lambda span, call: None)
    assert exchange.law(1) == "ulaw" and exchange.line(1, 23).index == 22
    exchange.close()


def test_lockstep_needs_a_far_end_on_a_manual_clock(simdir):
    config = box_config(0)
    farend = FarEnd(simdir, simulated_spans(config))
    with pytest.raises(ValueError, match="manual clock"):
        Exchange(farend, config, on_setup=lambda span, call: None, lockstep=True)
