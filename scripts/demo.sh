#!/usr/bin/env bash
# The main job (`npm run demo`): set up the trainer environment, score the shipped pretrained VIN
# reader on the example photos, fine-tune it from examples/baseline.yaml on this machine (about 10
# minutes on a laptop CPU), then print its held-out metrics, its score on the example photos-like
# renders and where the model was saved.
# The run is written to runs/<run-id>/ in the repository root.
# Extra arguments go to `train`, e.g. `npm run demo -- --max-minutes 2`.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bash "$root/scripts/setup-python.sh"
python="$root/.venv/bin/python"
"$python" -m vin_ocr hardware

echo
echo "== Before training: the shipped pretrained reader on the example dataset (examples/data)"
"$python" -m vin_ocr evaluate --checkpoint pretrained --labels "$root/examples/data/labels.txt"
echo

events="$(mktemp -t vin-ocr-demo-events.XXXXXX)"
trap 'rm -f "$events"' EXIT
status=0
# Runs go to runs/ at the repository root (git-ignored), never into examples/, which the extension ships.
"$python" -m vin_ocr train "$root/examples/baseline.yaml" --output-dir "$root/runs" --events "$events" "$@" || status=$?

# The last run_finished event says how the run ended and where its best checkpoint is.
best="$("$python" - "$events" <<'PY'
import json, sys
finished = [e for e in map(json.loads, open(sys.argv[1], encoding="utf-8")) if e["event"] == "run_finished"]
print(finished[-1]["best_checkpoint"] or "" if finished else "")
PY
)"
if [ "$status" -ne 0 ] || [ -z "$best" ]; then
  echo "training did not finish (exit $status); see the messages above" >&2
  exit "${status/#0/1}"
fi
echo
echo "== The example dataset (examples/data: typefaces the model never trained on)"
"$python" -m vin_ocr evaluate --checkpoint "$best" --labels "$root/examples/data/labels.txt"
echo
echo "Model saved to: $best"
echo "Read a VIN:     $python -m vin_ocr predict --checkpoint $best IMAGE.png"
