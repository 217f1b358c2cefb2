"""``qbox prompts generate DIR``: the default English and Mandarin prompts."""
from __future__ import annotations

from appliance.cli._output import add_json_flag, print_json
from appliance.ivr.default_prompts import VOICES, generate_prompts


def register(subparsers) -> None:
    parser = subparsers.add_parser("prompts", help="make the default IVR prompts (espeak-ng)")
    commands = parser.add_subparsers(dest="prompts_command", metavar="ACTION", required=True)
    generate = commands.add_parser("generate", help="speak the default prompts into DIR/LANG/NAME.wav")
    generate.add_argument("directory", nargs="?", default="/var/lib/qbox/prompts")
    generate.add_argument("--lang", default=",".join(VOICES), help="languages, comma separated (en, zh)")
    generate.add_argument("--force", action="store_true", help="replace prompts that already exist")
    add_json_flag(generate)
    generate.set_defaults(func=run_generate)


def run_generate(args) -> None:
    from appliance.errors import BadInput

    languages = tuple(lang.strip() for lang in args.lang.split(",") if lang.strip())
    unknown = [lang for lang in languages if lang not in VOICES]
    if unknown:
        raise BadInput(f"--lang: no voice for {', '.join(unknown)} (known: {', '.join(VOICES)})")
    counts = generate_prompts(args.directory, languages, force=args.force)
    if args.json:
        print_json({"directory": args.directory, **counts})
    else:
        print(f"{args.directory}: {counts['spoken']} spoken, {counts['tones']} tone stand-ins, "
              f"{counts['kept']} kept")
