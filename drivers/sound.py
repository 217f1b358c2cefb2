"""The buzzer: 16-bit mono PCM played on an ALSA device through pyalsaaudio.

``open_sound("alsa://default")`` opens a playback PCM by its ALSA name (``default``,
``plughw:1,0``, or a PCM defined in asound.conf such as a ``file`` plugin that writes
what was played to disk, which is how tests listen).  :meth:`AlsaPlayer.play` hands
samples to one writer thread and returns at once, so the service's loop never waits on
the sound card; on a card the writes are paced by ALSA, the ``file`` plugin takes
them as fast as they come.

What to play (siren, beeps) is decided above ``drivers/``; samples are signed 16-bit
little-endian, the layout :mod:`cython_ext.tones` produces.
"""
from __future__ import annotations

import logging
import queue
import threading
from urllib.parse import unquote, urlsplit

__all__ = ["SoundError", "AlsaPlayer", "open_sound", "SAMPLE_RATE"]

log = logging.getLogger(__name__)

SAMPLE_RATE = 8000
_PERIOD_FRAMES = 160  # 20 ms at 8 kHz, the block size the rest of qbox uses


class SoundError(OSError):
    """The sound device cannot be opened or stopped taking samples."""


class AlsaPlayer:
    """One ALSA playback PCM, mono int16 at ``rate``, fed by a writer thread."""

    def __init__(self, device: str = "default", *, rate: int = SAMPLE_RATE, url: str = "") -> None:
        import alsaaudio

        self.url = url or f"alsa://{device}"
        self.device = device
        self.rate = rate
        self._alsa = alsaaudio
        try:
            self._pcm = alsaaudio.PCM(
                alsaaudio.PCM_PLAYBACK, alsaaudio.PCM_NORMAL, device=device, channels=1, rate=rate,
                format=alsaaudio.PCM_FORMAT_S16_LE, periodsize=_PERIOD_FRAMES,
            )
        except alsaaudio.ALSAAudioError as exc:
            raise SoundError(f"{self.url}: cannot open ALSA PCM {device!r}: {exc}") from exc
        # (generation, samples or a marker Event) items; None ends the writer.
        self._queue: queue.Queue[tuple[int, bytes | threading.Event] | None] = queue.Queue()
        self._generation = 0          # bumped by stop(): older buffers are dropped
        self._error: SoundError | None = None
        self.samples_written = 0
        self._thread = threading.Thread(target=self._writer, name="AlsaPlayer", daemon=True)
        self._thread.start()

    def play(self, samples: bytes) -> None:
        """Queue ``samples`` (int16 LE mono) to play after what is already queued."""
        if self._error is not None:
            raise self._error
        if len(samples) % 2:
            raise ValueError("samples must be whole int16 values (even byte count)")
        self._queue.put((self._generation, bytes(samples)))

    def stop(self) -> None:
        """Drop everything queued; what is in the card's own buffer still plays out."""
        self._generation += 1

    def _writer(self) -> None:
        step = _PERIOD_FRAMES * 2
        while (item := self._queue.get()) is not None:
            generation, samples = item
            if isinstance(samples, threading.Event):
                samples.set()
                continue
            for start in range(0, len(samples), step):
                if generation != self._generation:
                    break
                chunk = samples[start:start + step]
                if len(chunk) < step:  # ALSA takes whole periods
                    chunk += bytes(step - len(chunk))
                try:
                    self._pcm.write(chunk)
                except self._alsa.ALSAAudioError as exc:
                    self._error = SoundError(f"{self.url}: write failed: {exc}")
                    log.error("sound write failed url=%s error=%s", self.url, exc)
                    return
                self.samples_written += len(chunk) // 2

    def drain(self, timeout: float = 5.0) -> bool:
        """Wait until everything queued has been handed to ALSA; False on timeout."""
        reached = threading.Event()
        self._queue.put((self._generation, reached))
        return reached.wait(timeout)

    def close(self) -> None:
        self.stop()
        self._queue.put(None)
        self._thread.join(timeout=5)
        self._pcm.close()


def open_sound(url: str) -> AlsaPlayer:
    """``alsa://default``, ``alsa://plughw:1,0`` or ``alsa://NAME`` from asound.conf."""
    parts = urlsplit(url)
    if parts.scheme != "alsa":
        raise SoundError(f"{url}: unknown sound device scheme {parts.scheme!r} (known: alsa://)")
    device = unquote(parts.netloc + parts.path) or "default"
    return AlsaPlayer(device, url=url)
