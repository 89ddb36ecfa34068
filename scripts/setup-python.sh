#!/usr/bin/env bash
# Creates (or updates) the trainer's virtual environment at .venv in the repository root.
# Idempotent: a second run with nothing changed installs nothing and takes about a second.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
venv="$root/.venv"
python="${VIN_OCR_PYTHON:-python3}"
stamp="$venv/.vin-ocr-requirements"
wanted="$(cat "$root"/trainer/requirements*.txt "$root/trainer/pyproject.toml" | sha256sum | cut -d' ' -f1)"

if [ ! -x "$venv/bin/python" ]; then
  echo "Creating the trainer environment in $venv"
  "$python" -m venv "$venv"
fi
if [ "$(cat "$stamp" 2>/dev/null)" != "$wanted" ]; then
  echo "Installing the trainer's packages (torch, Pillow, tensorboard, onnxruntime, pytest …)"
  "$venv/bin/python" -m pip install --quiet --upgrade pip
  "$venv/bin/python" -m pip install --quiet -r "$root/trainer/requirements-dev.txt"
  "$venv/bin/python" -m pip install --quiet --no-deps -e "$root/trainer"
  echo "$wanted" >"$stamp"
fi
