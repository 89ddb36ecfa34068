#!/usr/bin/env bash
# Creates (or updates) SkyPilot's own virtual environment at .sky-venv in the repository root.
# SkyPilot (~460 MB) stays out of the trainer's environment; the version is the one pinned in
# data/requirements.json ("skypilot.pip"), which the extension's "create an environment for sky" uses too.
# Idempotent: a stamp records what was installed; a second run with nothing changed takes under a second.
# Usage: scripts/setup-sky.sh [EXTRA]   e.g. scripts/setup-sky.sh aws  ->  skypilot[aws]==<pinned>
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
venv="${VIN_OCR_SKY_VENV:-$root/.sky-venv}"
python="${VIN_OCR_PYTHON:-python3}"
pinned="$("$python" -c 'import json, sys; print(json.load(open(sys.argv[1]))["skypilot"]["pip"])' "$root/data/requirements.json")"
extra="${1:-}"
requirement="$pinned"
if [ -n "$extra" ]; then
  case "$extra" in
    *[!a-z0-9,-]*) echo "setup-sky.sh: the extra must be a cloud name such as aws, gcp or azure, not \"$extra\"" >&2; exit 2 ;;
  esac
  requirement="${pinned/==/[$extra]==}"
fi
stamp="$venv/.vin-ocr-skypilot"

if [ "$(cat "$stamp" 2>/dev/null)" = "$requirement" ] && [ -x "$venv/bin/sky" ]; then
  exit 0
fi
if [ ! -x "$venv/bin/python" ]; then
  echo "Creating SkyPilot's environment in $venv"
  "$python" -m venv "$venv"
fi
echo "Installing $requirement into $venv (about 40 s and 460 MB the first time)"
if ! "$venv/bin/python" -m pip install --quiet "$requirement"; then
  echo "setup-sky.sh: could not install $requirement (no network or no package index?). See pip's message above." >&2
  exit 1
fi
echo "$requirement" >"$stamp"
