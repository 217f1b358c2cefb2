import array
import math
import wave

import pytest

from appliance.audio import read_wav, resample, write_wav
from appliance.errors import BadInput


def sine(freq, rate, seconds, amplitude=10000.0):
    return array.array("h", (int(amplitude * math.sin(2 * math.pi * freq * n / rate)) for n in range(int(rate * seconds))))


def rms(samples):
    return math.sqrt(sum(s * s for s in samples) / len(samples))


def tone_power(samples, freq, rate=8000):
    """Goertzel power of one frequency, normalised to amplitude."""
    coeff = 2 * math.cos(2 * math.pi * freq / rate)
    s1 = s2 = 0.0
    for x in samples:
        s1, s2 = x + coeff * s1 - s2, s1
    return math.sqrt(max(s1 * s1 + s2 * s2 - coeff * s1 * s2, 0)) * 2 / len(samples)


def test_downsampling_keeps_the_tone_and_removes_what_8khz_cannot_carry():
    kept = resample(sine(1000, 16000, 0.5), 16000, 8000)
    assert len(kept) == 4000
    assert tone_power(kept[200:-200], 1000) == pytest.approx(10000, rel=0.03)
    # 5 kHz would alias to 3 kHz at 8 kHz; the low-pass must remove it.
    aliased = resample(sine(5000, 16000, 0.5), 16000, 8000)
    assert rms(aliased[200:-200]) < 0.02 * rms(sine(5000, 16000, 0.5))


def test_stereo_44k1_wav_becomes_8k_mono(tmp_path):
    left = sine(700, 44100, 0.3)
    interleaved = array.array("h")
    for s in left:
        interleaved.extend((s, s))
    path = tmp_path / "stereo.wav"
    write_wav(path, interleaved, rate=44100, channels=2)
    samples = read_wav(path)
    assert abs(len(samples) - 2400) <= 1
    assert tone_power(samples[100:-100], 700) == pytest.approx(10000, rel=0.05)


def test_8bit_wav_is_scaled_to_16bit(tmp_path):
    path = tmp_path / "u8.wav"
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1), w.setsampwidth(1), w.setframerate(8000)
        w.writeframes(bytes([128, 255, 0]))
    assert list(read_wav(path)) == [0, 127 << 8, -128 << 8]


def test_a_file_that_is_not_wav_is_bad_input(tmp_path):
    path = tmp_path / "prompt.wav"
    path.write_bytes(b"ID3\x03\x00 this is an mp3")
    with pytest.raises(BadInput, match=r"prompt\.wav: not a PCM or G\.711 WAV file"):
        read_wav(path)


@pytest.mark.parametrize("law", ["alaw", "ulaw"])
def test_a_g711_wav_written_by_sox_reads_as_its_decoded_samples(tmp_path, law):
    import subprocess
    from cython_ext import g711
    source = tmp_path / "tone.wav"
    write_wav(source, array.array("h", sine(1000, 8000, 0.5)))
    coded = tmp_path / f"tone-{law}.wav"
    subprocess.run(["sox", str(source), "-e", {"alaw": "a-law", "ulaw": "u-law"}[law], str(coded)], check=True)
    raw = subprocess.run(["sox", str(coded), "-t", "raw", "-e", {"alaw": "a-law", "ulaw": "u-law"}[law], "-"],
                         check=True, capture_output=True).stdout
    samples = read_wav(coded)
    assert samples.tolist() == array.array("h", g711.decode(raw, law)).tolist()
    assert tone_power(samples, 1000) > 0.9 * tone_power(read_wav(source), 1000)


def test_an_extensible_g711_wav_and_a_truncated_one(tmp_path):
    import struct
    from cython_ext import g711
    payload = bytes(range(0, 256, 3))
    fmt = struct.pack("<HHIIHHH", 0xFFFE, 1, 8000, 8000, 1, 8, 22) + struct.pack("<HI", 8, 0) + struct.pack("<H", 6) + bytes(14)
    body = b"WAVE" + b"fmt " + struct.pack("<I", len(fmt)) + fmt + b"data" + struct.pack("<I", len(payload)) + payload
    path = tmp_path / "ext.wav"
    path.write_bytes(b"RIFF" + struct.pack("<I", len(body)) + body)
    assert read_wav(path).tolist() == array.array("h", g711.decode(payload, "alaw")).tolist()
    path.write_bytes(b"RIFF" + struct.pack("<I", len(body)) + body[:30])       # no data chunk
    with pytest.raises(BadInput, match="not a PCM or G.711 WAV file"):
        read_wav(path)
