"""DeepSeek-OCR on its real remote code (``../shared/vendor/DeepSeek-OCR``, unmodified): loading, one LoRA step,
the adapter saved and reloaded, a VIN read by generation, and a run cancelled and resumed through the CLI.

The code imports only with transformers 4.46.3–4.47.x, which lives in DeepSeek-OCR's own environment
(``scripts/setup-deepseek.sh`` → ``.deepseek-venv``), not the main one. So this module runs in two ways:

* in the main environment, one test runs this module again with ``.deepseek-venv/bin/python`` and passes only
  if every check there passed (none skipped); where ``../shared`` or ``.deepseek-venv`` is absent it skips,
  saying "NOT RUN: …";
* in DeepSeek-OCR's environment, the checks run: on a small model built from the real code
  (``fixtures_deepseek/small_model.py``: 2 language layers, a 2-layer SAM and 1-layer CLIP, the real vocabulary
  and added-token ids; random weights). 50 s to 3 minutes on a 2-core CPU, with how busy it is.
"""

from __future__ import annotations

import atexit
import json
import math
import os
import shutil
import signal
import subprocess
import sys
import tempfile
from importlib import metadata
from pathlib import Path
from typing import Any

import pytest
from conftest import REPO, TRAINER, read_events, trainer_env, write_config
from fixtures_deepseek.small_model import missing as vendor_missing

DEEPSEEK_PYTHON = REPO / ".deepseek-venv" / "bin" / "python"
VINS = ("1HGCM82633A004352", "JH4KA7561PC008269")


def _in_deepseek_environment() -> bool:
    try:
        version = metadata.version("transformers")
    except metadata.PackageNotFoundError:
        return False
    major, minor = (int("".join(ch for ch in part if ch.isdigit()) or 0) for part in version.split(".")[:2])
    return (major, minor) < (4, 48)


IN_DEEPSEEK_ENV = _in_deepseek_environment()
real_code = pytest.mark.skipif(not IN_DEEPSEEK_ENV, reason="runs in DeepSeek-OCR's environment, through the first test of this module")

if IN_DEEPSEEK_ENV:
    # Before transformers is imported: its module cache (the remote code's copy) and no network.
    os.environ["HF_HOME"] = tempfile.mkdtemp(prefix="vin-ocr-hf-")
    atexit.register(shutil.rmtree, os.environ["HF_HOME"], True)
    os.environ["HF_HUB_OFFLINE"] = "1"


# ---- the main environment: run the checks in DeepSeek-OCR's -----------------------------------------


@pytest.mark.skipif(IN_DEEPSEEK_ENV, reason="the checks below run directly in this environment")
def test_the_real_deepseek_ocr_code_passes_its_checks_in_its_own_environment():
    why = vendor_missing()
    if why:
        pytest.skip(f"NOT RUN: {why}; DeepSeek-OCR's real code is not tested (../shared is the project's shared folder)")
    if not DEEPSEEK_PYTHON.is_file():
        pytest.skip(f"NOT RUN: {DEEPSEEK_PYTHON} is absent; run scripts/setup-deepseek.sh to test DeepSeek-OCR's real code")
    result = subprocess.run(
        [
            *(str(DEEPSEEK_PYTHON), "-m", "pytest", "-q", "-rs", "-p", "no:cacheprovider", str(Path(__file__).resolve())),
            *("-k", "not in_its_own_environment"),  # this test, which skips there
        ],
        cwd=TRAINER,
        capture_output=True,
        text=True,
        timeout=900,
        env={**trainer_env(), "PYTHONDONTWRITEBYTECODE": "1"},
    )
    output = result.stdout[-8000:] + result.stderr[-4000:]
    assert result.returncode == 0, output
    summary = result.stdout.strip().splitlines()[-1]
    assert "5 passed" in summary and "skipped" not in summary and "failed" not in summary, output


# ---- DeepSeek-OCR's environment: the checks ----------------------------------------------------------


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory):
    why = vendor_missing()
    if why:
        pytest.skip(f"NOT RUN: {why}")
    from fixtures_deepseek.small_model import build

    folder = build(tmp_path_factory.mktemp("deepseek") / "small-deepseek-ocr")
    yield folder
    shutil.rmtree(folder, ignore_errors=True)  # 0.8 GB: pytest would keep it with its last three sessions' folders


@pytest.fixture(scope="module")
def state() -> dict[str, Any]:
    """What the in-process checks hand on to each other (the model, the adapter folder), in file order."""
    return {}


def _tokenizer(model_dir: Path) -> Any:
    from vin_ocr.families.deepseek_ocr import FAMILY

    return FAMILY.traits.load_processor(str(model_dir), True, None)


def _collator(model_dir: Path) -> Any:
    from vin_ocr.models.hf.deepseek import DeepSeekOcrCollator

    return DeepSeekOcrCollator(_tokenizer(model_dir), "tiny")


def _images() -> list[Any]:
    from fixtures_hf.helpers import vin_image

    return [vin_image(vin) for vin in VINS]


@real_code
def test_it_loads_through_automodel_with_eager_attention_and_the_code_refuses_sdpa(model_dir, state):
    import torch

    from vin_ocr.models.hf.loading import load_vlm, remote_code_model
    from vin_ocr.models.hf.policy import Machine, choose_attention

    assert choose_attention("deepseek-ocr", Machine("cpu")).value == "eager"
    assert choose_attention("deepseek-ocr", Machine("mps")).value == "eager"
    assert choose_attention("deepseek-ocr", Machine("cuda", flash_attn="2.7.3", compute_capability=9.0)).value == "flash_attention_2"
    loaded = load_vlm(str(model_dir), "deepseek-ocr", "eager", "fp32", trust_remote_code=True)
    assert loaded.attention == "eager" and not loaded.fallbacks
    assert type(loaded.model).__name__ == "DeepseekOCRForCausalLM"
    assert type(loaded.model).__module__.startswith("transformers_modules.")  # the real remote code, not ours
    assert next(loaded.model.parameters()).dtype == torch.float32
    with pytest.raises(ValueError, match="scaled_dot_product_attention"):
        remote_code_model(str(model_dir), "sdpa", True, {"torch_dtype": torch.float32})
    state["model"] = loaded.model


@real_code
def test_its_forward_needs_the_device_shim_on_a_cpu_and_its_prints_stay_off_stdout(model_dir, state, capfd):
    import torch

    from vin_ocr.models.hf.generation import move_batch
    from vin_ocr.models.hf.remote_code import attach

    model = state["model"].eval()
    batch = move_batch(_collator(model_dir).training_batch([(_images()[0], VINS[0])]), torch.device("cpu"), torch.float32)
    with torch.no_grad():
        with pytest.raises(AssertionError, match="not compiled with CUDA"):  # modeling_deepseekocr.py:505
            model(**batch)
        capfd.readouterr()
        shim = attach(model, torch.device("cpu"))
        assert shim and ".cuda()" in shim and "cpu" in shim
        assert attach(model, torch.device("cpu")) == shim  # idempotent
        loss = model(**batch).loss
    assert math.isfinite(float(loss))
    printed = capfd.readouterr()
    assert "BASE:" not in printed.out and "NO PATCHES" not in printed.out
    # Prompt and image tokens are never learnt: only the VIN and the end token carry labels.
    labels, image_tokens = batch["labels"][0], batch["images_seq_mask"][0]
    assert bool((labels[image_tokens] == -100).all())
    learnt = labels[labels != -100].tolist()
    tokenizer = _tokenizer(model_dir)
    assert learnt == tokenizer.encode(VINS[0], add_special_tokens=False) + [tokenizer.eos_token_id]


@real_code
def test_one_lora_step_with_checkpointing_trains_only_the_language_model(model_dir, state, tmp_path_factory):
    import torch

    from vin_ocr.families.deepseek_ocr import FAMILY
    from vin_ocr.families.vlm.run import _drop_input_require_grads
    from vin_ocr.models.hf.generation import move_batch
    from vin_ocr.models.hf.lora import apply_lora

    traits = FAMILY.traits
    model = state["model"]
    facts = traits.on_device(model, torch.device("cpu"), "lora")
    assert "device_shim" in facts
    model.gradient_checkpointing_enable(gradient_checkpointing_kwargs={"use_reentrant": False})
    model.config.use_cache = False
    model = apply_lora(model, traits.lora)
    _drop_input_require_grads(model)  # peft would make the embeddings' output require grad: masked_scatter_ then fails
    trainable = {name: p for name, p in model.named_parameters() if p.requires_grad}
    assert trainable and all("lora_" in name and ".layers." in name for name in trainable)
    assert not any(part in name for name in trainable for part in ("sam_model", "vision_model", "projector"))
    targets = {name.split(".lora_")[0].rsplit(".", 1)[-1] for name in trainable}
    assert targets == {"q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"}
    before = {name: p.detach().clone() for name, p in trainable.items()}
    optimizer = torch.optim.AdamW(list(trainable.values()), lr=1e-3)
    batch = move_batch(_collator(model_dir).training_batch(list(zip(_images(), VINS))), torch.device("cpu"), torch.float32)
    model.train()
    for _ in range(2):  # the second step moves lora_A too (lora_B starts at zero)
        loss = model(**batch).loss
        assert math.isfinite(float(loss.detach()))
        loss.backward()
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
    changed = [name for name, p in trainable.items() if not torch.equal(before[name], p.detach())]
    assert any("lora_A" in name for name in changed) and any("lora_B" in name for name in changed)
    assert any("self_attn" in name for name in changed)
    adapter = tmp_path_factory.mktemp("adapter")
    model.save_pretrained(str(adapter))
    assert (adapter / "adapter_model.safetensors").is_file()
    state["adapter"], state["trained"] = adapter, {name: p.detach().clone() for name, p in trainable.items()}
    state.pop("model")


@real_code
def test_the_adapter_reloads_and_reads_a_vin_by_cached_generation(model_dir, state):
    import torch
    from peft import PeftModel

    from vin_ocr.families.deepseek_ocr import FAMILY
    from vin_ocr.models.hf.generation import VinAlphabetLogits, cached_greedy_decode, generate_reads, greedy_decode, move_batch
    from vin_ocr.models.hf.loading import load_vlm
    from vin_ocr.vin import ALPHABET

    base = load_vlm(str(model_dir), "deepseek-ocr", "eager", "fp32", trust_remote_code=True).model
    model = PeftModel.from_pretrained(base, str(state["adapter"])).eval()
    FAMILY.traits.on_device(model, torch.device("cpu"), "reading")
    for name, parameter in model.named_parameters():
        if name in state["trained"]:
            assert torch.equal(parameter, state["trained"][name]), name
    collator = _collator(model_dir)
    (read,) = generate_reads(model, collator, _images()[:1], torch.device("cpu"), max_new_tokens=64)
    assert 0 < len(read.text) <= 17 and set(read.text) <= set(ALPHABET)
    assert 0.0 <= read.confidence <= 1.0 and len(read.char_confidences) == len(read.text)
    # The cache changes nothing: the first tokens equal those of plain forward passes over the whole sequence.
    batch = move_batch(collator.generation_batch(_images()[:1]), torch.device("cpu"), torch.float32)
    constraint = VinAlphabetLogits(collator.tokenizer, batch["input_ids"].shape[1], collator.end_of_answer)
    cached, _ = cached_greedy_decode(model, batch, collator.end_of_answer, 3, constraint)
    plain, _ = greedy_decode(model, batch, collator.end_of_answer, 3, constraint)
    assert cached.tolist() == plain.tolist()


@real_code
def test_train_cancel_resume_predict_and_evaluate_through_the_cli(model_dir, tmp_path, event_validator):
    from fixtures_hf.helpers import vin_image

    from vin_ocr.training.harness import EXIT_CANCELLED

    config = {
        "model": {
            "type": "deepseek-ocr",
            "model_id": str(model_dir),
            "trust_remote_code": True,
            "image_mode": "tiny",
            "export_merged": False,
        },
        "data": {"train": "synthetic", "val": "synthetic", "test": None, "synthetic": {"seed": 7, "val_size": 2}},
        "training": {
            "max_steps": 4,
            "eval_every": 4,
            "batch_size": 1,
            "eval_batch_size": 2,
            "max_train_samples": 4,
            "gradient_checkpointing": True,  # non-reentrant, without enable_input_require_grads: the run's own order
            "device": "cpu",
            "seed": 3,
        },
        "output_dir": str(tmp_path / "runs"),
    }
    path = write_config(tmp_path, config)
    env = {**trainer_env(), "HF_HUB_OFFLINE": "1"}
    stderr = open(tmp_path / "stderr.txt", "w")
    process = subprocess.Popen(
        [sys.executable, "-m", "vin_ocr", "train", str(path), "--events", "-"], stdout=subprocess.PIPE, stderr=stderr, text=True, env=env
    )
    lines: list[str] = []
    try:
        assert process.stdout is not None
        for line in process.stdout:
            lines.append(line)
            if json.loads(line)["event"] == "progress":
                break
        process.send_signal(signal.SIGINT)
        rest, _ = process.communicate(timeout=120)
    finally:
        if process.poll() is None:
            process.kill()
        stderr.close()
    lines += rest.splitlines()
    log = (tmp_path / "stderr.txt").read_text()
    assert process.returncode == EXIT_CANCELLED, log[-3000:]
    events = [json.loads(line) for line in lines if line.strip()]  # stdout carried JSON events only (no BASE: prints)
    event_validator(events)
    started = events[0]
    assert started["event"] == "run_started" and started["attention"] == "eager" and started["dtype"] == "fp32"
    assert ".cuda()" in started["device_shim"] and "device shim:" in log
    assert started["finetune"] == "lora" and started["transformers_version"].startswith("4.4")
    finished = events[-1]
    # The signal ends the step under way (the first, or the second where it began before the signal came).
    assert finished["event"] == "run_finished" and finished["status"] == "cancelled" and 1 <= finished["step"] < 4
    run_dir = Path(started["run_dir"])

    resumed = subprocess.run(
        [sys.executable, "-m", "vin_ocr", "train", str(path), "--resume", str(run_dir)],
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
    )
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    events = read_events(run_dir / "events.jsonl")
    event_validator(events)
    assert [e["start_step"] for e in events if e["event"] == "run_started"] == [0, finished["step"]]
    assert [e["status"] for e in events if e["event"] == "run_finished"] == ["cancelled", "completed"]
    (evaluation,) = [e for e in events if e["event"] == "eval"]
    assert evaluation["step"] == 4 and evaluation["size"] == 2
    assert (run_dir / "checkpoints" / "best" / "adapter_model.safetensors").is_file()

    image = tmp_path / "vin.png"
    vin_image(VINS[0]).save(image)
    predicted = subprocess.run(
        [sys.executable, "-m", "vin_ocr", "predict", "--checkpoint", str(run_dir), "--device", "cpu", "--json", str(image)],
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
    )
    assert predicted.returncode == 0, predicted.stderr[-3000:]
    (result,) = json.loads(predicted.stdout)  # stdout is the JSON alone
    assert result["image"].endswith("vin.png") and 0 < len(result["vin"]) <= 17
    assert "device shim:" in predicted.stderr

    (tmp_path / "labels.txt").write_text(f"vin.png\t{VINS[0]}\n", encoding="utf-8")
    evaluated = subprocess.run(
        [sys.executable, "-m", "vin_ocr", "evaluate", "--checkpoint", str(run_dir), "--labels", str(tmp_path / "labels.txt")]
        + ["--device", "cpu", "--json"],
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
    )
    assert evaluated.returncode == 0, evaluated.stderr[-3000:]
    report = json.loads(evaluated.stdout)
    assert report["size"] == 1 and 0.0 <= report["metrics"]["cer"] <= 1.0
