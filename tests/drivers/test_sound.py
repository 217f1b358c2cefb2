"""The buzzer driver plays through real ALSA (the ``file`` plugin) and we listen to the result."""
from __future__ import annotations

import pytest

from cython_ext import tones
from drivers.sound import SoundError, open_sound
from tests.drivers.sound_analysis import alsa_file_config, label_blocks, read_pcm, runs


@pytest.fixture
def alsa_file(tmp_path, monkeypatch):
    config, out = alsa_file_config(tmp_path)
    monkeypatch.setenv("ALSA_CONFIG_PATH", str(config))
    return out


def test_played_tones_come_out_in_order(alsa_file):
    player = open_sound("alsa://qbox_test")
    player.play(tones.sine_mix([1000.0], -10, 1600))      # 200 ms
    player.play(tones.silence(800))                       # 100 ms
    player.play(tones.sine_mix([1500.0], -10, 2400))      # 300 ms
    assert player.drain()
    player.close()
    labels = label_blocks(read_pcm(alsa_file), [1000.0, 1500.0])
    assert runs(labels) == [(1000.0, 4), ("silence", 2), (1500.0, 6)]


def test_stop_drops_what_is_queued(alsa_file):
    player = open_sound("alsa://qbox_test")
    player.stop()
    for _ in range(3):
        player.play(tones.sine_mix([1000.0], -10, 800))
    player.stop()   # nothing queued before this point may still be written after it
    player.play(tones.sine_mix([1500.0], -10, 800))
    assert player.drain()
    player.close()
    labels = label_blocks(read_pcm(alsa_file), [1000.0, 1500.0])
    # Some 1 kHz may have gone out before stop() (the writer runs meanwhile), but never after.
    assert labels[-2:] == [1500.0, 1500.0]
    assert labels[:-2] == [1000.0] * (len(labels) - 2) and len(labels) - 2 <= 6


def test_missing_device_and_bad_urls(alsa_file):
    with pytest.raises(SoundError, match="cannot open ALSA PCM 'no_such_pcm'"):
        open_sound("alsa://no_such_pcm")
    with pytest.raises(SoundError, match="unknown sound device scheme 'pulse'"):
        open_sound("pulse://default")
    player = open_sound("alsa://qbox_test")
    with pytest.raises(ValueError):
        player.play(b"\x00")
    player.close()
