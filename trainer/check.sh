#!/usr/bin/env bash
# Lint, format and type checks of the trainer (configured in trainer/pyproject.toml):
#   ruff check, ruff format --check (the trainer and bench/*.py), mypy (the trainer). Exits non-zero on the first failing check.
# Uses the interpreter in $VIN_OCR_PYTHON, else the repository's .venv (scripts/setup-python.sh).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
python="${VIN_OCR_PYTHON:-$here/../.venv/bin/python}"
cd "$here"
"$python" -m ruff check . ../bench
"$python" -m ruff format --check . ../bench
"$python" -m mypy
