"""The DTMF talk-off corpus: hours of synthetic speech and music, generated from a seed.

Speech comes from espeak-ng over every installed language, with random voice
variants, speeds, pitches, word gaps and levels, reading random pseudo-words,
numbers (spoken in the language) and punctuation.  Music-like signals come from
sox's synthesiser: chords of three or more notes, melodies and arpeggios of
plucked, sawtooth, square and triangle notes, and single or paired sweeps, with
fades, vibrato and tremolo.  (Two pure sine notes held together are left out on
purpose: F5 + F#6 is within 0.2 % of DTMF "3" and *is* a valid digit.)

Everything is resampled to 8 kHz int16 by sox.  Generating three hours takes
about half a minute; the result is cached outside the checkout under
``$QBOX_CACHE`` (default ``~/.cache/qbox``) keyed by generator version and seed,
so a rerun on the same machine only reads it back.
"""
from __future__ import annotations

import json
import math
import os
import random
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from cython_ext import tones

__all__ = ["VERSION", "RATE", "Corpus", "load", "speech_piece"]

#: Bump when the generator changes: the cache key includes it.
VERSION = 2
RATE = 8000

_NOTE_NAMES = ["C", "C#", "D", "D#", "E", "F", "F#", "G", "G#", "A", "A#", "B"]
_CHORDS = [(0, 4, 7), (0, 3, 7), (0, 4, 7, 10), (0, 3, 7, 10), (0, 4, 7, 11), (0, 5, 7),
           (0, 3, 6), (0, 4, 8), (0, 2, 7), (0, 4, 7, 14)]
_RICH_WAVES = ["pluck", "sawtooth", "square", "triangle"]


@dataclass
class Corpus:
    """``pcm`` is int16 samples (native order) at 8 kHz; ``index`` describes each
    piece: ``{"kind", "offset", "length", ...generator parameters}``."""

    pcm: bytes
    index: list

    def hours(self, kind: str | None = None) -> float:
        n = sum(p["length"] for p in self.index if kind is None or p["kind"] == kind)
        return n / RATE / 3600

    def piece_at(self, sample: int) -> dict:
        for piece in self.index:
            if piece["offset"] <= sample < piece["offset"] + piece["length"]:
                return piece
        raise IndexError(sample)


def _cache_dir() -> Path:
    root = os.environ.get("QBOX_CACHE") or os.path.join(os.path.expanduser("~"), ".cache", "qbox")
    return Path(root) / "talkoff"


def load(seed: int, speech_hours: float, music_minutes: float) -> Corpus:
    """The corpus for ``seed`` (generated on first use, then read from the cache)."""
    key = f"v{VERSION}-seed{seed}-{speech_hours:g}h-{music_minutes:g}min"
    directory = _cache_dir() / key
    audio, index_file = directory / "audio.s16", directory / "index.json"
    if audio.exists() and index_file.exists():
        return Corpus(audio.read_bytes(), json.loads(index_file.read_text()))
    corpus = _generate(random.Random(seed), speech_hours, music_minutes)
    directory.parent.mkdir(parents=True, exist_ok=True)
    for stale in directory.parent.glob("v*"):      # corpora of older generators
        if not stale.name.startswith(f"v{VERSION}-"):
            shutil.rmtree(stale, ignore_errors=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{key}-", dir=directory.parent))
    (staging / "audio.s16").write_bytes(corpus.pcm)
    (staging / "index.json").write_text(json.dumps(corpus.index))
    try:
        staging.rename(directory)          # atomic: a concurrent run may have won
    except OSError:
        shutil.rmtree(staging, ignore_errors=True)
    return corpus


def _generate(rng: random.Random, speech_hours: float, music_minutes: float) -> Corpus:
    chunks, index, total = [], [], 0

    def add(kind: str, pcm: bytes, params: dict) -> None:
        nonlocal total
        index.append({"kind": kind, "offset": total, "length": len(pcm) // 2, **params})
        chunks.append(pcm)
        total += len(pcm) // 2

    languages, variants = _espeak_voices()
    target = int(speech_hours * 3600 * RATE)
    spoken = 0
    while spoken < target:
        try:
            pcm, params = speech_piece(rng, languages, variants)
        except subprocess.CalledProcessError:
            continue    # espeak-ng 1.51 crashes on some texts in a few languages (e.g. kl)
        add("speech", pcm, params)
        spoken += len(pcm) // 2
    target = int(music_minutes * 60 * RATE)
    played = 0
    while played < target:
        pcm, params = _music_piece(rng)
        add("music", pcm, params)
        played += len(pcm) // 2
    return Corpus(b"".join(chunks), index)


def _espeak_voices() -> tuple[list[str], list[str]]:
    """Installed languages and voice variants, from ``espeak-ng --voices`` listings."""
    def listing(option: str, column: int) -> list[str]:
        out = subprocess.run(["espeak-ng", option], capture_output=True, text=True, check=True).stdout
        return sorted({line.split()[column] for line in out.splitlines()[1:] if line.strip()})

    languages = listing("--voices", 1)
    variants = [name.split("/")[-1] for name in listing("--voices=variant", 4)]
    return languages, variants


def _pseudo_text(rng: random.Random, words: int) -> str:
    consonants, vowels = "bcdfghjklmnprstvwz", "aeiouy"
    out = []
    for _ in range(words):
        roll = rng.random()
        if roll < 0.15:
            out.append(str(rng.randrange(0, 10 ** rng.randint(1, 4))))
        else:
            out.append("".join(rng.choice(consonants) + rng.choice(vowels) + (rng.choice(consonants)
                               if rng.random() < 0.4 else "") for _ in range(rng.randint(1, 4))))
        if rng.random() < 0.12:
            out[-1] += rng.choice(".,?!;")
    return " ".join(out)


def speech_piece(rng: random.Random, languages: list[str], variants: list[str]) -> tuple[bytes, dict]:
    """One espeak-ng utterance, 8 kHz int16, with the parameters that made it."""
    params = {
        "voice": rng.choice(languages) + (f"+{rng.choice(variants)}" if rng.random() < 0.7 else ""),
        "speed": int(math.exp(rng.uniform(math.log(80), math.log(450)))),
        "pitch": rng.randint(0, 99),
        "gap": rng.choice([0, 0, 1, 3, 8]),
        "peak_db": round(rng.uniform(0.5, 25.0), 1),
    }
    text = _pseudo_text(rng, rng.randint(40, 160))
    # espeak-ng (22.05 kHz WAV) piped straight into sox, which resamples and sets the level.
    espeak = subprocess.Popen(
        ["espeak-ng", "-v", params["voice"], "-s", str(params["speed"]), "-p", str(params["pitch"]),
         "-g", str(params["gap"]), "--stdout", "--stdin"],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    espeak.stdin.write(text.encode())
    espeak.stdin.close()
    try:
        pcm = _sox(["-t", "wav", "-"], espeak.stdout, ["norm", f"-{params['peak_db']}"])
    finally:
        espeak.stdout.close()
        if espeak.wait():
            raise subprocess.CalledProcessError(espeak.returncode, "espeak-ng")
    return pcm, params


def _sox(input_args: list[str], source, effects: list[str]) -> bytes:
    """Run sox from ``source`` (a pipe, or None for ``-n``) to 8 kHz int16 raw."""
    return subprocess.run(
        ["sox", "-q", "-V1", *input_args, "-t", "raw", "-r", str(RATE), "-e", "signed", "-b", "16",
         "-c", "1", "-", *effects],
        stdin=source, capture_output=True, check=True).stdout


def _note_hz(name: str, octave: int) -> float:
    return 440.0 * 2 ** ((_NOTE_NAMES.index(name) - 9) / 12 + octave - 4)


def _partials(wave: str, rolloff_db: float) -> list[tuple[int, float]]:
    """(harmonic number, relative level dB) of a waveform, down to -40 dB."""
    if wave == "sine":
        return [(1, 0.0)]
    out = []
    for k in range(1, 40):
        if wave == "sawtooth":
            level = -20 * math.log10(k)
        elif wave == "square":
            level = -20 * math.log10(k) if k % 2 else None
        elif wave == "triangle":
            level = -40 * math.log10(k) if k % 2 else None
        else:                                   # "pluck"/organ-like: steady roll-off
            level = -rolloff_db * (k - 1)
        if level is not None and level >= -40:
            out.append((k, level))
    return out


@dataclass
class _Voice:
    """One sounding line: a waveform gliding from f_start to f_end at ``level`` dBm0."""

    wave: str
    f_start: float
    f_end: float
    level: float
    exponential: bool = False
    rolloff_db: float = 6.0
    vibrato: tuple[float, float] = (0.0, 0.0)     # rate Hz, depth fraction
    tremolo: tuple[float, float] = (0.0, 0.0)     # rate Hz, depth dB
    decay_db_s: float = 0.0                       # plucked notes die away


_GLIDE_STEP = 32     # samples per rendering step while a frequency moves (4 ms)...
_STEADY_STEP = 128   # ...and while frequencies stand still (16 ms): envelopes only


def _render(voices: list[_Voice], seconds: float, attack: float, release: float) -> bytes:
    """Sum the voices, phase-continuous, in 4 ms steps through cython_ext.tones."""
    n_total = int(seconds * RATE)
    nyquist = RATE / 2 - 100
    parts = [(v, k, rel) for v in voices for k, rel in _partials(v.wave, v.rolloff_db)
             if k * min(v.f_start, v.f_end) * (1 - v.vibrato[1]) < nyquist]
    gliding = any(v.f_start != v.f_end or v.vibrato[1] for v in voices)
    step = _GLIDE_STEP if gliding else _STEADY_STEP
    phases = [0.0] * len(parts)
    out = []
    for start in range(0, n_total, step):
        n = min(step, n_total - start)
        t = start / RATE
        u = t / seconds
        envelope = min(1.0, t / attack if attack else 1.0, (seconds - t) / release if release else 1.0)
        env_db = 20 * math.log10(max(envelope, 1e-3))
        freqs, levels = [], []
        for v, k, rel in parts:
            f = v.f_start * (v.f_end / v.f_start) ** u if v.exponential else v.f_start + (v.f_end - v.f_start) * u
            f *= 1 + v.vibrato[1] * math.sin(2 * math.pi * v.vibrato[0] * t)
            freqs.append(f * k)
            levels.append(v.level + rel + env_db - v.decay_db_s * t
                          + v.tremolo[1] * 0.5 * (1 + math.sin(2 * math.pi * v.tremolo[0] * t)) - v.tremolo[1]
                          if f * k < nyquist else -300.0)   # a glide's partial above 4 kHz: mute
        out.append(tones.sine_mix(freqs, levels, n, phases=phases))
        for i, f in enumerate(freqs):
            phases[i] = (phases[i] + 2 * math.pi * f * n / RATE) % (2 * math.pi)
    return b"".join(out)


def _expression(rng: random.Random) -> dict:
    return {
        "vibrato": (rng.uniform(4, 7), rng.uniform(0.003, 0.02)) if rng.random() < 0.3 else (0.0, 0.0),
        "tremolo": (rng.uniform(2, 8), rng.uniform(2, 10)) if rng.random() < 0.2 else (0.0, 0.0),
    }


def _music_piece(rng: random.Random) -> tuple[bytes, dict]:
    kind = rng.choice(["chord", "chord", "melody", "sweep", "sweep"])
    if kind == "melody":
        return _melody(rng)
    level = rng.uniform(-32, -10)
    if kind == "chord":
        seconds = rng.uniform(0.2, 3.0)
        root, octave, shape = rng.randrange(12), rng.randint(3, 5), rng.choice(_CHORDS)
        wave = rng.choice(_RICH_WAVES + ["sine"])   # every chord has three notes or more
        rolloff = rng.uniform(3, 9)
        decay = rng.uniform(0, 20) if wave == "pluck" else 0.0
        expression = _expression(rng)
        voices = [_Voice(wave, f, f, level + rng.uniform(-3, 3), rolloff_db=rolloff, decay_db_s=decay,
                         **expression)
                  for f in (_note_hz(_NOTE_NAMES[(root + step) % 12], octave + (root + step) // 12)
                            for step in shape)]
        params = {"music": "chord", "wave": wave, "root": f"{_NOTE_NAMES[root]}{octave}",
                  "shape": list(shape)}
    else:
        seconds = rng.uniform(0.3, 4.0)
        count = rng.choice([1, 1, 2, 3])
        voices = []
        for _ in range(count):
            f1, f2 = (rng.uniform(200, 3400) for _ in range(2))
            wave = rng.choice(["sine"] + _RICH_WAVES[1:]) if count == 1 else rng.choice(_RICH_WAVES)
            voices.append(_Voice(wave, f1, f2, level + rng.uniform(-3, 3), exponential=rng.random() < 0.5,
                                 rolloff_db=rng.uniform(3, 9), **_expression(rng)))
        params = {"music": "sweep", "sweeps": [(v.wave, round(v.f_start), round(v.f_end), v.exponential)
                                               for v in voices]}
    attack, release = rng.uniform(0.005, 0.08), rng.uniform(0.01, seconds / 3)
    params.update(seconds=round(seconds, 2), level=round(level, 1))
    return _render(voices, seconds, attack, release), params


def _melody(rng: random.Random) -> tuple[bytes, dict]:
    """A run of notes with 4 to 8 partials rolling off, with small gaps or legato."""
    step = rng.uniform(0.06, 0.4)
    wave = rng.choice(_RICH_WAVES)
    level, rolloff = rng.uniform(-30, -8), rng.uniform(3, 9)
    notes = [(rng.randrange(12), rng.randint(4, 6)) for _ in range(rng.randint(3, 12))]
    expression = _expression(rng)
    pcm = b"".join(
        _render([_Voice(wave, _note_hz(_NOTE_NAMES[n], o), _note_hz(_NOTE_NAMES[n], o), level,
                        rolloff_db=rolloff, **expression)], step, 0.005, rng.uniform(0.005, step / 2))
        for n, o in notes)
    return pcm, {"music": "melody", "wave": wave, "notes": [f"{_NOTE_NAMES[n]}{o}" for n, o in notes],
                 "step": round(step, 3), "level": round(level, 1)}
