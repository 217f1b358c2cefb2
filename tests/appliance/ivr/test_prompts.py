import array

from appliance.audio import write_wav
from appliance.ivr import PromptLibrary, say_digits_prompts
from cython_ext import g711


def test_digits_are_read_back_one_prompt_each():
    assert say_digits_prompts("-12.5#*") == ["digits/minus", "digits/1", "digits/2", "digits/point",
                                             "digits/5", "digits/hash", "digits/star"]


def test_language_folder_first_then_shared_then_a_tone_for_missing(tmp_path):
    (tmp_path / "zh").mkdir()
    write_wav(tmp_path / "zh" / "welcome.wav", array.array("h", [1000] * 800))
    write_wav(tmp_path / "welcome.wav", array.array("h", [-1000] * 400))
    library = PromptLibrary(tmp_path, language="zh", law="ulaw")
    zh = library.get("welcome")
    assert len(zh) == 800 and set(zh) == set(g711.ulaw_encode(array.array("h", [1000]).tobytes()))
    assert len(library.get("welcome", language="en")) == 400
    missing = library.get("nothing-here")
    assert len(missing) == 2400 and library.missing == {"nothing-here"}
    assert library.get("welcome") is zh  # cached
