"""Audio files in and out: WAV to 8 kHz mono 16-bit, and back.

Telephony runs at 8 kHz.  Prompts recorded at 16, 22.05 or 44.1 kHz, in stereo or 8-bit,
are converted on load; this happens once per prompt (the result is cached as G.711),
so clarity matters more than speed here.
"""
from __future__ import annotations

import array
import math
import operator
import sys
import wave
from pathlib import Path

from appliance.errors import BadInput

__all__ = ["read_wav", "write_wav", "resample", "TELEPHONY_RATE"]

TELEPHONY_RATE = 8000


def read_wav(path: str | Path, rate: int = TELEPHONY_RATE) -> array.array:
    """Samples of a PCM WAV file as int16 mono at ``rate``; BadInput if it is not one."""
    try:
        with wave.open(str(path), "rb") as wav:
            channels, width, source_rate = wav.getnchannels(), wav.getsampwidth(), wav.getframerate()
            frames = wav.readframes(wav.getnframes())
    except (wave.Error, EOFError) as exc:
        raise BadInput(f"{path}: not a PCM WAV file ({exc or 'truncated'})") from None
    except OSError as exc:
        raise BadInput(f"{path}: cannot read: {exc.strerror or exc}") from None
    samples = _to_int16(frames, width, path)
    if channels > 1:  # mix down: average the channels of each frame
        samples = array.array("h", (
            sum(samples[i:i + channels]) // channels for i in range(0, len(samples), channels)))
    return resample(samples, source_rate, rate) if source_rate != rate else samples


def _to_int16(frames: bytes, width: int, path: str | Path) -> array.array:
    if width == 2:
        samples = array.array("h", frames[: len(frames) // 2 * 2])
        if sys.byteorder == "big":
            samples.byteswap()
        return samples
    if width == 1:  # 8-bit WAV is unsigned
        return array.array("h", ((b - 128) << 8 for b in frames))
    if width in (3, 4):
        step = width
        return array.array("h", (
            int.from_bytes(frames[i + step - 2:i + step], "little", signed=True)
            for i in range(0, len(frames) - step + 1, step)))
    raise BadInput(f"{path}: {width * 8}-bit samples are not supported")


def write_wav(path: str | Path, samples: array.array | bytes, rate: int = TELEPHONY_RATE,
              channels: int = 1) -> None:
    """Write int16 samples (interleaved if ``channels`` > 1) as a PCM WAV file."""
    data = array.array("h", samples) if not isinstance(samples, array.array) else samples
    if sys.byteorder == "big":
        data = array.array("h", data)
        data.byteswap()
    with wave.open(str(path), "wb") as wav:
        wav.setnchannels(channels)
        wav.setsampwidth(2)
        wav.setframerate(rate)
        wav.writeframes(data.tobytes())


def resample(samples: array.array, source_rate: int, target_rate: int, taps: int = 16) -> array.array:
    """Band-limited resampling (Hann-windowed sinc) for any pair of integer rates.

    Polyphase: output sample ``j`` sits at source position ``j * down / up``; the filter
    for each of the ``up`` fractional phases is computed once, so the work per output
    sample is one dot product (done by ``sum(map(mul, ...))`` in C).
    """
    if source_rate == target_rate or not samples:
        return array.array("h", samples)
    g = math.gcd(source_rate, target_rate)
    up, down = target_rate // g, source_rate // g
    cutoff = min(1.0, up / down)          # keep what the lower rate can carry
    half = int(math.ceil(taps / cutoff))
    kernels = [_kernel(phase / up, half, cutoff) for phase in range(up)]
    padded = [0] * half + list(samples) + [0] * (half + 1)
    count = len(samples) * up // down
    out = array.array("h", bytes(2 * count))
    for j in range(count):
        base, phase = divmod(j * down, up)
        value = sum(map(operator.mul, kernels[phase], padded[base + 1:base + 2 * half + 1]))
        out[j] = -32768 if value < -32768 else 32767 if value > 32767 else int(round(value))
    return out


def _kernel(fraction: float, half: int, cutoff: float) -> list[float]:
    """Filter taps for source samples base-half+1 .. base+half, centre at base+fraction."""
    kernel = []
    for k in range(-half + 1, half + 1):
        x = k - fraction
        window = 0.5 + 0.5 * math.cos(math.pi * x / half) if abs(x) < half else 0.0
        arg = math.pi * x * cutoff
        kernel.append(window * cutoff * (1.0 if arg == 0 else math.sin(arg) / arg))
    return kernel
