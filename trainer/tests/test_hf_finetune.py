"""Fine-tuning the tiny LFM2-VL on the CPU: the whole path a real LFM2.5-VL run takes."""

import io
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch
from fixtures_hf.helpers import event_validator, go_offline, labelled_dir, read_events, tiny_finetune_flags, tiny_model_dir

from vin_ocr.training import hf_finetune

pytestmark = pytest.mark.filterwarnings("ignore::FutureWarning")


@pytest.fixture(autouse=True)
def offline(monkeypatch):
    go_offline(monkeypatch)


def finetune(tmp_path, *extra, steps=12):
    schedule = ["--max-steps", str(steps), "--learning-rate", "1e-2", "--eval-every", "6", "--max-eval-samples", "4"]
    argv = tiny_finetune_flags(tmp_path / "runs", *schedule, *extra)
    stream = io.StringIO()
    code = hf_finetune.main(argv, events_stream=stream)
    events = [json.loads(line) for line in stream.getvalue().splitlines()]
    return code, events


def of(events, kind):
    return [e for e in events if e["event"] == kind]


@pytest.mark.parametrize("attention", ["sdpa", "eager"])
def test_lora_finetuning_lowers_the_loss_and_reports_everything(tmp_path, attention):
    flat_metrics = tmp_path / "metrics-flat.json"
    extra = ["--attn-implementation", attention] + (["--no-export", "--metrics-file", str(flat_metrics)] if attention == "eager" else [])
    code, events = finetune(tmp_path, *extra)
    assert code == 0, of(events, "run_finished")
    validator = event_validator()
    for event in events:
        validator.validate(event)

    started = of(events, "run_started")[0]
    assert started["attention"] == attention and "requested" in started["attention_reason"]
    assert started["dtype"] == "fp32" and started["device"] == "cpu"
    assert started["trainable_parameters"] < started["parameters"]  # LoRA: only the adapter learns

    losses = [e["loss"] for e in of(events, "progress")]
    assert losses[-1] < losses[0] - 0.05, losses

    evals = of(events, "eval")
    assert [e["step"] for e in evals] == [6, 12]
    assert {"exact_match", "cer", "char_f1", "pos_17_acc"} <= set(evals[-1]["metrics"])
    assert of(events, "samples")[0]["items"][0]["image"].startswith("data:image/png;base64,")

    finished = of(events, "run_finished")[-1]
    assert finished["status"] == "completed" and finished["step"] == 12
    best = Path(finished["best_checkpoint"])
    assert (best / "adapter_model.safetensors").is_file() and (best / "adapter_config.json").is_file()
    run_dir = Path(started["run_dir"])
    assert read_events(run_dir / "events.jsonl") == events  # the run directory keeps the same stream
    metrics = json.loads((run_dir / "metrics.json").read_text())
    assert "exact_match" in metrics["val"] and metrics["best_step"] in (6, 12) and metrics["attention"] == attention
    assert (run_dir / "config.yaml").is_file() and (run_dir / "train.log").is_file()
    assert any(path.name.startswith("events.out.tfevents") for path in run_dir.iterdir())
    if attention == "eager":  # the existing project's --metrics-file: flat val_* names
        assert "val_exact_match" in json.loads(flat_metrics.read_text())
    if attention == "sdpa":
        assert_adapter_reloads_and_matches_the_merged_export(run_dir, best)


def assert_adapter_reloads_and_matches_the_merged_export(run_dir, best):
    from fixtures_hf.helpers import vin_image
    from peft import PeftModel
    from transformers import AutoModelForImageTextToText

    from vin_ocr.models.hf.collate import Lfm2VlCollator
    from vin_ocr.models.hf.loading import load_processor

    processor = load_processor(str(run_dir / "export" / "merged"))
    batch = Lfm2VlCollator(processor).training_batch([(vin_image("1HGCM82633A004352"), "1HGCM82633A004352")])
    base = AutoModelForImageTextToText.from_pretrained(tiny_model_dir(), attn_implementation="sdpa")
    untouched = base(**batch).logits
    adapted = PeftModel.from_pretrained(base, best).eval()
    merged = AutoModelForImageTextToText.from_pretrained(run_dir / "export" / "merged", attn_implementation="sdpa").eval()
    with torch.no_grad():
        adapted_logits, merged_logits = adapted(**batch).logits, merged(**batch).logits
    assert not torch.allclose(adapted_logits, untouched, atol=1e-4)  # the adapter changed the model
    assert torch.allclose(adapted_logits, merged_logits, atol=1e-4)


def test_cancel_saves_last_and_resume_continues_the_same_run(tmp_path):
    code, first = finetune(tmp_path, "--stop-after-step", "2", "--no-export", steps=4)
    assert code == hf_finetune.EXIT_CANCELLED
    finished = of(first, "run_finished")[-1]
    assert finished["status"] == "cancelled" and finished["step"] == 2
    last = Path(finished["last_checkpoint"])
    assert of(first, "checkpoint")[-1]["step"] == 2 and last.is_dir()
    run_dir = last.parent.parent

    stream = io.StringIO()
    code = hf_finetune.main(
        [
            "--resume",
            str(run_dir),
            "--model-id",
            str(tiny_model_dir()),
            "--train-labels",
            str(labelled_dir() / "labels.txt"),
            "--batch-size",
            "4",
            "--max-steps",
            "4",
            "--learning-rate",
            "1e-2",
            "--no-export",
            "--max-eval-samples",
            "2",
        ],
        events_stream=stream,
    )
    second = [json.loads(line) for line in stream.getvalue().splitlines()]
    assert code == 0
    started = of(second, "run_started")[0]
    assert started["start_step"] == 2 and started["resumed_from"] == str(last)
    assert started["run_id"] == first[0]["run_id"]
    assert [e["step"] for e in of(second, "progress")][0] == 3
    assert of(second, "run_finished")[-1]["step"] == 4
    assert len(read_events(run_dir / "events.jsonl")) == len(first) + len(second)


def test_sigterm_finishes_the_step_and_ends_cancelled(tmp_path):
    labels = labelled_dir() / "labels.txt"
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "vin_ocr.training.hf_finetune",
            "--model-id",
            str(tiny_model_dir()),
            "--train-labels",
            str(labels),
            "--output-dir",
            str(tmp_path / "runs"),
            "--batch-size",
            "2",
            "--max-steps",
            "500",
            "--eval-every",
            "1000",
            "--no-export",
            "--events",
            "-",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env=env,
    )
    events = []
    try:
        deadline = time.monotonic() + 120
        for line in process.stdout:
            events.append(json.loads(line))
            if events[-1]["event"] == "progress":
                process.send_signal(signal.SIGTERM)
                break
            assert time.monotonic() < deadline
        events += [json.loads(line) for line in process.stdout]
        assert process.wait(timeout=60) == hf_finetune.EXIT_CANCELLED
    finally:
        if process.poll() is None:
            process.kill()
    finished = events[-1]
    assert finished["event"] == "run_finished" and finished["status"] == "cancelled"
    assert finished["step"] >= 1 and Path(finished["last_checkpoint"]).is_dir()


def test_vin_ocr_train_with_model_type_lfm2_vl_fine_tunes_the_vlm(tmp_path):
    data = labelled_dir()
    config = tmp_path / "tiny.yaml"
    config.write_text(
        "model:\n"
        "  type: lfm2-vl\n"
        f"  model_id: {tiny_model_dir()}\n"
        "  attn_implementation: eager\n"
        "  export_merged: false\n"
        "data:\n"
        f"  train: {os.path.relpath(data / 'labels.txt', tmp_path)}\n"
        "  val: null\n"
        "training:\n"
        "  max_steps: 2\n"
        "  batch_size: 2\n"
        "  gradient_accumulation_steps: 2\n"
        "output_dir: runs\n",
        encoding="utf-8",
    )
    from vin_ocr.__main__ import main as vin_ocr_main

    # The same command the extension's "VIN OCR: Train" runs for any training config.
    assert vin_ocr_main(["train", str(config), "--events", str(tmp_path / "events.jsonl")]) == 0
    events = read_events(tmp_path / "events.jsonl")
    started = of(events, "run_started")[0]
    assert started["attention"] == "eager" and started["total_steps"] == 2
    assert Path(started["run_dir"]).parent == tmp_path / "runs"
    assert of(events, "progress")[-1]["epoch"] == pytest.approx(8 / 8)  # 2 steps x 2 x 2 samples over 8 images


def test_a_bad_labels_file_fails_with_every_problem_listed(tmp_path):
    labels = tmp_path / "labels.txt"
    labels.write_text("missing.png\t1HGCM82633A004352\nimg.png\tNOT-A-VIN\n", encoding="utf-8")
    code, events = finetune(tmp_path, "--train-labels", str(labels))
    assert code == hf_finetune.EXIT_FAILED
    finished = of(events, "run_finished")[-1]
    assert finished["status"] == "failed" and finished["error"]["code"] == "invalid_dataset"
    assert len(finished["error"]["issues"]) >= 2
    event_validator().validate(finished)


def test_invalid_settings_are_reported_together(tmp_path):
    code, events = finetune(tmp_path, "--batch-size", "0", "--gradient-accumulation-steps", "0")
    error = of(events, "run_finished")[-1]["error"]
    assert code == hf_finetune.EXIT_FAILED and error["code"] == "invalid_config"
    assert len(error["issues"]) == 2


def test_full_finetuning_trains_every_weight_and_resumes(tmp_path):
    code, events = finetune(tmp_path, "--full-finetune", "--stop-after-step", "1", "--no-export", "--val-labels", "", steps=2)
    started = of(events, "run_started")[0]
    assert code == hf_finetune.EXIT_CANCELLED
    assert started["trainable_parameters"] == started["parameters"]
    last = Path(of(events, "run_finished")[-1]["last_checkpoint"])
    assert (last / "model.safetensors").is_file() and not (last / "adapter_model.safetensors").exists()
    stream = io.StringIO()
    code = hf_finetune.main(
        [
            "--resume",
            str(last.parent.parent),
            "--model-id",
            str(tiny_model_dir()),
            "--full-finetune",
            "--train-labels",
            str(labelled_dir() / "labels.txt"),
            "--batch-size",
            "4",
            "--max-steps",
            "2",
            "--no-export",
        ],
        events_stream=stream,
    )
    resumed = [json.loads(line) for line in stream.getvalue().splitlines()]
    assert code == 0 and of(resumed, "run_started")[0]["start_step"] == 1


def test_a_failed_attention_is_reported_after_run_started_with_the_fallback_used(tmp_path):
    code, events = finetune(tmp_path, "--attn-implementation", "flash_attention_2", "--no-export", "--val-labels", "", steps=1)
    assert code == 0
    assert events[0]["event"] == "run_started"
    assert events[0]["attention"] == "sdpa" and "fell back to sdpa" in events[0]["attention_reason"]
    warning = of(events, "warning")[0]
    assert warning["code"] == "attention_fallback" and "flash_attention_2" in warning["message"]


def test_the_existing_projects_model_profile_and_flags_resolve_together(tmp_path):
    profile = tmp_path / "liquidai.yaml"
    profile.write_text(
        "model_id: LiquidAI/LFM2.5-VL-1.6B\n"
        "model_name: lfm2.5-vl\n"
        "fallback: {enabled: true, type: baseline, model_name: crnn, reason: needs 4 GB VRAM}\n"
        "training:\n"
        "  trust_remote_code: false\n"
        "  prompt: 'Read the VIN.'\n"
        "  max_new_tokens: 24\n"
        "  attn_implementation: sdpa\n",
        encoding="utf-8",
    )
    args = hf_finetune.build_parser().parse_args(
        ["--model-config", str(profile), "--train-labels", "train/train_labels.txt", "--batch-size", "2", "--num-epochs", "3", "--fp16"]
    )
    # One config system: the flags and the profile become keys of the training config.
    config, _ = hf_finetune.config_from_flags(args)
    assert config.model.model_id == "LiquidAI/LFM2.5-VL-1.6B" and config.model.prompt == "Read the VIN."
    assert config.model.attn_implementation == "sdpa" and config.model.max_new_tokens == 24
    assert config.model.fallback["enabled"] is True and config.training.precision == "fp16"
    assert (
        config.data.train == str(Path("train/train_labels.txt").resolve()) and config.data.val is None and config.training.num_epochs == 3
    )
    assert config.training.learning_rate == 2e-4  # the LoRA recipes' learning rate unless one is given


def test_a_missing_config_file_is_a_clear_error(tmp_path):
    code, events = finetune(tmp_path, "--config", str(tmp_path / "nope.yaml"))
    error = of(events, "run_finished")[-1]["error"]
    assert code == hf_finetune.EXIT_FAILED and error["code"] == "invalid_config" and "does not exist" in error["message"]


def test_onnx_export_says_plainly_when_it_cannot(tmp_path):
    import importlib.util

    from vin_ocr.models.hf.export import export_onnx

    if importlib.util.find_spec("optimum") is not None:
        pytest.skip("optimum is installed here; this checks the message without it")
    result = export_onnx(tiny_model_dir(), tmp_path / "onnx")
    assert not result.ok and "optimum" in result.message and "merged weights" in result.message
    assert "pip install" in result.fix and not (tmp_path / "onnx").exists()
