"""A box under test: ``qbox run --lockstep`` in its own process against a simulated exchange.

The test process holds the simulated far end (drivers.dahdi.sim.FarEnd on a manual
clock) and a small exchange: qbox's own ISDN stack as the network side of the trunk
span and as the agents' PBX (user side) on the agent span.  ``step()`` moves the line
20 ms: it sends this tick's audio, advances the far end, waits for the service's
answer block on every span (lock-step), then hands D-channel frames to the stacks.
Assertions go through the control socket, the SQLite store and the queue_log file,
as the NOC and reporting tools see them.
"""
from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from appliance.cli.sim import simulated_spans
from appliance.config import load_config
from appliance.control import ControlClient
from appliance.isdn.stack import Stack
from cython_ext import g711, tones
from drivers.clock import ManualClock
from drivers.dahdi.sim import FarEnd
from hil_tests.simbench import terminate

BLOCK = 160
IDLE = 0xD5

BASE_CONFIG = """\
node: {name: test-box}
dahdi: {device: "sim://SIMDIR", loadzones: [cn], defaultzone: cn}
spans:
  - {number: 1, type: e1, framing: ccs, coding: hdb3, crc4: true, timing: 1, signalling: pri_cpe,
     switchtype: euroisdn, dchannel: 16}
  - {number: 2, type: e1, framing: ccs, coding: hdb3, crc4: true, signalling: pri_net,
     switchtype: euroisdn, dchannel: 16, role: agent}
queues:
  - {name: sales, strategy: linear, timeout: 3, retry: 0, wrapuptime: 2, QUEUE_EXTRA}
  - {name: overflow, strategy: linear, timeout: 3, retry: 0}
agents:
  - {id: "8001", queues: [{queue: sales, penalty: 0}, {queue: overflow, penalty: 0}]}
  - {id: "8002", queues: [{queue: sales, penalty: 1}]}
recording: {queues: [sales], directory: RECDIR}
ivr:
  prompts_dir: PROMPTDIR
  nodes:
    main:
      kind: menu
      prompt: welcome
      timeout: 3
      options: {"1": {queue: sales}, "9": {hangup: true}, "0": {transfer: "95555"}}
"""


def dtmf_blocks(digits: str) -> list[bytes]:
    audio = g711.alaw_encode(tones.dtmf_digits(digits, 80, 80, -10))
    audio += bytes([IDLE]) * (-len(audio) % BLOCK)
    return [audio[i:i + BLOCK] for i in range(0, len(audio), BLOCK)]


def voice_blocks(seconds: float, freq: float) -> list[bytes]:
    audio = g711.alaw_encode(tones.sine_mix([freq], -15, int(seconds * 8000)))
    return [audio[i:i + BLOCK] for i in range(0, len(audio) - BLOCK + 1, BLOCK)]


@dataclass
class Party:
    """One end the exchange holds: a caller on the trunk or an agent's phone."""

    stack: Stack
    call: object = None
    events: list[str] = field(default_factory=list)
    cause: int | None = None
    sending: deque = field(default_factory=deque)   # G.711 blocks to send, one per tick


class Exchange:
    """The far side of the box: the exchange on span 1, the agents' PBX on span 2."""

    def __init__(self, farend: FarEnd, clock: ManualClock, agent_answer_after: dict[str, float]) -> None:
        self.farend = farend
        self.clock = clock
        self.trunk = Stack("network", farend.span(1).send_frame, clock, on_event=self._trunk_event,
                           variant="euroisdn", name="exchange", strict=True)
        self.pbx = Stack("user", farend.span(2).send_frame, clock, on_event=self._pbx_event,
                         variant="euroisdn", name="agent-pbx", strict=True)
        self.agent_answer_after = agent_answer_after      # extension -> seconds (missing: never)
        self.callers: dict[str, Party] = {}
        self.outside: dict[str, Party] = {}                # calls the box placed, by called number
        self.agents: dict[str, Party] = {}                 # by calling number of the caller they got
        self.agent_rings: list[str] = []
        self.heard: dict[int, bytes] = {}
        self.ticks = 0

    # -- driving ------------------------------------------------------------------------
    def start(self) -> None:
        self.trunk.start()
        self.pbx.start()

    def step(self, n: int = 1) -> None:
        for _ in range(n):
            for span, stack in ((1, self.trunk), (2, self.pbx)):
                self.farend.span(span).send_media(self._compose(stack))
            self.farend.advance(0.020)
            for span in (1, 2):
                block = self.farend.span(span).recv_media(timeout=10)
                assert block is not None, f"the service sent no block on span {span} (tick {self.ticks})"
                self.heard[span] = block
            self._pump()
            self.ticks += 1

    def run(self, seconds: float) -> None:
        self.step(int(round(seconds / 0.020)))

    def run_until(self, predicate, seconds: float = 30.0) -> None:
        for _ in range(int(seconds / 0.020)):
            if predicate():
                return
            self.step()
        raise AssertionError(f"not reached within {seconds} s of line time")

    def _pump(self) -> None:
        for span, stack in ((1, self.trunk), (2, self.pbx)):
            while (frame := self.farend.span(span).recv_frame(timeout=0)) is not None:
                stack.receive_frame(frame)

    def _compose(self, stack: Stack) -> bytes:
        block = bytearray([IDLE]) * (30 * BLOCK)
        parties = [*self.callers.values(), *self.outside.values()] if stack is self.trunk else self.agents.values()
        for party in parties:
            if party.call is not None and party.call.channel is not None and party.sending:
                index = _index(party.call.channel)
                block[index * BLOCK:(index + 1) * BLOCK] = party.sending.popleft()
        return bytes(block)

    def channel_audio(self, span: int, call) -> bytes:
        index = _index(call.channel)
        return self.heard[span][index * BLOCK:(index + 1) * BLOCK]

    # -- callers ------------------------------------------------------------------------
    def dial(self, calling: str, called: str = "95588") -> Party:
        party = Party(self.trunk)
        party.call = self.trunk.place_call(called, calling=calling)
        party.call.user_data = party
        self.callers[calling] = party
        return party

    def press(self, calling: str, digits: str) -> None:
        self.callers[calling].sending.extend(dtmf_blocks(digits))

    def hang_up(self, party: Party) -> None:
        party.stack.disconnect(party.call)

    def _trunk_event(self, event) -> None:
        if event.kind == "setup":                 # the box calls out: a transfer to an outside number
            party = Party(self.trunk, event.call)
            event.call.user_data = party
            self.outside[event.call.called] = party
            self.trunk.answer(event.call)
            return
        party = event.call.user_data if event.call is not None else None
        if party is not None:
            party.events.append(event.kind)
            if event.kind in ("disconnect", "released"):
                party.cause = event.cause

    # -- agents -------------------------------------------------------------------------
    def _pbx_event(self, event) -> None:
        if event.kind == "setup":
            call = event.call
            self.agent_rings.append(call.called)
            self.pbx.alert(call)
            party = Party(self.pbx, call)
            call.user_data = party
            self.agents[call.calling] = party
            after = self.agent_answer_after.get(call.called)
            if after is not None:
                self.clock.call_later(after, self._agent_answers, party)
            return
        party = event.call.user_data if event.call is not None else None
        if party is not None:
            party.events.append(event.kind)

    def _agent_answers(self, party: Party) -> None:
        if not party.call.released:
            self.pbx.answer(party.call)


def _index(timeslot: int) -> int:
    """E1: B-channel index in the span block for timeslot 1-15, 17-31."""
    return timeslot - 1 if timeslot < 16 else timeslot - 2


@dataclass
class Box:
    root: Path
    config_path: Path
    socket: Path
    state: Path
    process: subprocess.Popen
    farend: FarEnd
    exchange: Exchange

    def control(self) -> ControlClient:
        return ControlClient(self.socket)

    def request(self, cmd: str, **args):
        with self.control() as client:
            return client.request(cmd, **args)

    def cdrs(self) -> list[dict]:
        db = sqlite3.connect(self.state / "qbox.db")
        db.row_factory = sqlite3.Row
        try:
            return [dict(r) for r in db.execute("SELECT * FROM cdr ORDER BY id")]
        finally:
            db.close()

    def queue_log(self) -> list[list[str]]:
        path = self.state / "queue_log"
        return [line.split("|") for line in path.read_text().splitlines()] if path.exists() else []

    def kill(self) -> None:
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(10)


def start_box(tmp_path: Path, queue_extra: str = "maxlen: 0", ivr_extra: str = "", ivr_hours: str = "",
              agent_answer_after: dict[str, float] | None = None) -> Box:
    sim, state, rec, prompts = (tmp_path / d for d in ("sim", "state", "rec", "prompts"))
    text = BASE_CONFIG.replace("SIMDIR", str(sim)).replace("RECDIR", str(rec)).replace("PROMPTDIR", str(prompts))
    text = text.replace("QUEUE_EXTRA", queue_extra) + textwrap.indent(ivr_extra, "    ")
    text = text.replace("ivr:\n", "ivr:\n" + textwrap.indent(ivr_hours, "  "))
    config_path = tmp_path / "box.yaml"
    config_path.write_text(text)
    config = load_config(config_path)
    clock = ManualClock()
    farend = FarEnd(sim, simulated_spans(config), clock=clock).start()
    socket = tmp_path / "control.sock"
    log = open(tmp_path / "service.log", "w")
    process = subprocess.Popen(
        [sys.executable, "-m", "appliance.cli", "run", "--config", str(config_path), "--state-dir", str(state),
         "--socket", str(socket), "--lockstep", "--log-level", "debug"],
        stdout=log, stderr=subprocess.STDOUT, cwd=os.getcwd())
    deadline = time.monotonic() + 30
    while not socket.exists():
        if process.poll() is not None or time.monotonic() > deadline:
            farend.stop()
            raise AssertionError("qbox run did not start:\n" + (tmp_path / "service.log").read_text())
        time.sleep(0.05)
    exchange = Exchange(farend, clock, agent_answer_after if agent_answer_after is not None else {"8001": 1.0, "8002": 1.0})
    exchange.start()
    box = Box(tmp_path, config_path, socket, state, process, farend, exchange)
    exchange.run_until(lambda: exchange.trunk.link_up and exchange.pbx.link_up, seconds=10)
    return box


@pytest.fixture
def box_factory(tmp_path):
    boxes: list[Box] = []

    def make(**kwargs) -> Box:
        box = start_box(tmp_path, **kwargs)
        boxes.append(box)
        return box

    yield make
    for box in boxes:
        terminate(box.process, 10)
        box.farend.stop()
