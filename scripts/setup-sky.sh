#!/usr/bin/env bash
# Creates (or updates) SkyPilot's own virtual environment at .sky-venv in the repository root.
# SkyPilot (~460 MB) stays out of the trainer's environment; the version is the one pinned in
# data/requirements.json ("skypilot.pip"), which the extension's "create an environment for sky" uses too.
# Idempotent: a stamp records what was installed; a second run with nothing changed takes under a second.
# Usage: scripts/setup-sky.sh [EXTRA]   e.g. scripts/setup-sky.sh aws  ->  skypilot[aws]==<pinned>
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# shellcheck source=scripts/venv-lib.sh
. "$root/scripts/venv-lib.sh"
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

venv_is_current "$venv" "$stamp" "$requirement" sky && exit 0
venv_create "$python" "$venv" "SkyPilot"
echo "Installing $requirement into $venv (about 40 s and 460 MB the first time)"
venv_pip_install "$venv" setup-sky.sh "$requirement" "$requirement"
echo "$requirement" >"$stamp"
