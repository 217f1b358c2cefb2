"""``qbox bench dtmf``: DTMF receiver throughput on span-shaped blocks.

Every channel plays a one-second programme on a loop, each from its own point:
a 100 ms DTMF digit, 400 ms of speech-band noise, 300 ms of ringback and 200 ms
of silence.  The audio is fed as a span is: blocks of ``channels x 160`` samples
(20 ms), channel-major, to one :class:`~cython_ext.dtmf.MultiChannelDtmf`; then
one channel's stream alone to a :class:`~cython_ext.dtmf.DtmfDetector` in 20 ms
feeds.  Figures are CPU time of this process on one core.  ``--spandsp`` builds
``bench/dtmf/spandsp_dtmf.c`` against Debian's libspandsp and times its
``dtmf_rx`` on the very same blocks, so the ratio is measured side by side.
"""
from __future__ import annotations

import array
import json
import logging
import math
import random
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from appliance.cli._output import add_json_flag, format_table, print_json
from appliance.errors import BadInput, QboxError
from appliance.tones import render
from cython_ext import tones
from cython_ext.dtmf import DtmfDetector, MultiChannelDtmf

__all__ = ["register", "run", "span_blocks", "SAMPLE_RATE", "BLOCK"]

log = logging.getLogger(__name__)

SAMPLE_RATE = 8000
BLOCK = 160                      # samples per channel per 20 ms block
_PROGRAMME_BLOCKS = 50           # one second
_HARNESS = Path(__file__).resolve().parents[2] / "bench" / "dtmf" / "spandsp_dtmf.c"


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "dtmf", help="DTMF receiver: samples/s and real-time channels per core",
        description=__doc__.split("\n\n")[1])
    parser.add_argument("--channels", type=int, default=240, help="channels in the span (default 240)")
    parser.add_argument("--seconds", type=float, default=10.0,
                        help="seconds of audio per channel (default 10)")
    parser.add_argument("--spandsp", action="store_true",
                        help="also time libspandsp's dtmf_rx on the same blocks (needs cc, libspandsp-dev)")
    add_json_flag(parser)
    parser.set_defaults(func=run)


def _programme(rng: random.Random) -> array.array:
    """One second of one channel's audio (see the module docstring)."""
    digit = tones.dtmf_digits(rng.choice("0123456789*#"), 100, 0, rng.uniform(-25, -6))
    noise, level = [], 0.0
    for _ in range(3200):          # 400 ms of noise through a one-pole low-pass: speech-band-ish
        level = 0.7 * level + rng.gauss(0.0, 600.0)
        noise.append(int(max(-32768, min(32767, level))))
    pcm = array.array("h", digit)
    pcm.extend(noise)
    pcm.extend(array.array("h", render("us", "ringback", 300)))
    pcm.extend(array.array("h", bytes(2 * 1600)))
    shift = rng.randrange(len(pcm))
    return pcm[shift:] + pcm[:shift]


def span_blocks(channels: int, seed: int = 1) -> list[bytes]:
    """One second of span blocks: ``_PROGRAMME_BLOCKS`` buffers of channels x 160 samples."""
    rng = random.Random(seed)
    programmes = [_programme(rng) for _ in range(min(channels, 64))]
    streams = [programmes[ch % len(programmes)] for ch in range(channels)]
    if sys.byteorder == "big":
        streams = [s[:] for s in streams]
        for s in streams:
            s.byteswap()
    return [b"".join(s[b * BLOCK:(b + 1) * BLOCK].tobytes() for s in streams)
            for b in range(_PROGRAMME_BLOCKS)]


def _time_multichannel(blocks: list[bytes], channels: int, n_blocks: int) -> tuple[float, int]:
    detector = MultiChannelDtmf(channels)
    events = 0
    start = time.process_time()
    for i in range(n_blocks):
        events += len(detector.feed(blocks[i % len(blocks)]))
    return time.process_time() - start, events


def _time_single(blocks: list[bytes], n_blocks: int) -> tuple[float, int]:
    one = [b[:2 * BLOCK] for b in blocks]          # channel 0's run of each block
    detector = DtmfDetector()
    events = 0
    start = time.process_time()
    for i in range(n_blocks):
        events += len(detector.feed(one[i % len(one)]))
    return time.process_time() - start, events


def _time_spandsp(blocks: list[bytes], channels: int, n_blocks: int) -> dict:
    compiler = shutil.which("cc") or shutil.which("gcc")
    if compiler is None or not _HARNESS.exists():
        raise QboxError(f"--spandsp needs a C compiler and {_HARNESS}")
    with tempfile.TemporaryDirectory(prefix="qbox-bench-dtmf-") as tmp:
        binary, audio = Path(tmp) / "spandsp_dtmf", Path(tmp) / "span.s16"
        built = subprocess.run([compiler, "-O2", "-o", str(binary), str(_HARNESS), "-lspandsp", "-lm"],
                               capture_output=True, text=True)
        if built.returncode:
            raise QboxError(f"cannot build {_HARNESS.name} (is libspandsp-dev installed?): "
                            f"{built.stderr.strip().splitlines()[-1] if built.stderr.strip() else ''}")
        with audio.open("wb") as out:
            for i in range(n_blocks):
                out.write(blocks[i % len(blocks)])
        done = subprocess.run([str(binary), str(channels), str(BLOCK), str(audio)],
                              capture_output=True, text=True, check=True)
    return json.loads(done.stdout)


def _figures(samples: int, cpu: float, events: int) -> dict:
    rate = samples / cpu if cpu > 0 else math.inf
    return {"samples": samples, "cpu_seconds": round(cpu, 4), "samples_per_second": round(rate),
            "realtime_channels": int(rate / SAMPLE_RATE), "digits": events}


def run(args) -> None:
    if args.channels < 1:
        raise BadInput(f"--channels must be at least 1, got {args.channels}")
    if not 0 < args.seconds <= 3600:
        raise BadInput(f"--seconds must be in (0, 3600], got {args.seconds}")
    n_blocks = max(1, int(args.seconds * SAMPLE_RATE / BLOCK))
    blocks = span_blocks(args.channels)
    log.info("bench=dtmf channels=%d blocks=%d", args.channels, n_blocks)
    cpu, events = _time_multichannel(blocks, args.channels, n_blocks)
    result = {
        "channels": args.channels,
        "seconds": n_blocks * BLOCK / SAMPLE_RATE,
        "block_samples": BLOCK,
        "multichannel": _figures(n_blocks * BLOCK * args.channels, cpu, events),
    }
    cpu, events = _time_single(blocks, n_blocks)
    result["single"] = _figures(n_blocks * BLOCK, cpu, events)
    if args.spandsp:
        spandsp = _time_spandsp(blocks, args.channels, n_blocks)
        result["spandsp"] = _figures(int(spandsp["samples"]), spandsp["cpu_seconds"], spandsp["digits"])
        result["ratio_vs_spandsp"] = round(result["multichannel"]["samples_per_second"]
                                           / result["spandsp"]["samples_per_second"], 2)
    if args.json:
        print_json(result)
        return
    rows = [("MultiChannelDtmf", f"{args.channels} ch"), ("DtmfDetector", "1 ch")]
    keys = ["multichannel", "single"]
    if args.spandsp:
        rows.append(("spandsp dtmf_rx", f"{args.channels} ch"))
        keys.append("spandsp")
    print(format_table(
        ["receiver", "span", "Msamples/s/core", "real-time ch/core", "digits"],
        [(*row, f"{result[k]['samples_per_second'] / 1e6:.1f}", result[k]["realtime_channels"],
          result[k]["digits"]) for row, k in zip(rows, keys)]))
    if args.spandsp:
        print(f"qbox / spandsp: {result['ratio_vs_spandsp']:.2f}x on the same blocks")
