"""Audio files in and out: WAV to 8 kHz mono 16-bit, and back.

Telephony runs at 8 kHz.  Prompts recorded at 16, 22.05 or 44.1 kHz, in stereo or 8-bit,
are converted on load; this happens once per prompt (the result is cached as G.711),
so clarity matters more than speed here.  WAV files holding A-law or mu-law (format tags
6 and 7, as ``sox -e a-law`` and telephony recorders write them) are read too; the
standard library's ``wave`` reads only PCM.
"""
from __future__ import annotations

import array
import math
import operator
import struct
import sys
import wave
from pathlib import Path

from appliance.errors import BadInput

__all__ = ["read_wav", "read_wav_frames", "write_wav", "resample", "TELEPHONY_RATE"]

TELEPHONY_RATE = 8000


def read_wav(path: str | Path, rate: int = TELEPHONY_RATE) -> array.array:
    """Samples of a PCM or G.711 WAV file as int16 mono at ``rate``; BadInput if it is not one."""
    channels, source_rate, samples = read_wav_frames(path)
    if channels > 1:  # mix down: average the channels of each frame
        samples = array.array("h", (
            sum(samples[i:i + channels]) // channels for i in range(0, len(samples), channels)))
    return resample(samples, source_rate, rate) if source_rate != rate else samples


def read_wav_frames(path: str | Path) -> tuple[int, int, array.array]:
    """(channels, rate, int16 samples interleaved) of a PCM or G.711 WAV file, as it is;
    BadInput if it is not one."""
    try:
        with wave.open(str(path), "rb") as wav:
            channels, width, source_rate = wav.getnchannels(), wav.getsampwidth(), wav.getframerate()
            samples = _to_int16(wav.readframes(wav.getnframes()), width, path)
    except (wave.Error, EOFError) as exc:
        g711_wav = _read_g711_wav(path)
        if g711_wav is None:
            raise BadInput(f"{path}: not a PCM or G.711 WAV file ({exc or 'truncated'})") from None
        channels, source_rate, samples = g711_wav
    except OSError as exc:
        raise BadInput(f"{path}: cannot read: {exc.strerror or exc}") from None
    return channels, source_rate, samples


_G711_TAGS = {6: "alaw", 7: "ulaw"}        # WAVE_FORMAT_ALAW, WAVE_FORMAT_MULAW
_EXTENSIBLE = 0xFFFE                      # the real tag is the subformat GUID's first two bytes


def _read_g711_wav(path: str | Path) -> tuple[int, int, array.array] | None:
    """(channels, rate, int16 samples) of an A-law/mu-law WAV file; None if it is not one."""
    try:
        data = Path(path).read_bytes()
    except OSError:
        return None
    if len(data) < 12 or data[:4] != b"RIFF" or data[8:12] != b"WAVE":
        return None
    fmt, payload, offset = None, None, 12
    while offset + 8 <= len(data):                 # chunks: id, size, body (padded to even)
        chunk, size = data[offset:offset + 4], struct.unpack_from("<I", data, offset + 4)[0]
        body = data[offset + 8:offset + 8 + size]
        if chunk == b"fmt " and len(body) >= 16:
            fmt = body
        elif chunk == b"data":
            payload = body
        offset += 8 + size + (size & 1)
    if fmt is None or payload is None:
        return None
    tag, channels, rate, _, _, bits = struct.unpack_from("<HHIIHH", fmt)
    if tag == _EXTENSIBLE and len(fmt) >= 26:
        tag = struct.unpack_from("<H", fmt, 24)[0]
    law = _G711_TAGS.get(tag)
    if law is None or bits != 8 or channels < 1:
        return None
    from cython_ext import g711                    # only for G.711 files
    return channels, rate, array.array("h", g711.decode(payload, law))


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
