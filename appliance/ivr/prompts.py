"""Prompts: WAV files found by name and language, cached as G.711 for the media tick.

A prompt named ``welcome`` in language ``zh`` is ``PROMPTS_DIR/zh/welcome.wav`` (falling
back to ``PROMPTS_DIR/welcome.wav``).  Digits are read back with the prompts
``digits/0`` .. ``digits/9``, ``digits/star``, ``digits/hash``, ``digits/point`` and
``digits/minus``.  Missing prompts are replaced by a short tone so a caller is never
left in silence, and logged once.
"""
from __future__ import annotations

import logging
from pathlib import Path

from appliance.audio import read_wav
from appliance.errors import BadInput
from cython_ext import g711, tones

__all__ = ["PromptLibrary", "say_digits_prompts", "DIGIT_WORDS"]

log = logging.getLogger(__name__)

DIGIT_WORDS = {**{d: d for d in "0123456789"}, "*": "star", "#": "hash", ".": "point", "-": "minus"}


def say_digits_prompts(value: str) -> list[str]:
    """``"12.5"`` -> ``["digits/1", "digits/2", "digits/point", "digits/5"]``."""
    return [f"digits/{DIGIT_WORDS[c]}" for c in str(value) if c in DIGIT_WORDS]


class PromptLibrary:
    """Loads prompts once and keeps them encoded in the trunk's law (``alaw``/``ulaw``)."""

    def __init__(self, directory: str | Path, language: str = "en", law: str = "alaw") -> None:
        self.directory = Path(directory)
        self.language = language
        self.law = law
        self._cache: dict[tuple[str, str], bytes] = {}
        self.missing: set[str] = set()

    def path_of(self, name: str, language: str | None = None) -> Path | None:
        for candidate in (self.directory / (language or self.language) / f"{name}.wav",
                          self.directory / f"{name}.wav"):
            if candidate.is_file():
                return candidate
        return None

    def get(self, name: str, language: str | None = None) -> bytes:
        """The prompt as G.711 bytes (8000 per second)."""
        key = (name, language or self.language)
        cached = self._cache.get(key)
        if cached is None:
            cached = self._cache[key] = self._load(name, key[1])
        return cached

    def _load(self, name: str, language: str) -> bytes:
        path = self.path_of(name, language)
        if path is None:
            if name not in self.missing:
                log.warning("prompt missing; playing a tone instead",
                            extra={"kv": {"prompt": name, "language": language, "dir": self.directory}})
                self.missing.add(name)
            pcm = tones.sine_mix([440.0], -16.0, 1600) + tones.silence(800)
        else:
            try:
                pcm = read_wav(path).tobytes()
            except BadInput as exc:
                log.error("prompt unreadable; playing a tone instead", extra={"kv": {"error": exc}})
                pcm = tones.sine_mix([440.0], -16.0, 1600) + tones.silence(800)
        return g711.encode(pcm, self.law)

    def preload(self, names: list[str]) -> None:
        for name in names:
            self.get(name)
