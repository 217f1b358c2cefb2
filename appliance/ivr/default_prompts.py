"""The default prompt set, spoken by espeak-ng at set-up in English and Mandarin.

Large audio files are not kept in git: ``qbox prompts generate DIR`` makes them on the
box (or for the demo).  Without espeak-ng each prompt becomes a short distinct tone
pattern, so the IVR still runs and a listener can tell the prompts apart.
"""
from __future__ import annotations

import array
import shutil
import subprocess
import tempfile
from pathlib import Path

from appliance.audio import read_wav, write_wav
from cython_ext import tones

__all__ = ["DEFAULT_PROMPTS", "VOICES", "generate_prompts"]

VOICES = {"en": "en-gb", "zh": "cmn"}

_DIGITS = {
    "en": ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"],
    "zh": ["零", "一", "二", "三", "四", "五", "六", "七", "八", "九"],
}

#: prompt name -> text per language (names follow Asterisk's sounds where one exists)
DEFAULT_PROMPTS: dict[str, dict[str, str]] = {
    "welcome": {"en": "Welcome to the branch.", "zh": "欢迎致电营业部。"},
    "main-menu": {"en": "For trading, press 1. For your account balance, press 2. "
                        "For an operator, press 0.",
                  "zh": "交易业务请按1，查询账户余额请按2，人工服务请按0。"},
    "invalid": {"en": "That is not a valid choice.", "zh": "您的输入有误。"},
    "noinput": {"en": "We did not hear your choice.", "zh": "没有收到您的选择。"},
    "enter-account": {"en": "Please enter your account number, then press the hash key.",
                      "zh": "请输入您的账号，以井号键结束。"},
    "your-balance-is": {"en": "Your balance is", "zh": "您的账户余额是"},
    "sorry": {"en": "Sorry, this service is not available now. Goodbye.", "zh": "对不起，该服务暂时无法使用。再见。"},
    "goodbye": {"en": "Goodbye.", "zh": "再见。"},
    "closed-message": {"en": "The branch is closed. Please call again during opening hours.",
                       "zh": "营业部已下班，请在营业时间内来电。"},
    "queue-youarenext": {"en": "You are next in line.", "zh": "下一位就是您。"},
    "queue-thereare": {"en": "You are caller number", "zh": "您前面还有"},
    "queue-callswaiting": {"en": "waiting.", "zh": "位客户在等候。"},
    "queue-holdtime": {"en": "The estimated wait is", "zh": "预计等候时间为"},
    "queue-minutes": {"en": "minutes.", "zh": "分钟。"},
    "queue-lessthan": {"en": "less than", "zh": "少于"},
    "queue-morethan": {"en": "more than", "zh": "超过"},
    "queue-seconds": {"en": "seconds.", "zh": "秒。"},
    "queue-thankyou": {"en": "Thank you for your patience.", "zh": "感谢您的耐心等候。"},
    "queue-periodic": {"en": "All our agents are busy. Please stay on the line.",
                       "zh": "座席忙，请不要挂机。"},
    "queue-full": {"en": "All lines are busy. Please call again later.", "zh": "线路繁忙，请稍后再拨。"},
    "transfer": {"en": "Please hold while we transfer your call.", "zh": "正在为您转接，请稍候。"},
    "digits/star": {"en": "star", "zh": "星"},
    "digits/hash": {"en": "hash", "zh": "井"},
    "digits/point": {"en": "point", "zh": "点"},
    "digits/minus": {"en": "minus", "zh": "负"},
    **{f"digits/{d}": {"en": _DIGITS["en"][d], "zh": _DIGITS["zh"][d]} for d in range(10)},
}


def generate_prompts(directory: str | Path, languages: tuple[str, ...] = ("en", "zh"),
                     force: bool = False, names: tuple[str, ...] | None = None) -> dict[str, int]:
    """Write ``DIR/LANG/NAME.wav`` (8 kHz mono) for every default prompt.

    Existing files are kept unless ``force``.  Returns counts: spoken, tones, kept.
    """
    directory = Path(directory)
    espeak = shutil.which("espeak-ng")
    counts = {"spoken": 0, "tones": 0, "kept": 0}
    for language in languages:
        for index, (name, texts) in enumerate(sorted(DEFAULT_PROMPTS.items())):
            if names is not None and name not in names:
                continue
            target = directory / language / f"{name}.wav"
            if target.exists() and not force:
                counts["kept"] += 1
                continue
            target.parent.mkdir(parents=True, exist_ok=True)
            if espeak and _speak(espeak, VOICES[language], texts[language], target):
                counts["spoken"] += 1
            else:
                write_wav(target, _tone_stand_in(index))
                counts["tones"] += 1
    return counts


def _speak(espeak: str, voice: str, text: str, target: Path) -> bool:
    with tempfile.NamedTemporaryFile(suffix=".wav") as raw:
        result = subprocess.run([espeak, "-v", voice, "-s", "150", "-w", raw.name, text],
                                capture_output=True, timeout=60)
        if result.returncode != 0:
            return False
        write_wav(target, read_wav(raw.name))
    return True


def _tone_stand_in(index: int) -> array.array:
    """A recognisable pattern per prompt: two short beeps at a pitch of its own."""
    freq = 400.0 + 40.0 * index
    beep = tones.sine_mix([freq], -12.0, 1200)
    gap = tones.silence(800)
    return array.array("h", beep + gap + beep + gap)
