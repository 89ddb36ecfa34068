#!/usr/bin/env bash
# Creates (or updates) PaddleOCR's own virtual environment at .paddle-venv in the repository root.
# PaddlePaddle (~700 MB installed) stays out of the trainer's environment; the trainer runs PaddleOCR's
# tools/train.py with this interpreter (VIN_OCR_PADDLE_PYTHON). The pins are the PaddleOCR row's CPU install
# line in data/requirements.json, which "Set Up Trainer Environment" uses too; with a clone given, the
# packages its tools/train.py imports (<clone>/requirements.txt) are installed as well.
# Idempotent: a stamp records what was installed; a second run with nothing changed takes under a second.
# Usage: scripts/setup-paddle.sh [CLONE]   (default CLONE: ../shared/vendor/PaddleOCR when it exists)
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# shellcheck source=scripts/venv-lib.sh
. "$root/scripts/venv-lib.sh"
venv="${VIN_OCR_PADDLE_VENV:-$root/.paddle-venv}"
python="${VIN_OCR_PYTHON:-python3}"
clone="${1:-$root/../shared/vendor/PaddleOCR}"
# The CPU install line, e.g. "pip install paddlepaddle==3.0.0 paddleocr==3.3.3" -> its requirements.
packages="$("$python" - "$root/data/requirements.json" <<'PY'
import json, sys
rows = json.load(open(sys.argv[1]))["models"]
(row,) = [row for row in rows if row.get("family") == "paddleocr"]
for line in row["install"]["cpu"]:
    words = line.split()
    if words[:2] == ["pip", "install"]:
        print(" ".join(word for word in words[2:] if not word.startswith("-")))
PY
)"
requirements=""
if [ -f "$clone/requirements.txt" ]; then
  requirements="$clone/requirements.txt"
fi
wanted="$packages | $( [ -n "$requirements" ] && sha256sum "$requirements" | cut -c1-16 )"
stamp="$venv/.vin-ocr-paddle"

venv_is_current "$venv" "$stamp" "$wanted" && exit 0
venv_create "$python" "$venv" "PaddleOCR"
echo "Installing $packages into $venv (about a minute and 700 MB the first time)"
# shellcheck disable=SC2086  # the package list is words from our own data file
venv_pip_install "$venv" setup-paddle.sh "$packages" $packages
if [ -n "$requirements" ]; then
  echo "Installing what $clone/tools/train.py imports ($requirements)"
  venv_pip_install "$venv" setup-paddle.sh "$requirements" -r "$requirements"
fi
echo "$wanted" >"$stamp"
