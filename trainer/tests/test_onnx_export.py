"""ONNX export of the baseline and the ONNX Runtime reading backend (``export``, ``predict --backend onnx``)."""

from __future__ import annotations

import json
import random
import subprocess
import sys
import textwrap

import numpy as np
import onnxruntime
import pytest
import torch
from conftest import REPO, run_cli, tiny_config, trainer_env
from PIL import Image

from vin_ocr.__main__ import main
from vin_ocr.config import config_from_dict
from vin_ocr.data.preprocess import DEFAULT_MAX_SQUEEZE, to_model_input
from vin_ocr.data.synthetic import render_vin, synthetic_split
from vin_ocr.errors import TrainerError
from vin_ocr.export.manifest import MANIFEST_FILE, MODEL_FILE
from vin_ocr.models import build_model
from vin_ocr.onnx_reader import load_onnx_reader
from vin_ocr.training import device
from vin_ocr.training.checkpoints import save_atomically
from vin_ocr.vin import ALPHABET, random_vin

IMAGES = [str(REPO / "examples" / "data" / "images" / f"vin_{i:02d}.png") for i in range(4)]
PARITY_SIZE = 200


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    """A run folder holding a freshly initialised baseline as its best checkpoint, made to read
    varied, confident VINs like a trained model (so that "identical reads" is not a test of ties):
    batch-norm statistics measured on renders, and the classifier scaled up. A few training steps
    would not do: they read every image as the same string."""
    run = tmp_path_factory.mktemp("baseline") / "run"
    config = config_from_dict(tiny_config())
    torch.manual_seed(0)
    model = build_model(config.model)
    renders = torch.from_numpy(np.stack([image for image, _ in synthetic_split(11, 64, 32, 160)])).unsqueeze(1)
    for module in model.modules():
        if isinstance(module, torch.nn.BatchNorm2d):
            module.momentum = None  # a plain average over the one batch
    with torch.no_grad():
        model.train()(renders)
        model.classifier.weight.mul_(20.0)
    state = {"config": config.to_dict(), "model": model.state_dict(), "step": 12, "metrics": {"exact_match": 0.25, "cer": 0.5}}
    save_atomically(state, run / "checkpoints" / "best.pt")
    return run


@pytest.fixture(scope="module")
def exported(run_dir, tmp_path_factory):
    folder = tmp_path_factory.mktemp("export") / "onnx"
    result = run_cli(
        "export", "--checkpoint", str(run_dir), "--format", "onnx", "--output", str(folder), "--parity-size", str(PARITY_SIZE), "--json"
    )
    assert result.returncode == 0, result.stderr
    return folder, json.loads(result.stdout)


@pytest.fixture
def torch_in_fp32(monkeypatch):
    """The PyTorch backend reads in bf16 autocast on CPUs with native bf16; the graph is fp32."""
    monkeypatch.setattr(device, "cpu_has_native_bf16", lambda: False)


def test_the_export_writes_the_graph_and_its_description(run_dir, exported):
    folder, result = exported
    assert (folder / MODEL_FILE).is_file() and result["model"] == str(folder / MODEL_FILE)
    manifest = json.loads((folder / MANIFEST_FILE).read_text(encoding="utf-8"))
    assert manifest["format"] == "vin-ocr-onnx" and manifest["model"]["file"] == MODEL_FILE
    assert manifest["model"]["input"] == {"name": "images", "shape": ["batch", 1, 32, 160], "dtype": "float32"}
    assert manifest["model"]["output"]["shape"] == ["batch", 40, len(ALPHABET) + 1]
    preprocessing = manifest["preprocessing"]
    assert (preprocessing["height"], preprocessing["width"], preprocessing["max_squeeze"]) == (32, 160, DEFAULT_MAX_SQUEEZE)
    assert preprocessing["grey"] is True and preprocessing["resample"] == "bilinear" and len(preprocessing["steps"]) >= 5
    decoding = manifest["decoding"]
    assert decoding["alphabet"] == ALPHABET and decoding["blank_index"] == 0 and decoding["check_digit"] is False
    source = manifest["source"]
    assert source["checkpoint"] == str((run_dir / "checkpoints" / "best.pt").resolve()) and source["step"] == 12
    assert source["metrics"] == {"exact_match": 0.25, "cer": 0.5}
    assert manifest["parity"] == result["parity"] and manifest["parity"]["passed"] is True


def test_the_graph_runs_any_batch_size_like_pytorch(run_dir, exported):
    folder, _ = exported
    session = onnxruntime.InferenceSession(str(folder / MODEL_FILE), providers=["CPUExecutionProvider"])
    assert isinstance(session.get_inputs()[0].shape[0], str)  # a named, dynamic batch axis
    state = torch.load(run_dir / "checkpoints" / "best.pt", weights_only=True)
    model = build_model(config_from_dict(state["config"]).model)
    model.load_state_dict(state["model"])
    model.eval()
    for batch in (1, 7):
        images = np.random.default_rng(batch).random((batch, 1, 32, 160), dtype=np.float32)
        (actual,) = session.run(None, {"images": images})
        with torch.no_grad():
            expected = model(torch.from_numpy(images)).numpy()
        assert actual.shape == (batch, 40, len(ALPHABET) + 1)
        np.testing.assert_allclose(actual, expected, atol=1e-4)


def test_onnx_runtime_and_pytorch_read_the_held_out_set_alike(exported):
    folder, result = exported
    parity = result["parity"]
    assert parity["size"] == PARITY_SIZE and parity["seed"] == tiny_config()["data"]["synthetic"]["seed"]
    assert parity["identical"] == PARITY_SIZE and parity["identical_share"] == 1.0 >= parity["threshold"] == 0.995
    assert 0.0 <= parity["max_abs_log_prob_diff"] < 1e-3
    reader = load_onnx_reader(folder, "cpu")
    reads = reader.read_inputs([image for image, _ in synthetic_split(5, 20, 32, 160)])
    assert len({read.text for read in reads}) > 10  # varied reads: the parity above means something


def test_the_reader_prepares_images_exactly_like_to_model_input(exported, tmp_path):
    reader = load_onnx_reader(exported[0] / MANIFEST_FILE, "cpu")
    rng = random.Random(3)
    images = [render_vin(random_vin(rng, north_american=i % 2 == 0), rng) for i in range(6)]
    images += [Image.open(name) for name in IMAGES]
    images.append(images[0].convert("RGBA"))
    images.append(images[1].resize((images[1].width * 4, images[1].height)))  # wide: squeezed, then shrunk
    for image in images:
        np.testing.assert_array_equal(reader.prepare(image), to_model_input(image, 32, 160))


def test_an_export_describing_other_preprocessing_is_refused(exported, tmp_path):
    folder = tmp_path / "changed"
    folder.mkdir()
    (folder / MODEL_FILE).write_bytes((exported[0] / MODEL_FILE).read_bytes())
    manifest = json.loads((exported[0] / MANIFEST_FILE).read_text(encoding="utf-8"))
    manifest["preprocessing"]["min_spread"] = 3.0
    (folder / MANIFEST_FILE).write_text(json.dumps(manifest), encoding="utf-8")
    with pytest.raises(TrainerError, match="min_spread") as caught:
        load_onnx_reader(folder, "cpu")
    assert caught.value.code == "checkpoint_invalid"


@pytest.mark.parametrize("check_digit", ["off", "on"])
def test_predict_with_onnx_runtime_prints_what_pytorch_prints(run_dir, exported, torch_in_fp32, capsys, check_digit):
    outputs = {}
    for backend, checkpoint in (("torch", run_dir), ("onnx", exported[0])):
        args = ["predict", "--backend", backend, "--checkpoint", str(checkpoint), "--device", "cpu", "--check-digit", check_digit]
        assert main([*args, *IMAGES, "--json"]) == 0
        reads = json.loads(capsys.readouterr().out)
        assert main([*args, *IMAGES]) == 0
        outputs[backend] = (reads, capsys.readouterr().out)
    (torch_reads, torch_text), (onnx_reads, onnx_text) = outputs["torch"], outputs["onnx"]
    assert onnx_text == torch_text
    assert [{**r, "confidence": None, "characters": [c["char"] for c in r["characters"]]} for r in onnx_reads] == [
        {**r, "confidence": None, "characters": [c["char"] for c in r["characters"]]} for r in torch_reads
    ]
    for onnx_read, torch_read in zip(onnx_reads, torch_reads):  # fp32 on both sides: equal up to rounding
        assert onnx_read["confidence"] == pytest.approx(torch_read["confidence"], abs=1e-5)
        for a, b in zip(onnx_read["characters"], torch_read["characters"]):
            assert a["confidence"] == pytest.approx(b["confidence"], abs=1e-5)


def test_predict_picks_onnx_runtime_for_an_export_folder(exported, capsys):
    assert main(["predict", "--checkpoint", str(exported[0]), IMAGES[0], "--json"]) == 0
    assert json.loads(capsys.readouterr().out)[0]["image"] == IMAGES[0]


BLOCK_TORCH = """
import sys

class BlockTorch:
    def find_spec(self, name, path=None, target=None):
        if name == "torch" or name.startswith("torch."):
            raise ImportError(f"torch is blocked in this test (import of {name})")
        return None

sys.meta_path.insert(0, BlockTorch())
from vin_ocr.__main__ import main
code = main(sys.argv[1:])
assert not any(name == "torch" or name.startswith("torch.") for name in sys.modules), "torch was imported"
sys.exit(code)
"""


def test_predict_with_onnx_runtime_never_imports_torch(exported):
    args = ["predict", "--backend", "onnx", "--checkpoint", str(exported[0]), *IMAGES, "--json"]
    blocked = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(BLOCK_TORCH), *args], capture_output=True, text=True, timeout=120, env=trainer_env()
    )
    assert blocked.returncode == 0, blocked.stderr
    reads = json.loads(blocked.stdout)
    assert [read["image"] for read in reads] == IMAGES and all(len(read["vin"]) == 17 for read in reads)
    # The guard itself works: the PyTorch backend fails under it.
    torch_args = ["predict", "--backend", "torch", "--checkpoint", str(exported[0].parent), IMAGES[0]]
    refused = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(BLOCK_TORCH), *torch_args], capture_output=True, text=True, timeout=120, env=trainer_env()
    )
    assert refused.returncode != 0


@pytest.mark.parametrize("model_type", ["lfm2-vl", "deepseek-ocr"])
def test_a_vision_language_checkpoint_is_refused_with_what_to_use_instead(tmp_path, model_type):
    checkpoint = tmp_path / "checkpoint-2"
    checkpoint.mkdir()
    (checkpoint / "checkpoint.json").write_text(json.dumps({"config": {"model": {"type": model_type}}}), encoding="utf-8")
    result = run_cli("export", "--checkpoint", str(checkpoint), "--format", "onnx", "--output", str(tmp_path / "out"))
    assert result.returncode == 2
    assert f"ONNX export is not available for {model_type} checkpoints" in result.stderr
    assert "export/merged" in result.stderr and "adapter" in result.stderr
    assert "Traceback" not in result.stderr and not (tmp_path / "out").exists()


def test_a_missing_or_broken_checkpoint_is_a_coded_error(tmp_path):
    broken = tmp_path / "broken.pt"
    broken.write_bytes(b"not a checkpoint")
    for target, says in ((tmp_path / "nope.pt", "does not exist"), (broken, "not a readable checkpoint")):
        result = run_cli("export", "--checkpoint", str(target), "--output", str(tmp_path / "out"), "--json")
        assert result.returncode == 1
        error = json.loads(result.stdout)["error"]
        assert error["code"] == "checkpoint_invalid" and says in error["message"]
        assert "Traceback" not in result.stderr


def test_the_onnx_backend_on_something_that_is_not_an_export_says_how_to_make_one(run_dir, capsys):
    assert main(["predict", "--backend", "onnx", "--checkpoint", str(run_dir), IMAGES[0], "--json"]) == 1
    error = json.loads(capsys.readouterr().out)["error"]
    assert error["code"] == "checkpoint_invalid" and "python -m vin_ocr export" in error["hint"]


def test_a_broken_graph_in_an_export_is_a_coded_error(exported, tmp_path, capsys):
    folder = tmp_path / "broken"
    folder.mkdir()
    (folder / MANIFEST_FILE).write_bytes((exported[0] / MANIFEST_FILE).read_bytes())
    (folder / MODEL_FILE).write_bytes(b"not a graph")
    assert main(["predict", "--checkpoint", str(folder), IMAGES[0], "--json"]) == 1
    error = json.loads(capsys.readouterr().out)["error"]
    assert error["code"] == "checkpoint_invalid" and "cannot load" in error["message"]
