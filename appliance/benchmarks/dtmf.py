"""``qbox bench dtmf``: DTMF receiver throughput on span-shaped blocks.

Every channel plays a programme on a loop, each from its own point.  The default
``--mix mixed`` is one second: a 100 ms DTMF digit, 400 ms of speech-band noise,
300 ms of ringback and 200 ms of silence.  The worst case for the receiver is
every channel dialling: ``--mix digits-min`` keys digits back to back at Q.24's
minimum timing (40 ms tone, 40 ms pause), ``--mix digits-typical`` at a
dialler's usual 100 ms tone, 100 ms pause, and ``--mix all-digits`` measures
both.  The audio is fed as a span is: blocks of ``channels x 160`` samples
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
from dataclasses import dataclass
from pathlib import Path

from appliance.cli._output import add_json_flag, format_table, print_json
from appliance.errors import BadInput, QboxError
from appliance.tones import render
from cython_ext import tones
from cython_ext.dtmf import DtmfDetector, MultiChannelDtmf

__all__ = ["register", "run", "span_blocks", "Mix", "MIXES", "SAMPLE_RATE", "BLOCK"]

log = logging.getLogger(__name__)

SAMPLE_RATE = 8000
BLOCK = 160                      # samples per channel per 20 ms block
_HARNESS = Path(__file__).resolve().parents[2] / "bench" / "dtmf" / "spandsp_dtmf.c"
_KEYS = "0123456789*#"


@dataclass(frozen=True)
class Mix:
    """What every channel plays: the mixed programme (``on_ms`` 0) or digits keyed
    back to back, ``on_ms`` of tone then ``off_ms`` of pause, over ``seconds``."""

    name: str
    on_ms: float = 0.0
    off_ms: float = 0.0
    seconds: int = 1

    @property
    def dialling(self) -> bool:
        return self.on_ms > 0

    @property
    def period(self) -> int:
        """Samples from one digit's onset to the next's."""
        return round((self.on_ms + self.off_ms) * SAMPLE_RATE / 1000)


# Two seconds hold a whole number of both dialling periods (80 and 200 ms) and of
# blocks, so the loop is seamless.
MIXES = {mix.name: mix for mix in (
    Mix("mixed"),
    Mix("digits-min", on_ms=40, off_ms=40, seconds=2),
    Mix("digits-typical", on_ms=100, off_ms=100, seconds=2),
)}
_GROUPS = {"all-digits": ("digits-min", "digits-typical")}


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "dtmf", help="DTMF receiver: samples/s and real-time channels per core",
        description=__doc__.split("\n\n")[1])
    parser.add_argument("--channels", type=int, default=240, help="channels in the span (default 240)")
    parser.add_argument("--seconds", type=float, default=10.0,
                        help="seconds of audio per channel (default 10)")
    parser.add_argument("--mix", choices=[*MIXES, *_GROUPS], default="mixed",
                        help="what the channels play (default mixed; all-digits = digits-min and "
                             "digits-typical)")
    parser.add_argument("--spandsp", action="store_true",
                        help="also time libspandsp's dtmf_rx on the same blocks (needs cc, libspandsp-dev)")
    add_json_flag(parser)
    parser.set_defaults(func=run)


def _mixed_programme(rng: random.Random) -> array.array:
    """One second of one channel's mixed audio (see the module docstring)."""
    digit = tones.dtmf_digits(rng.choice(_KEYS), 100, 0, rng.uniform(-25, -6))
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


def _dialling_programme(mix: Mix, rng: random.Random) -> tuple[array.array, int]:
    """``mix.seconds`` of digits keyed back to back, each its own key, level (-25 to
    -6 dBm0) and twist (4 dB reverse to 6 dB standard); started at a random point of
    a pause, so every tone in the loop is whole.  Returns the audio and the sample
    where its first tone starts."""
    pcm = array.array("h")
    for _ in range(mix.seconds * SAMPLE_RATE // mix.period):
        pcm.extend(array.array("h", tones.dtmf_digits(
            rng.choice(_KEYS), mix.on_ms, mix.off_ms, rng.uniform(-25, -6), twist_db=rng.uniform(-4, 6))))
    if sys.byteorder == "big":
        pcm.byteswap()            # dtmf_digits gives little-endian bytes
    on = round(mix.on_ms * SAMPLE_RATE / 1000)
    shift = rng.randrange(len(pcm) // mix.period) * mix.period + rng.randrange(on, mix.period)
    return pcm[shift:] + pcm[:shift], mix.period - shift % mix.period


def _keyed(first_onsets: list[int], mix: Mix, samples: int) -> int:
    """Tones that lie wholly within the first ``samples`` of the channels (a receiver
    reports a digit once it has ended, so the last one or two may still be pending)."""
    on = round(mix.on_ms * SAMPLE_RATE / 1000)
    return sum(max(0, (samples - first - on) // mix.period + 1) for first in first_onsets)


def span_blocks(channels: int, seed: int = 1, mix: Mix = MIXES["mixed"]) -> tuple[list[bytes], list[int]]:
    """One programme of span blocks (``mix.seconds`` of channels x 160-sample buffers),
    and for a dialling mix each channel's first digit onset (empty otherwise)."""
    rng = random.Random(seed)
    programmes, onsets = [], []
    for _ in range(min(channels, 64)):
        if mix.dialling:
            pcm, first = _dialling_programme(mix, rng)
            onsets.append(first)
        else:
            pcm = _mixed_programme(rng)
            if sys.byteorder == "big":
                pcm.byteswap()
        programmes.append(pcm)
    streams = [programmes[ch % len(programmes)] for ch in range(channels)]
    first_onsets = [onsets[ch % len(onsets)] for ch in range(channels)] if onsets else []
    return ([b"".join(s[b * BLOCK:(b + 1) * BLOCK].tobytes() for s in streams)
             for b in range(mix.seconds * SAMPLE_RATE // BLOCK)], first_onsets)


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


def _measure(mix: Mix, channels: int, n_blocks: int, spandsp: bool) -> dict:
    """Every receiver's figures on ``n_blocks`` blocks of ``mix``."""
    blocks, first_onsets = span_blocks(channels, mix=mix)
    log.info("bench=dtmf mix=%s channels=%d blocks=%d", mix.name, channels, n_blocks)
    cpu, events = _time_multichannel(blocks, channels, n_blocks)
    result = {
        "mix": mix.name,
        "channels": channels,
        "seconds": n_blocks * BLOCK / SAMPLE_RATE,
        "block_samples": BLOCK,
    }
    if mix.dialling:
        result["keyed"] = _keyed(first_onsets, mix, n_blocks * BLOCK)
    result["multichannel"] = _figures(n_blocks * BLOCK * channels, cpu, events)
    cpu, events = _time_single(blocks, n_blocks)
    result["single"] = _figures(n_blocks * BLOCK, cpu, events)
    if spandsp:
        figures = _time_spandsp(blocks, channels, n_blocks)
        result["spandsp"] = _figures(int(figures["samples"]), figures["cpu_seconds"], figures["digits"])
        result["ratio_vs_spandsp"] = round(result["multichannel"]["samples_per_second"]
                                           / result["spandsp"]["samples_per_second"], 2)
    return result


def _print_result(result: dict, mix: Mix) -> None:
    if mix.dialling:
        print(f"{mix.name}: every channel keys digits back to back, {mix.on_ms:g} ms tone, "
              f"{mix.off_ms:g} ms pause; {result['keyed']} keyed on the span")
    channels = result["channels"]
    rows = [("MultiChannelDtmf", f"{channels} ch"), ("DtmfDetector", "1 ch")]
    keys = ["multichannel", "single"]
    if "spandsp" in result:
        rows.append(("spandsp dtmf_rx", f"{channels} ch"))
        keys.append("spandsp")
    print(format_table(
        ["receiver", "span", "Msamples/s/core", "real-time ch/core", "digits"],
        [(*row, f"{result[k]['samples_per_second'] / 1e6:.1f}", result[k]["realtime_channels"],
          result[k]["digits"]) for row, k in zip(rows, keys)]))
    if "spandsp" in result:
        print(f"qbox / spandsp: {result['ratio_vs_spandsp']:.2f}x on the same blocks")


def run(args) -> None:
    if args.channels < 1:
        raise BadInput(f"--channels must be at least 1, got {args.channels}")
    if not 0 < args.seconds <= 3600:
        raise BadInput(f"--seconds must be in (0, 3600], got {args.seconds}")
    n_blocks = max(1, int(args.seconds * SAMPLE_RATE / BLOCK))
    mixes = [MIXES[name] for name in _GROUPS.get(args.mix, (args.mix,))]
    results = [_measure(mix, args.channels, n_blocks, args.spandsp) for mix in mixes]
    if args.json:
        print_json(results[0] if len(results) == 1 else results)
        return
    for i, (result, mix) in enumerate(zip(results, mixes)):
        if i:
            print()
        _print_result(result, mix)
