"""The buzzer's sounds, made with the :mod:`cython_ext.tones` kernel (8 kHz int16 LE).

- siren: a hi-lo two-tone, 960 Hz / 770 Hz alternating every 250 ms (the pattern of
  European evacuation sounders), in chunks the sound output repeats until acknowledged.
- beep: one short 1 kHz tone, repeated every ``beep_interval_s`` by the sound output.
"""
from __future__ import annotations

from functools import lru_cache

__all__ = ["SIREN_HZ", "BEEP_HZ", "SIREN_CHUNK_S", "siren", "beep", "SAMPLE_RATE"]

SAMPLE_RATE = 8000
SIREN_HZ = (960.0, 770.0)
SIREN_STEP_MS = 250
SIREN_CHUNK_S = 2.0
BEEP_HZ = 1000.0


@lru_cache(maxsize=8)
def siren(level_dbm0: float) -> bytes:
    """``SIREN_CHUNK_S`` seconds of hi-lo siren."""
    from cython_ext import tones  # here, not at import: `qbox alarms` must work unbuilt

    high, low = SIREN_HZ
    cycles = int(SIREN_CHUNK_S * 1000 // (2 * SIREN_STEP_MS))
    return tones.cadence([([high], SIREN_STEP_MS), ([low], SIREN_STEP_MS)], level_dbm0, cycles, SAMPLE_RATE)


@lru_cache(maxsize=8)
def beep(duration_ms: int, level_dbm0: float) -> bytes:
    from cython_ext import tones

    return tones.cadence([([BEEP_HZ], duration_ms)], level_dbm0, 1, SAMPLE_RATE)
