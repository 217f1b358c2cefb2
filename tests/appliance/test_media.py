"""The media tick: DTMF from whole-span blocks, prompt playback, bridging and recording."""
from __future__ import annotations

import array
import os
import subprocess
import wave

import pytest

from appliance.audio import read_wav_frames
from appliance.media import ChannelRef, MediaEngine, Recorder
from cython_ext import g711, tones
from drivers.dahdi.interface import DahdiError
from drivers.dahdi.memory import MemorySpanMedia

BLOCK = 160


def MemorySpan(channels: int) -> MemorySpanMedia:
    return MemorySpanMedia(channels)


def channel_out(block: bytes, index: int) -> bytes:
    return block[index * BLOCK:(index + 1) * BLOCK]


def test_digits_on_any_channel_reach_that_channels_listener():
    span = MemorySpan(30)
    engine = MediaEngine({1: span})
    heard = []
    engine.listen(ChannelRef(1, 7), lambda d: heard.append(("ch7", d)))
    engine.listen(ChannelRef(1, 29), lambda d: heard.append(("ch29", d)))
    audio7 = g711.alaw_encode(tones.dtmf_digits("15", 60, 60, -10))
    audio29 = g711.alaw_encode(tones.dtmf_digits("#", 60, 100, -20))
    for i in range(0, 16 * BLOCK, BLOCK):
        chunk7 = audio7[i:i + BLOCK].ljust(BLOCK, bytes([0xD5]))
        chunk29 = audio29[i:i + BLOCK].ljust(BLOCK, bytes([0xD5]))
        span.feed({7: chunk7, 29: chunk29})
        engine.tick()
    assert sorted(heard) == [("ch29", "#"), ("ch7", "1"), ("ch7", "5")]
    assert engine.digits_detected == 3 and engine.missed_blocks == 0


def test_playback_fills_blocks_in_order_then_calls_back_once():
    span = MemorySpan(2)
    engine = MediaEngine({1: span})
    done = []
    engine.play(ChannelRef(1, 1), [b"\x01" * 100, b"\x02" * 300], on_done=lambda: done.append(1))
    for _ in range(4):
        span.feed({})
        engine.tick()
    out = [channel_out(block, 1) for block in span.sent]
    assert out[0] == b"\x01" * 100 + b"\x02" * 60
    assert out[1] == b"\x02" * 160
    assert out[2] == b"\x02" * 80 + bytes([0xD5]) * 80
    assert out[3] == bytes([0xD5]) * 160
    assert done == [1]
    assert all(channel_out(block, 0) == bytes([0xD5]) * 160 for block in span.sent)


def test_bridge_across_spans_carries_both_ways_and_records_stereo(tmp_path):
    trunk, agents = MemorySpan(30), MemorySpan(30)
    engine = MediaEngine({1: trunk, 3: agents})
    caller, agent = ChannelRef(1, 4), ChannelRef(3, 12)
    recorder = Recorder(tmp_path / "rec.wav", "alaw")
    engine.bridge(caller, agent, recorder)
    for n in range(3):
        trunk.feed({4: bytes([n + 1]) * BLOCK})
        agents.feed({12: bytes([n + 100]) * BLOCK})
        engine.tick()
    assert [channel_out(b, 12) for b in agents.sent] == [bytes([n + 1]) * BLOCK for n in range(3)]
    assert [channel_out(b, 4) for b in trunk.sent] == [bytes([n + 100]) * BLOCK for n in range(3)]
    assert engine.unbridge(agent) is recorder
    channels, rate, samples = read_wav_frames(tmp_path / "rec.wav")
    assert (channels, rate, len(samples)) == (2, 8000, 2 * 3 * BLOCK)
    assert tuple(samples[:2]) == (g711.decode_table("alaw")[1], g711.decode_table("alaw")[100])


class _PulledSpan(MemorySpanMedia):
    """A span whose device goes away between its read and its write."""

    def write_block(self, block: bytes) -> None:
        raise DahdiError("span media: the device has gone away")


def test_a_span_whose_device_fails_in_a_tick_is_detached_and_the_others_go_on():
    pulled, other = _PulledSpan(2), MemorySpan(2)
    lost = []
    engine = MediaEngine({1: pulled, 3: other}, on_device_lost=lambda span, exc: lost.append((span, str(exc))))
    pulled.feed({})
    other.feed({})
    assert engine.tick() == 1 and len(other.sent) == 1
    assert lost == [(1, "span media: the device has gone away")]
    pulled.feed({})                                   # it is no longer read
    other.feed({})
    assert engine.tick() == 1 and len(pulled.arriving) == 1 and lost == [(1, "span media: the device has gone away")]
    with pytest.raises(DahdiError):                   # with nobody to tell, the error is the caller's
        MediaEngine({1: _PulledSpan(1)}).tick({1: bytes([0xD5]) * BLOCK})


def test_a_span_without_a_block_is_counted_and_skipped():
    a, b = MemorySpan(2), MemorySpan(2)
    engine = MediaEngine({1: a, 2: b})
    a.feed({})
    assert engine.tick() == 1
    assert engine.missed_blocks == 1 and len(a.sent) == 1 and not b.sent


def test_a_long_recording_keeps_every_frame_across_flushes(tmp_path):
    trunk, agents = MemorySpan(2), MemorySpan(2)
    engine = MediaEngine({1: trunk, 3: agents})
    recorder = Recorder(tmp_path / "long.wav", "alaw")
    engine.bridge(ChannelRef(1, 1), ChannelRef(3, 0), recorder)
    ticks = 130                                       # 2.6 s: two whole flushes and a tail
    for n in range(ticks):
        trunk.feed({1: bytes([n % 256]) * BLOCK})
        agents.feed({0: bytes([(n * 7) % 256]) * BLOCK})
        engine.tick()
    engine.release(ChannelRef(3, 0))
    table = g711.decode_table("alaw")
    _, _, samples = read_wav_frames(tmp_path / "long.wav")
    assert len(samples) == 2 * ticks * BLOCK
    for n in (0, 49, 50, 51, 99, 100, 129):           # around each flush
        assert tuple(samples[2 * n * BLOCK:2 * n * BLOCK + 2]) == (table[n % 256], table[(n * 7) % 256])


def test_a_looping_prompt_list_plays_seamlessly_until_stopped():
    span = MemorySpan(1)
    engine = MediaEngine({1: span})
    done = []
    engine.play(ChannelRef(1, 0), [b"\x01" * 100, b"\x02" * 100], on_done=lambda: done.append(1), loop=True)
    for _ in range(5):
        span.feed({})
        engine.tick()
    assert b"".join(span.sent) == (b"\x01" * 100 + b"\x02" * 100) * 4
    engine.stop(ChannelRef(1, 0))
    span.feed({})
    engine.tick()
    assert span.sent[-1] == bytes([0xD5]) * BLOCK and not done and not engine.is_playing(ChannelRef(1, 0))


def test_a_channel_that_starts_listening_later_hears_its_digits():
    span = MemorySpan(4)
    engine = MediaEngine({1: span})
    heard = []
    engine.listen(ChannelRef(1, 0), lambda d: heard.append((0, d)))
    audio = g711.alaw_encode(tones.dtmf_digits("7", 80, 80, -10)).ljust(12 * BLOCK, bytes([0xD5]))
    for i in range(0, len(audio), BLOCK):             # a digit on 3 while nobody listens there
        span.feed({3: audio[i:i + BLOCK]})
        engine.tick()
    engine.listen(ChannelRef(1, 3), lambda d: heard.append((3, d)))
    for i in range(0, len(audio), BLOCK):
        span.feed({3: audio[i:i + BLOCK]})
        engine.tick()
    engine.listen(ChannelRef(1, 3), None)
    for i in range(0, len(audio), BLOCK):             # and none once it stops
        span.feed({3: audio[i:i + BLOCK]})
        engine.tick()
    assert heard == [(3, "7")]


def test_a_recorder_makes_its_directory_when_it_is_missing(tmp_path):
    recorder = Recorder(tmp_path / "recordings" / "2026" / "call.wav", "alaw")
    recorder.close()
    channels, _, samples = read_wav_frames(tmp_path / "recordings" / "2026" / "call.wav")
    assert (channels, len(samples)) == (2, 0)


def _record(path, law: str, encoding: str, legs: bytes) -> None:
    """Two one-second writes, then the tail at close."""
    recorder = Recorder(path, law, encoding)
    for start in (0, 16000):
        recorder.buffer += legs[start:start + 16000]
        recorder.flush()
    recorder.buffer += legs[32000:]
    recorder.close()


@pytest.mark.parametrize("law", ["alaw", "ulaw"])
def test_a_g711_recording_is_the_lines_octets_as_sox_reads_them(tmp_path, law):
    legs = bytes(range(256)) * 140                    # interleaved caller/agent G.711
    _record(tmp_path / "rec.wav", law, "g711", legs)
    info = subprocess.run(["soxi", str(tmp_path / "rec.wav")], capture_output=True, text=True, check=True)
    assert {"Channels       : 2", "Sample Rate    : 8000", f"Duration       : 00:00:02.24 = {len(legs) // 2} samples"
            " ~ 168 CDDA sectors", f"Sample Encoding: 8-bit {'A-law' if law == 'alaw' else 'u-law'}"
            } <= set(info.stdout.splitlines()) and not info.stderr
    linear = subprocess.run(["sox", str(tmp_path / "rec.wav"), "-t", "raw", "-e", "signed", "-b", "16", "-L", "-"],
                            capture_output=True, check=True).stdout
    assert array.array("h", linear).tolist() == array.array("h", g711.decode(legs, law)).tolist()  # every write
    assert (tmp_path / "rec.wav").read_bytes()[58:] == legs     # and the line's octets, bit for bit


def test_a_pcm_recording_is_the_wav_the_standard_library_writes(tmp_path):
    legs = bytes(range(256)) * 140                    # interleaved caller/agent G.711
    _record(tmp_path / "ours.wav", "alaw", "pcm", legs)
    with wave.open(str(tmp_path / "stdlib.wav"), "wb") as wav:
        wav.setnchannels(2)
        wav.setsampwidth(2)
        wav.setframerate(8000)
        wav.writeframes(g711.decode(legs, "alaw"))
    assert (tmp_path / "ours.wav").read_bytes() == (tmp_path / "stdlib.wav").read_bytes()


@pytest.mark.parametrize("encoding", ["g711", "pcm"])
def test_a_recording_cut_short_holds_every_second_written(tmp_path, encoding):
    recorder = Recorder(tmp_path / "cut.wav", "ulaw", encoding)
    for _ in range(2):                                # two seconds, then the service dies
        recorder.buffer += bytes([0x80, 0x7F]) * 8000
        recorder.flush()
    recorder.buffer += bytes(320)                     # never written
    channels, rate, samples = read_wav_frames(tmp_path / "cut.wav")
    assert (channels, rate, len(samples)) == (2, 8000, 2 * 16000)
    assert tuple(samples[:2]) == tuple(g711.decode_table("ulaw")[code] for code in (0x80, 0x7F))
    recorder.close()


def test_a_recording_that_cannot_be_written_stops_and_the_call_goes_on(tmp_path):
    trunk, agents = MemorySpan(2), MemorySpan(2)
    engine = MediaEngine({1: trunk, 3: agents})
    recorder = Recorder(tmp_path / "rec.wav", "alaw")
    full = os.open("/dev/full", os.O_WRONLY)              # the disk fills: every write from now on ENOSPC
    os.dup2(full, recorder._fd)
    os.close(full)
    engine.bridge(ChannelRef(1, 0), ChannelRef(3, 0), recorder)
    done = []
    engine.play(ChannelRef(1, 1), b"\x01" * (60 * BLOCK), on_done=lambda: done.append(1))
    for n in range(60):                                   # past the first one-second write
        trunk.feed({0: bytes([n]) * BLOCK})
        agents.feed({0: bytes([n + 1]) * BLOCK})
        engine.tick()
    assert done == [1]                                    # the tick went on after the failed write
    assert [channel_out(b, 0) for b in agents.sent][-1] == bytes([59]) * BLOCK    # still bridged
    assert recorder.error == f"{tmp_path}/rec.wav: cannot write: No space left on device"
    assert engine.recording_failures == 1
    engine.release(ChannelRef(1, 0))                      # closing it raises nothing either
    assert engine.recording_failures == 1 and not recorder.buffer


def test_a_recording_that_cannot_be_created_is_counted_and_bridges_anyway(tmp_path):
    (tmp_path / "recordings").write_text("a file where the directory should be")
    recorder = Recorder(tmp_path / "recordings" / "call.wav", "alaw")
    assert recorder.error.startswith(f"{tmp_path}/recordings/call.wav: cannot create: ")
    trunk, agents = MemorySpan(1), MemorySpan(1)
    engine = MediaEngine({1: trunk, 3: agents})
    engine.bridge(ChannelRef(1, 0), ChannelRef(3, 0), recorder)
    trunk.feed({0: b"\x07" * BLOCK})
    agents.feed({})
    engine.tick()
    assert channel_out(agents.sent[0], 0) == b"\x07" * BLOCK
    assert engine.recording_failures == 1 and not recorder.buffer     # not tapped: no work each tick
    engine.release(ChannelRef(3, 0))
    assert engine.recording_failures == 1
