"""``qbox dtmf detect|generate`` and ``qbox bench dtmf``."""
from __future__ import annotations

import array
import json
import subprocess
import sys
from pathlib import Path

import pytest

from appliance.audio import write_wav
from cython_ext import tones

QBOX = str(Path(sys.executable).with_name("qbox"))


@pytest.mark.parametrize("name", ["keys.wav", "keys.sln", "keys.alaw", "keys.ulaw"])
def test_generate_then_detect_every_format(run_qbox, tmp_path, name):
    path = str(tmp_path / name)
    status, out, err = run_qbox("dtmf", "generate", "0123456789*#ABCD", "-o", path)
    assert status == 0 and out == "" and err == ""
    status, out, _ = run_qbox("dtmf", "detect", path)
    assert status == 0 and out == "0123456789*#ABCD\n"


@pytest.mark.parametrize("encoding", ["a-law", "u-law"])
def test_a_g711_wav_from_a_recorder_is_detected(run_qbox, tmp_path, encoding):
    linear = str(tmp_path / "keys.wav")
    run_qbox("dtmf", "generate", "0123456789*#ABCD", "-o", linear)
    coded = str(tmp_path / f"keys-{encoding}.wav")          # a WAV with format tag 6 or 7
    subprocess.run(["sox", linear, "-e", encoding, coded], check=True)
    status, out, _ = run_qbox("dtmf", "detect", coded)
    assert status == 0 and out == "0123456789*#ABCD\n"


def test_events_are_json_lines_in_milliseconds(run_qbox, tmp_path):
    path = str(tmp_path / "x.raw")
    run_qbox("dtmf", "generate", "59", "--on-ms", "80", "--off-ms", "120", "--level", "-20",
             "--format", "s16le", "-o", path)
    status, out, _ = run_qbox("dtmf", "detect", "--format", "s16le", "--events", path)
    assert status == 0
    events = [json.loads(line) for line in out.splitlines()]
    assert [e["digit"] for e in events] == ["5", "9"]
    assert set(events[0]) == {"digit", "start_ms", "end_ms"}
    for event, start in zip(events, (0.0, 200.0)):
        assert event["start_ms"] == pytest.approx(start, abs=1.0)
        assert event["end_ms"] == pytest.approx(start + 80, abs=1.0)


def test_wav_at_other_rates_and_in_stereo_is_resampled(run_qbox, tmp_path):
    mono = array.array("h", tones.dtmf_digits("147", 70, 70, -12, sample_rate=44100))
    stereo = array.array("h", (v for sample in mono for v in (sample, sample)))
    path = tmp_path / "cd.wav"
    write_wav(path, stereo, rate=44100, channels=2)
    status, out, _ = run_qbox("dtmf", "detect", "--events", str(path))
    events = [json.loads(line) for line in out.splitlines()]
    assert status == 0 and [e["digit"] for e in events] == ["1", "4", "7"]
    assert events[1]["start_ms"] == pytest.approx(140.0, abs=2.0)


def test_raw_at_another_rate(run_qbox, tmp_path):
    path = tmp_path / "wide.s16"
    path.write_bytes(tones.dtmf_digits("*0#", 60, 60, -15, sample_rate=16000))
    status, out, _ = run_qbox("dtmf", "detect", "--rate", "16000", str(path))
    assert status == 0 and out == "*0#\n"


def test_generate_level_and_twist(run_qbox, tmp_path):
    from tests.cython_ext.signals import samples, tone_power

    path = tmp_path / "t.sln"
    run_qbox("dtmf", "generate", "1", "--on-ms", "100", "--level", "-16", "--twist", "4", "-o", str(path))
    pcm = samples(path.read_bytes())
    assert len(pcm) == 1280                        # 100 ms on, the default 60 ms off
    assert tone_power(pcm[:800], 697) == pytest.approx(-16, abs=0.2)
    assert tone_power(pcm[:800], 1209) == pytest.approx(-20, abs=0.2)


def test_pipe_through_standard_streams():
    made = subprocess.run([QBOX, "dtmf", "generate", "2468", "--format", "ulaw", "-o", "-"],
                          capture_output=True, check=True)
    assert len(made.stdout) == 4 * 960
    found = subprocess.run([QBOX, "dtmf", "detect", "--format", "ulaw", "-"], input=made.stdout,
                           capture_output=True, check=True)
    assert found.stdout == b"2468\n"


def test_file_not_what_the_format_says_is_exit_2(run_qbox, tmp_path):
    text = tmp_path / "notes.wav"
    text.write_text("not audio at all\n")
    status, out, err = run_qbox("dtmf", "detect", str(text))
    assert status == 2 and out == "" and err.count("\n") == 1
    assert err.startswith(f"qbox: {text}: not a PCM or G.711 WAV file")

    wav = tmp_path / "real.wav"
    write_wav(wav, array.array("h", tones.dtmf_digits("1", 50, 50, -10)))
    status, _, err = run_qbox("dtmf", "detect", "--format", "alaw", str(wav))
    assert status == 2 and "is a WAV (RIFF) file, not raw alaw (use --format wav)" in err

    odd = tmp_path / "odd.sln"
    odd.write_bytes(b"\x00" * 101)
    status, _, err = run_qbox("dtmf", "detect", str(odd))
    assert status == 2 and "101 bytes is not a whole number of 16-bit samples" in err


def test_bad_arguments_are_exit_2(run_qbox, tmp_path):
    status, _, err = run_qbox("dtmf", "detect", str(tmp_path / "missing.ulaw"))
    assert status == 2 and "cannot read" in err
    status, _, err = run_qbox("dtmf", "detect", str(tmp_path / "song.mp3"))
    assert status == 2 and "cannot tell the format" in err
    status, _, err = run_qbox("dtmf", "generate", "12E4", "-o", str(tmp_path / "x.wav"))
    assert status == 2 and "'E' at position 3 is not a DTMF digit" in err
    status, _, err = run_qbox("dtmf", "generate", "1", "--level", "9", "-o", str(tmp_path / "x.wav"))
    assert status == 2 and "--level" in err
    assert not (tmp_path / "x.wav").exists()


def test_bench_dtmf_json(run_qbox):
    status, out, _ = run_qbox("bench", "dtmf", "--channels", "6", "--seconds", "1", "--json")
    assert status == 0
    result = json.loads(out)
    assert result["channels"] == 6 and result["block_samples"] == 160
    for key in ("multichannel", "single"):
        figures = result[key]
        assert figures["samples_per_second"] > 0
        assert figures["realtime_channels"] == int(figures["samples_per_second"] / 8000)
    assert result["multichannel"]["digits"] == 6      # one digit a second on every channel
    assert "spandsp" not in result


def test_bench_dtmf_side_by_side_with_spandsp(run_qbox):
    status, out, _ = run_qbox("bench", "dtmf", "--channels", "4", "--seconds", "2", "--spandsp")
    assert status == 0
    lines = out.splitlines()
    assert lines[0].split()[:2] == ["receiver", "span"]
    assert any(line.startswith("spandsp dtmf_rx") for line in lines)
    assert lines[-1].startswith("qbox / spandsp: ")
