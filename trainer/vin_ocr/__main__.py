"""``python -m vin_ocr <command>``: the trainer's command line."""
from __future__ import annotations

import argparse
import json
import sys
from typing import Callable, Optional, Sequence


def _hardware(args: argparse.Namespace) -> int:
    from .hardware import probe

    facts = probe()
    if args.json:
        print(json.dumps(facts))
    else:
        for key, value in facts.items():
            print(f"{key:16} {value}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m vin_ocr", description="VIN OCR trainer")
    commands = parser.add_subparsers(dest="command", required=True)
    hardware = commands.add_parser("hardware", help="print what this interpreter can use for training")
    hardware.add_argument("--json", action="store_true", help="print the facts contract's python part as JSON")
    hardware.set_defaults(run=_hardware)
    return parser


def main(argv: Optional[Sequence[str]] = None) -> int:
    args = build_parser().parse_args(argv)
    run: Callable[[argparse.Namespace], int] = args.run
    return run(args)


if __name__ == "__main__":
    sys.exit(main())
