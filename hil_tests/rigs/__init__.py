"""HIL rigs for the simulated bench: the exchange, caller and agent bots, the traffic driver.

The rigs stand where the outside world stands on a real bench: an ISDN exchange on
the trunks, a PBX with agents behind the agent span.  They speak only through the
simulated far end (:mod:`drivers.dahdi.sim`): D-channel frames through qbox's own ISDN
stack in the role opposite the service's, and 20 ms G.711 blocks of real audio (DTMF
keyed by callers, talk tones), so the service under test runs its real call path.

``python -m hil_tests.rigs`` runs the simulator and the rig as their own process
(what ``qbox demo`` and ``qbox bench bhca`` start beside ``qbox run``, through
:class:`RigProcess`).
"""
from hil_tests.rigs.agents import AgentBot, ControlWorker
from hil_tests.rigs.audio import DtmfStyle, PromptEar, dtmf_audio, tone_block
from hil_tests.rigs.callers import CallerBot
from hil_tests.rigs.exchange import Exchange, Line
from hil_tests.rigs.process import RigFailed, RigProcess
from hil_tests.rigs.profile import MARKET_OPEN, ArrivalProcess, Script, TrafficProfile, parse_script
from hil_tests.rigs.report import CallRecord, summarise
from hil_tests.rigs.traffic import RigNotReady, TrafficRig

__all__ = [
    "AgentBot", "ArrivalProcess", "CallRecord", "CallerBot", "ControlWorker", "DtmfStyle", "Exchange", "Line",
    "MARKET_OPEN", "PromptEar", "RigFailed", "RigNotReady", "RigProcess", "Script", "TrafficProfile", "TrafficRig", "dtmf_audio",
    "parse_script", "summarise", "tone_block",
]
