"""``qbox dtmf detect`` and ``qbox dtmf generate``: DTMF in audio files.

Formats: ``wav`` (PCM or G.711 A-law/mu-law, any rate and channel count: mixed down
and resampled to 8 kHz), ``s16le`` (raw signed 16-bit little-endian), ``alaw`` and ``ulaw`` (raw
G.711, as Asterisk's ``.alaw``/``.ulaw`` files).  Without ``--format`` the file
name's extension decides.  ``-`` reads standard input / writes standard output
for the raw formats.
"""
from __future__ import annotations

import array
import json
import sys
from pathlib import Path

from appliance.audio import TELEPHONY_RATE, read_wav, resample, write_wav
from appliance.errors import BadInput
from cython_ext import g711, tones

__all__ = ["register", "run_detect", "run_generate", "FORMATS", "format_of", "read_audio", "encode_audio"]

FORMATS = ("wav", "s16le", "alaw", "ulaw")
_EXTENSIONS = {
    ".wav": "wav", ".s16": "s16le", ".s16le": "s16le", ".sln": "s16le", ".raw": "s16le", ".pcm": "s16le",
    ".alaw": "alaw", ".al": "alaw", ".ulaw": "ulaw", ".ul": "ulaw", ".mulaw": "ulaw", ".mu": "ulaw",
}
_MAGIC = [(b"RIFF", "a WAV (RIFF) file"), (b"ID3", "an MP3 file"), (b"fLaC", "a FLAC file"),
          (b"OggS", "an Ogg file"), (b"\x1a\x45\xdf\xa3", "a Matroska/WebM file")]


def register(subparsers) -> None:
    parser = subparsers.add_parser("dtmf", help="detect or generate DTMF digits in audio files")
    commands = parser.add_subparsers(dest="dtmf_command", metavar="ACTION", required=True)

    detect = commands.add_parser("detect", help="print the DTMF digits in FILE")
    detect.add_argument("file", metavar="FILE", help="audio file, or - for standard input (raw formats)")
    detect.add_argument("--format", choices=FORMATS, help="file format (default: from the extension)")
    detect.add_argument("--rate", type=int, default=TELEPHONY_RATE,
                        help="sample rate of a raw file in Hz (default 8000; WAV files carry theirs)")
    detect.add_argument("--events", action="store_true",
                        help='one JSON object per digit: {"digit", "start_ms", "end_ms"}')
    detect.set_defaults(func=run_detect)

    generate = commands.add_parser("generate", help="write DTMF dialling of DIGITS to a file")
    generate.add_argument("digits", metavar="DIGITS", help="0-9 * # A-D")
    generate.add_argument("--on-ms", type=float, default=60.0, help="tone length (default 60)")
    generate.add_argument("--off-ms", type=float, default=60.0, help="silence after each tone (default 60)")
    generate.add_argument("--level", type=float, default=-10.0, help="dBm0 per tone (default -10)")
    generate.add_argument("--twist", type=float, default=0.0,
                          help="dB the high-group tone is below the low-group one (default 0)")
    generate.add_argument("--format", choices=FORMATS, help="file format (default: from the extension)")
    generate.add_argument("--rate", type=int, default=TELEPHONY_RATE, help="sample rate in Hz (default 8000)")
    generate.add_argument("-o", "--output", required=True, metavar="FILE", help="output file, or - (raw formats)")
    generate.set_defaults(func=run_generate)


def format_of(path: str, given: str | None) -> str:
    """The format named by ``--format``, else by the file's extension."""
    if given:
        return given
    found = _EXTENSIONS.get(Path(path).suffix.lower())
    if found is None:
        raise BadInput(f"{path}: cannot tell the format from the name; give --format ({', '.join(FORMATS)})")
    return found


def _check_rate(rate: int) -> None:
    if not 4000 <= rate <= 192000:
        raise BadInput(f"--rate {rate}: must be between 4000 and 192000 Hz")


def read_audio(path: str, fmt: str, rate: int = TELEPHONY_RATE) -> array.array:
    """The file's audio as int16 samples at 8 kHz; BadInput naming the file if it is
    not what ``fmt`` says."""
    _check_rate(rate)
    if fmt == "wav":
        if path == "-":
            raise BadInput("a WAV file cannot be read from standard input; give a file name")
        return read_wav(path, TELEPHONY_RATE)
    data = _read_bytes(path)
    for magic, what in _MAGIC:
        if data.startswith(magic):
            hint = " (use --format wav)" if magic == b"RIFF" else ""
            raise BadInput(f"{path}: is {what}, not raw {fmt}{hint}")
    if fmt == "s16le":
        if len(data) % 2:
            raise BadInput(f"{path}: {len(data)} bytes is not a whole number of 16-bit samples")
        samples = array.array("h", data)
        if sys.byteorder == "big":
            samples.byteswap()
    else:
        samples = array.array("h", g711.decode(data, fmt))     # native order already
    return resample(samples, rate, TELEPHONY_RATE) if rate != TELEPHONY_RATE else samples


def _read_bytes(path: str) -> bytes:
    try:
        return sys.stdin.buffer.read() if path == "-" else Path(path).read_bytes()
    except OSError as exc:
        raise BadInput(f"{path}: cannot read: {exc.strerror or exc}") from None


def _swapped(data: bytes) -> bytes:
    samples = array.array("h", data)
    samples.byteswap()
    return samples.tobytes()


def encode_audio(samples: bytes, fmt: str) -> bytes:
    """Native int16 samples as the raw bytes of ``fmt`` (s16le, alaw, ulaw)."""
    if fmt == "s16le":
        return _swapped(samples) if sys.byteorder == "big" else samples
    return g711.encode(samples, fmt)


def run_detect(args) -> None:
    from cython_ext.dtmf import DtmfDetector

    fmt = format_of(args.file, args.format)
    samples = read_audio(args.file, fmt, args.rate)
    detector = DtmfDetector(TELEPHONY_RATE)
    events = detector.feed(samples) + detector.flush()
    if not args.events:
        print("".join(event.digit for event in events))
        return
    per_ms = TELEPHONY_RATE / 1000
    for event in events:
        print(json.dumps({"digit": event.digit, "start_ms": round(event.start / per_ms, 1),
                          "end_ms": round(event.end / per_ms, 1)}))


def run_generate(args) -> None:
    fmt = format_of(args.output, args.format)
    _check_rate(args.rate)
    digits = args.digits.upper()
    for position, digit in enumerate(digits, 1):
        if digit not in "0123456789*#ABCD":
            raise BadInput(f"DIGITS: {digit!r} at position {position} is not a DTMF digit (0-9 * # A-D)")
    if not 0 < args.on_ms <= 60000 or not 0 <= args.off_ms <= 60000:
        raise BadInput("--on-ms must be in (0, 60000] and --off-ms in [0, 60000]")
    if not -60.0 <= args.level <= 3.14:
        raise BadInput(f"--level {args.level}: must be between -60 and +3.14 dBm0 per tone")
    audio = tones.dtmf_digits(digits, args.on_ms, args.off_ms, args.level, twist_db=args.twist,
                              sample_rate=args.rate)
    if sys.byteorder == "big":
        audio = _swapped(audio)      # tones returns little-endian; the rest works in native order
    if fmt == "wav":
        if args.output == "-":
            raise BadInput("a WAV file cannot be written to standard output; give a file name")
        write_wav(args.output, array.array("h", audio), args.rate)
        return
    data = encode_audio(audio, fmt)
    try:
        if args.output == "-":
            sys.stdout.buffer.write(data)
            sys.stdout.buffer.flush()
        else:
            Path(args.output).write_bytes(data)
    except OSError as exc:
        raise BadInput(f"{args.output}: cannot write: {exc.strerror or exc}") from None
