import wave

from appliance.audio import read_wav
from appliance.ivr.default_prompts import DEFAULT_PROMPTS, generate_prompts


def loudness(path):
    samples = read_wav(path)
    return sum(abs(s) for s in samples) / len(samples), len(samples)


def test_espeak_speaks_english_and_mandarin_at_8khz(tmp_path):
    counts = generate_prompts(tmp_path, names=("welcome", "digits/5"))
    assert counts == {"spoken": 4, "tones": 0, "kept": 0}
    for lang in ("en", "zh"):
        path = tmp_path / lang / "welcome.wav"
        with wave.open(str(path)) as w:
            assert (w.getframerate(), w.getnchannels(), w.getsampwidth()) == (8000, 1, 2)
        level, length = loudness(path)
        assert level > 300 and length > 4000  # speech, not silence, at least half a second
    assert generate_prompts(tmp_path, names=("welcome",)) == {"spoken": 0, "tones": 0, "kept": 2}


def test_without_espeak_each_prompt_gets_its_own_tone(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    counts = generate_prompts(tmp_path, languages=("en",), names=("welcome", "goodbye"))
    assert counts == {"spoken": 0, "tones": 2, "kept": 0}
    assert read_wav(tmp_path / "en" / "welcome.wav") != read_wav(tmp_path / "en" / "goodbye.wav")


def test_every_prompt_has_both_languages():
    assert all(set(texts) == {"en", "zh"} for texts in DEFAULT_PROMPTS.values())
