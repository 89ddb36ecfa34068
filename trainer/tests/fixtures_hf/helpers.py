"""Shared by the test_hf_* modules: one tiny LFM2-VL and one small labelled VIN set per test process.

Building them takes a few seconds, so they are made once and reused (read-only) by every test.
"""

from __future__ import annotations

import atexit
import json
import random
import shutil
import tempfile
from functools import lru_cache
from pathlib import Path

from PIL import Image, ImageDraw

FIXTURES = Path(__file__).resolve().parent
FAKE_REMOTE_OCR = FIXTURES / "fake_remote_ocr"
STUB_DIR = FIXTURES.parent.parent / "stubs" / "flash_attn_stub"
SCHEMA = FIXTURES.parent.parent.parent / "schemas" / "trainer-events.schema.json"


def _scratch(prefix: str) -> Path:
    path = Path(tempfile.mkdtemp(prefix=prefix))
    atexit.register(shutil.rmtree, path, True)
    return path


@lru_cache(maxsize=None)
def tiny_model_dir() -> Path:
    from vin_ocr.tiny_models import write_tiny_lfm2_vl

    return write_tiny_lfm2_vl(_scratch("vin-ocr-tiny-") / "lfm2-vl", seed=0)


def vin_image(vin: str, size: tuple[int, int] = (180, 28)) -> Image.Image:
    """A plain dark-on-light VIN line drawn with Pillow's built-in font: real pixels, no renderer needed."""
    image = Image.new("L", size, 235)
    ImageDraw.Draw(image).text((4, 8), vin, fill=20)
    return image.convert("RGB")


@lru_cache(maxsize=None)
def labelled_dir(count: int = 8) -> Path:
    """``labels.txt`` (``img/N.png<TAB>VIN``) with ``count`` images."""
    from vin_ocr.vin import random_vin

    root = _scratch("vin-ocr-labels-")
    (root / "img").mkdir()
    rng = random.Random(7)
    lines = []
    for index in range(count):
        vin = random_vin(rng, True)
        vin_image(vin).save(root / "img" / f"{index}.png")
        lines.append(f"img/{index}.png\t{vin}")
    (root / "labels.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return root


def tiny_finetune_flags(output_dir: Path, *extra: str) -> list[str]:
    """The existing project's fine-tuning flags for the tiny LFM2-VL on ``labelled_dir()`` (train = val), plus ``extra``."""
    labels = str(labelled_dir() / "labels.txt")
    common = ["--model-id", str(tiny_model_dir()), "--train-labels", labels, "--val-labels", labels]
    return [*common, "--output-dir", str(output_dir), "--batch-size", "4", "--max-new-tokens", "18", *extra]


def read_events(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def event_validator():
    import jsonschema

    schema = json.loads(SCHEMA.read_text(encoding="utf-8"))
    return jsonschema.Draft7Validator(schema)


@lru_cache(maxsize=None)
def fake_deepseek_dir() -> Path:
    """The fake remote-code OCR model, with weights and a tokenizer, in a folder named like DeepSeek-OCR.

    Weights are written with safetensors directly: importing the model code needs flash_attn.
    """
    import torch
    from safetensors.torch import save_file

    from vin_ocr.models.hf.tokenizer import build_char_tokenizer

    folder = _scratch("vin-ocr-fake-") / "deepseek-ocr-fake"
    shutil.copytree(FAKE_REMOTE_OCR, folder, ignore=shutil.ignore_patterns("__pycache__"))
    build_char_tokenizer().save_pretrained(folder)
    generator = torch.Generator().manual_seed(0)
    hidden, vocab = 16, 128

    def weight(*shape):
        return torch.randn(*shape, generator=generator) * 0.1

    save_file(
        {
            "embed.weight": weight(vocab, hidden),
            "vision.weight": weight(hidden, 48),
            "vision.bias": torch.zeros(hidden),
            "q_proj.weight": weight(hidden, hidden),
            "q_proj.bias": torch.zeros(hidden),
            "attention.qkv.weight": weight(3 * hidden, hidden),
            "attention.qkv.bias": torch.zeros(3 * hidden),
            "attention.out.weight": weight(hidden, hidden),
            "attention.out.bias": torch.zeros(hidden),
            "lm_head.weight": weight(vocab, hidden),
            "lm_head.bias": torch.zeros(vocab),
        },
        str(folder / "model.safetensors"),
    )
    return folder


def go_offline(monkeypatch) -> None:
    """HF_HUB_OFFLINE=1, also for a huggingface_hub that was imported before (it reads the variable once)."""
    from huggingface_hub import constants

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", True)
