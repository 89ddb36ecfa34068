"""Reads images with an exported PaddleOCR recognizer; run by PaddlePaddle's own interpreter, never imported.

    PADDLE_PYTHON read_worker.py MODEL_DIR MODEL_NAME DEVICE < image paths, one per line

Prints one JSON object per image, in order: {"text": …, "score": …} (or {"error": …} for an image it
cannot read). Only the standard library and paddleocr are used, so it runs outside the trainer's environment.
"""

import json
import os
import sys


def main() -> int:
    model_dir, model_name, device = sys.argv[1:4]
    os.environ.setdefault("PADDLE_PDX_DISABLE_MODEL_SOURCE_CHECK", "True")
    os.environ.setdefault("DISABLE_MODEL_SOURCE_CHECK", "True")
    from paddleocr import TextRecognition  # type: ignore[import-not-found]  # PaddlePaddle's environment only

    paths = [line.rstrip("\n") for line in sys.stdin if line.strip()]
    model = TextRecognition(model_name=model_name, model_dir=model_dir, device=device)
    try:  # all at once (batched) …
        lines = [_line(result) for result in model.predict(input=paths, batch_size=16)] if paths else []
    except Exception:  # noqa: BLE001 - … or, when one image spoils the batch, one by one
        lines = [_one(model, path) for path in paths]
    sys.stdout.write("".join(line + "\n" for line in lines))
    return 0


def _line(result) -> str:
    return json.dumps({"text": str(result["rec_text"]), "score": float(result["rec_score"])})


def _one(model, path: str) -> str:
    try:
        (result,) = list(model.predict(input=path, batch_size=1))
        return _line(result)
    except Exception as error:  # noqa: BLE001 - one unreadable image must not lose the others' reads
        return json.dumps({"error": f"{type(error).__name__}: {error}"})


if __name__ == "__main__":
    sys.exit(main())
