#!/usr/bin/env bash
# Creates (or updates) DeepSeek-OCR's own virtual environment at .deepseek-venv in the repository root.
# DeepSeek-OCR's remote code imports only with transformers 4.46.3-4.47.x, while LFM2.5-VL needs 4.57+, so the
# family trains in an environment of its own. The pins are the DeepSeek-OCR row's "environment" in
# data/requirements.json ("pip", plus "tests" for the trainer's test suite), as measured on the real code:
# no torchvision (PyPI's is built for CUDA torch and breaks beside the CPU build; the trainer stands in for
# the four names the code imports) and no flash-attn stub (the code's flash_attn import is guarded).
# Idempotent: a stamp records what was installed; a second run with nothing changed takes under a second.
# Usage: scripts/setup-deepseek.sh            then: PYTHONPATH=trainer .deepseek-venv/bin/python -m vin_ocr train …
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# shellcheck source=scripts/venv-lib.sh
. "$root/scripts/venv-lib.sh"
venv="${VIN_OCR_DEEPSEEK_VENV:-$root/.deepseek-venv}"
python="${VIN_OCR_PYTHON:-python3}"
packages="$("$python" - "$root/data/requirements.json" <<'PY'
import json, sys
rows = json.load(open(sys.argv[1], encoding="utf-8"))["models"]
(row,) = [row for row in rows if row.get("family") == "deepseek-ocr"]
environment = row["environment"]
print(" ".join(environment["pip"] + environment.get("tests", [])))
PY
)"
stamp="$venv/.vin-ocr-deepseek"

venv_is_current "$venv" "$stamp" "$packages" && exit 0
venv_create "$python" "$venv" "DeepSeek-OCR"
echo "Installing $packages into $venv (about a minute and 1.5 GB the first time)"
# shellcheck disable=SC2086  # the package list is words from our own data file
venv_pip_install "$venv" setup-deepseek.sh "$packages" $packages
if "$venv/bin/python" -c 'import torchvision' >/dev/null 2>&1; then
  :
elif "$venv/bin/python" -m pip show torchvision >/dev/null 2>&1; then
  # A torchvision built for another torch (PyPI's CUDA build beside a CPU torch) fails at import; the trainer's
  # stand-in only takes over when torchvision cannot be imported, so a broken one is removed.
  echo "Removing a torchvision that cannot be imported beside this torch build"
  "$venv/bin/python" -m pip uninstall --quiet --yes torchvision
fi
echo "$packages" >"$stamp"
