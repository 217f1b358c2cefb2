"""What the bots say and hear on a B-channel: DTMF, talk tones, and the end of a prompt.

Everything here is G.711 in the line's law, 160 bytes (20 ms) per block, because
that is what a :class:`~drivers.dahdi.sim.FarSpan` carries.  The DTMF is real
audio made by :func:`cython_ext.tones.dtmf_digits`: the service has to hear it
through its detector, exactly as it would from a telephone.
"""
from __future__ import annotations

import functools
from collections.abc import Iterator
from dataclasses import dataclass

from cython_ext import g711, tones
from drivers.dahdi.interface import BLOCK_SAMPLES, IDLE_CODE

__all__ = [
    "DtmfStyle", "dtmf_audio", "tone_block", "PromptEar", "loud_samples",
]

_LOUD_THRESHOLD = 128                          # |sample| above this is sound (about -45 dBm0)
_LOUD_TABLES: dict[str, bytes] = {}


@dataclass(frozen=True)
class DtmfStyle:
    """How a bot's keypad sounds: tone and gap lengths, level per tone (Q.24 ranges)."""

    on_ms: float = 80.0
    off_ms: float = 80.0
    level_dbm0: float = -10.0
    twist_db: float = 2.0

    def __post_init__(self) -> None:
        if self.on_ms < 40 or self.off_ms < 40:
            raise ValueError(f"DTMF tones and gaps of {self.on_ms:g}/{self.off_ms:g} ms are shorter "
                             "than a receiver must accept (40 ms)")


def dtmf_audio(digits: str, law: str, style: DtmfStyle = DtmfStyle()) -> Iterator[tuple[str, bytes]]:
    """Each digit as ``(digit, G.711 bytes of its tone and the gap after it)``.

    The bytes are padded with silence to whole 20 ms blocks so that a digit counts as
    pressed only once all of its audio, gap included, has left the bot.
    """
    for digit in digits:
        pcm = tones.dtmf_digits(digit, style.on_ms, style.off_ms, style.level_dbm0, style.twist_db)
        audio = g711.encode(pcm, law)
        pad = -len(audio) % BLOCK_SAMPLES
        yield digit, audio + bytes([IDLE_CODE[law]]) * pad


@functools.lru_cache(maxsize=32)
def tone_block(freq_hz: float, level_dbm0: float, law: str) -> bytes:
    """One 20 ms block of a steady tone that repeats seamlessly (``freq_hz`` a multiple of 50)."""
    if freq_hz <= 0 or (freq_hz * BLOCK_SAMPLES / 8000) % 1:
        raise ValueError(f"{freq_hz:g} Hz does not fit a whole number of cycles in 20 ms (use a multiple of 50)")
    return g711.encode(tones.sine_mix([freq_hz], level_dbm0, BLOCK_SAMPLES), law)


def loud_samples(block: bytes, law: str) -> int:
    """How many samples of ``block`` are louder than the quiet floor (about -45 dBm0)."""
    table = _LOUD_TABLES.get(law)
    if table is None:
        table = _LOUD_TABLES[law] = bytes(int(abs(v) > _LOUD_THRESHOLD) for v in g711.decode_table(law))
    return block.translate(table).count(1)


class PromptEar:
    """Tells when a prompt the bot is listening to has ended.

    Feed it the service's audio on the bot's channel, one block at a time.  The prompt
    has ended once sound was heard and then ``gap`` seconds of quiet followed, or in
    any case ``patience`` seconds after listening began (an IVR that stays silent, a
    prompt that never pauses).  ``sound_blocks`` consecutive loud blocks count as sound,
    so a click does not.  With ``barge_in`` the listener is a regular who knows the
    menu: the prompt is "over" for them that long after its sound began.
    """

    def __init__(self, law: str, gap: float = 0.6, patience: float = 10.0, sound_blocks: int = 2,
                 barge_in: float | None = None) -> None:
        self.law = law
        self.gap_blocks = max(1, round(gap / 0.02))
        self.patience_blocks = max(1, round(patience / 0.02))
        self.sound_blocks = sound_blocks
        self.barge_in_blocks = None if barge_in is None else max(0, round(barge_in / 0.02))
        self.reset()

    def reset(self) -> None:
        self.blocks = 0
        self.heard = False
        self._heard_blocks = 0           # blocks since sound was first heard
        self._loud_run = 0
        self._quiet_run = 0

    def feed(self, block: bytes) -> bool:
        """One block of what the service sends; True once the prompt is over."""
        self.blocks += 1
        if loud_samples(block, self.law) >= BLOCK_SAMPLES // 16:
            self._loud_run += 1
            self._quiet_run = 0
            if self._loud_run >= self.sound_blocks:
                self.heard = True
        else:
            self._loud_run = 0
            self._quiet_run += 1
        if self.heard:
            self._heard_blocks += 1
            if self.barge_in_blocks is not None and self._heard_blocks > self.barge_in_blocks:
                return True
            if self._quiet_run >= self.gap_blocks:
                return True
        return self.blocks >= self.patience_blocks
