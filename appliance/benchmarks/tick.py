"""``qbox bench tick``: the 20 ms media tick's cost against the number of channels.

Every channel is in the IVR: a prompt is playing to it and DTMF detection listens on
it, the heaviest steady state a channel has.  Spans are E1-sized (30 B-channels) and
in-process (:class:`drivers.dahdi.memory.MemorySpanMedia`), so the figure is the tick's
own work: G.711 DTMF analysis, playback and block assembly, not a driver's I/O.
"""
from __future__ import annotations

import random
import statistics
import time

from appliance.cli._output import add_json_flag, format_table, print_json

__all__ = ["register", "measure"]

SWEEP = (60, 240, 960, 1920, 3840)
TICK_S = 0.020


def register(subparsers) -> None:
    parser = subparsers.add_parser("tick", help="the 20 ms media tick's CPU against the channel count")
    parser.add_argument("--channels", type=int, action="append",
                        help=f"channels to measure (repeatable; default {', '.join(map(str, SWEEP))})")
    parser.add_argument("--ticks", type=int, default=250, help="ticks per measurement (default 250 = 5 s of line time)")
    add_json_flag(parser)
    parser.set_defaults(func=_run)


def measure(channels: int, ticks: int = 250, seed: int = 1) -> dict:
    from appliance.media import ChannelRef, MediaEngine
    from cython_ext import g711, tones
    from drivers.dahdi.memory import MemorySpanMedia

    rng = random.Random(seed)
    spans = {}
    left, number = channels, 1
    while left > 0:
        spans[number] = MemorySpanMedia(min(30, left), keep=1)
        left -= min(30, left)
        number += 1
    engine = MediaEngine(spans)
    prompt = g711.alaw_encode(tones.sine_mix([440.0, 620.0], -18.0, 8000 * 30))   # 30 s "prompt"
    # the line: low-level speech-band noise on every channel (what callers send while listening)
    noise = g711.alaw_encode(bytes(
        b for _ in range(160 * 30) for b in int(rng.gauss(0, 300)).to_bytes(2, "little", signed=True)))
    heard = []
    for span, media in spans.items():
        for index in range(len(media.channels)):
            ref = ChannelRef(span, index)
            engine.play(ref, prompt, loop=True)
            engine.listen(ref, heard.append)
    samples = []
    for tick in range(ticks):
        for media in spans.values():
            offset = (tick % 30) * 160
            media.feed_block((noise[offset:offset + 160]) * len(media.channels))
        start = time.thread_time()     # CPU time: other processes' load does not count
        engine.tick()
        samples.append(time.thread_time() - start)
    samples.sort()
    mean = statistics.fmean(samples)
    return {
        "channels": channels, "spans": len(spans), "ticks": ticks,
        "tick_cpu_ms_mean": round(mean * 1e3, 3), "tick_cpu_ms_p99": round(samples[int(0.99 * (len(samples) - 1))] * 1e3, 3),
        "core_percent": round(100 * mean / TICK_S, 2),
        "channels_per_core": int(channels / (mean / TICK_S)) if mean else None,
        "false_digits": len(heard),
    }


def _run(args) -> None:
    results = [measure(n, args.ticks) for n in (args.channels or SWEEP)]
    if args.json:
        print_json({"benchmark": "tick", "results": results})
        return
    print(format_table(["channels", "spans", "CPU ms/tick (mean)", "(p99)", "% of a core", "channels/core"],
                       [[r["channels"], r["spans"], r["tick_cpu_ms_mean"], r["tick_cpu_ms_p99"], r["core_percent"],
                         r["channels_per_core"]] for r in results]))
