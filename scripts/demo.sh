#!/usr/bin/env bash
# The main job: set up the trainer environment, then show what this machine can train.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bash "$root/scripts/setup-python.sh"
exec "$root/.venv/bin/python" -m vin_ocr hardware
