"""Makes a pretraining run's best checkpoint the shipped reader: ``python -m vin_ocr.pretrained.publish RUN``.

Keeps what reading and fine-tuning need (weights, resolved config, step, images seen, time,
metrics) and drops the optimiser and scaler state (two thirds of the file), so the VSIX stays
small; writes its facts (``vin-reader.json``) and its ONNX export (``onnx/``, for fast reads). The run
itself (with ``last.pt``) stays where it is, to be resumed.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from . import SHIPPED_CHECKPOINT, SHIPPED_ONNX

KEPT = ("run_id", "config", "model", "step", "samples_seen", "elapsed_seconds", "metrics", "best_metrics", "best_step")


def publish(run: str, destination: Path = SHIPPED_CHECKPOINT) -> Path:
    from ..training.checkpoints import BEST, load_checkpoint, save_atomically

    state, source = load_checkpoint(run, prefer=BEST)
    if (state.get("config") or {}).get("model", {}).get("type", "baseline") != "baseline":
        raise SystemExit(f"{source} is not a baseline checkpoint: only the baseline CRNN is shipped.")
    kept = {key: state[key] for key in KEPT if key in state}
    kept["model"] = {name: tensor.float().contiguous() for name, tensor in kept["model"].items()}
    save_atomically(kept, destination)
    _write_facts(kept, destination.with_suffix(".json"))
    if destination == SHIPPED_CHECKPOINT:
        from ..export.onnx_export import export_onnx

        result = export_onnx(destination, SHIPPED_ONNX)  # refuses to write one whose reads differ (parity)
        print(f"ONNX: {result.parity.identical}/{result.parity.size} reads identical to PyTorch's", file=sys.stderr)
    return destination


def _write_facts(state: dict[str, Any], path: Path) -> None:
    """What the extension knows of the shipped reader without torch: its shape (the editor's
    init_from diagnostics) and its training facts (the model card, the pickers)."""
    model = state["config"]["model"]
    facts = {
        "model": {key: model[key] for key in ("type", "height", "width", "hidden_size")},
        "run_id": state.get("run_id"),
        "step": state.get("step"),
        "samples_seen": state.get("samples_seen"),
        "elapsed_seconds": state.get("elapsed_seconds"),
        "val": state.get("best_metrics"),
    }
    path.write_text(json.dumps(facts, indent=2) + "\n", encoding="utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("run", help="a pretraining run folder (its best checkpoint) or a .pt file")
    parser.add_argument("--output", type=Path, default=SHIPPED_CHECKPOINT)
    args = parser.parse_args()
    written = publish(args.run, args.output)
    print(f"wrote {written} ({written.stat().st_size / 1e6:.2f} MB)", file=sys.stderr)


if __name__ == "__main__":
    main()
