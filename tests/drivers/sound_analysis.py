"""Listening to what the buzzer played: Goertzel tone detection on int16 PCM (test helper)."""
from __future__ import annotations

import array
import math
import sys
from collections.abc import Sequence
from pathlib import Path

__all__ = ["read_pcm", "tone_share", "label_blocks", "runs", "alsa_file_config"]


def read_pcm(path: Path) -> array.array:
    samples = array.array("h", Path(path).read_bytes())
    if sys.byteorder == "big":
        samples.byteswap()
    return samples


def tone_share(samples: Sequence[int], freq: float, rate: int = 8000) -> float:
    """Fraction (0..1) of the block's power that sits at ``freq`` (Goertzel)."""
    n = len(samples)
    if n == 0:
        return 0.0
    coeff = 2.0 * math.cos(2.0 * math.pi * freq / rate)
    s1 = s2 = 0.0
    energy = 0.0
    for x in samples:
        s1, s2 = x + coeff * s1 - s2, s1
        energy += x * x
    if energy == 0.0:
        return 0.0
    power = s1 * s1 + s2 * s2 - coeff * s1 * s2
    # A pure sine of N samples gives power = energy * N / 2.
    return min(1.0, power / (energy * n / 2.0))


def label_blocks(samples: Sequence[int], freqs: Sequence[float], *, block_ms: int = 50,
                 rate: int = 8000, silence_rms: float = 100.0) -> list[float | str]:
    """Per block: the frequency among ``freqs`` that carries most of it, "silence" or "other"."""
    size = rate * block_ms // 1000
    labels: list[float | str] = []
    for start in range(0, len(samples) - size + 1, size):
        block = samples[start:start + size]
        rms = math.sqrt(sum(x * x for x in block) / size)
        if rms < silence_rms:
            labels.append("silence")
            continue
        best = max(freqs, key=lambda f: tone_share(block, f, rate))
        labels.append(best if tone_share(block, best, rate) > 0.8 else "other")
    return labels


def runs(labels: Sequence) -> list[tuple[object, int]]:
    """Collapse consecutive equal labels: [(label, count), ...]."""
    out: list[tuple[object, int]] = []
    for label in labels:
        if out and out[-1][0] == label:
            out[-1] = (label, out[-1][1] + 1)
        else:
            out.append((label, 1))
    return out


def alsa_file_config(directory: Path, pcm_name: str = "qbox_test") -> tuple[Path, Path]:
    """An asound.conf whose PCM ``pcm_name`` writes raw samples to a file (no card needed).

    Returns (config path, output path).  Point ``ALSA_CONFIG_PATH`` at the config: it
    replaces alsa.conf, so the slave is the inline ``{ type null }``.
    """
    out = directory / f"{pcm_name}.raw"
    config = directory / "asound.conf"
    config.write_text(
        f"pcm.{pcm_name} {{\n"
        "    type file\n"
        "    slave.pcm { type null }\n"
        f'    file "{out}"\n'
        '    format "raw"\n'
        "}\n"
    )
    return config, out
