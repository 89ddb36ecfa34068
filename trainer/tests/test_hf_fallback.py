"""A model that cannot run on this machine hands over to the configured baseline, saying why."""

import json

from fixtures_hf.helpers import event_validator, go_offline, labelled_dir, read_events

from vin_ocr.models.hf.fallback import GB, fallback_reason
from vin_ocr.models.hf.policy import DEEPSEEK_OCR, LFM2_VL


def test_reasons_follow_the_policy_minimums():
    assert fallback_reason(LFM2_VL, "cpu", 16 * GB, None, "4.57.0") is None
    assert "8 GB" in fallback_reason(LFM2_VL, "cpu", 6 * GB, None, "4.57.0")
    assert fallback_reason(LFM2_VL, "cuda", 4 * GB, 4 * GB, "5.0.0") is None
    assert "4 GB of GPU memory" in fallback_reason(LFM2_VL, "cuda", 64 * GB, 2 * GB, "5.0.0")
    assert fallback_reason(DEEPSEEK_OCR, "mps", 16 * GB, None, "4.46.3") is None
    assert "16 GB" in fallback_reason(DEEPSEEK_OCR, "mps", 8 * GB, None, "4.46.3")
    assert "8 GB of GPU memory" in fallback_reason(DEEPSEEK_OCR, "cuda", 64 * GB, 6 * GB, "4.46.3")


def test_lfm2_needs_transformers_4_57_and_transformers_at_all():
    assert "4.57" in fallback_reason(LFM2_VL, "cuda", 64 * GB, 24 * GB, "4.46.3")
    assert "not installed" in fallback_reason(LFM2_VL, "cuda", 64 * GB, 24 * GB, None)


def test_a_fallback_config_trains_the_baseline_after_a_warning(tmp_path, monkeypatch):
    """An LFM2.5-VL config run in DeepSeek-OCR's environment (transformers 4.46.3) cannot load the model."""
    from vin_ocr.models.hf import fallback

    go_offline(monkeypatch)
    monkeypatch.setattr(fallback, "transformers_version", lambda: "4.46.3")
    config = tmp_path / "lfm2.yaml"
    config.write_text(
        "model:\n"
        "  type: lfm2-vl\n"
        "  model_id: LiquidAI/LFM2.5-VL-1.6B\n"
        "  fallback: {enabled: true, type: baseline, reason: 'Set up the LFM2.5-VL environment (VIN OCR: Set Up Trainer Environment)'}\n"
        "data:\n"
        f"  train: {labelled_dir() / 'labels.txt'}\n"
        "  val: null\n"
        "training:\n"
        "  max_steps: 2\n"
        "  device: cpu\n"
        "output_dir: runs\n",
        encoding="utf-8",
    )
    from vin_ocr.__main__ import main

    code = main(["train", str(config), "--events", str(tmp_path / "events.jsonl")])
    events = read_events(tmp_path / "events.jsonl")
    validator = event_validator()
    for event in events:
        validator.validate(event)
    warning = events[0]
    assert warning["event"] == "warning" and warning["code"] == "model_fallback"
    assert "transformers 4.57" in warning["message"] and "Training the baseline" in warning["message"]
    assert "Set Up Trainer Environment" in warning["fix"]
    started = next(e for e in events if e["event"] == "run_started")
    assert started["config"]["model"]["type"] == "baseline"
    assert code == 0 and events[-1]["status"] == "completed"


def test_without_fallback_enabled_the_run_fails_with_the_reason(tmp_path, monkeypatch):
    go_offline(monkeypatch)
    import io

    from vin_ocr.training import hf_finetune

    stream = io.StringIO()
    code = hf_finetune.main(
        [
            "--model-id",
            "LiquidAI/LFM2.5-VL-1.6B",
            "--train-labels",
            str(labelled_dir() / "labels.txt"),
            "--output-dir",
            str(tmp_path),
            "--max-steps",
            "1",
        ],
        events_stream=stream,
    )
    finished = json.loads(stream.getvalue().splitlines()[-1])
    assert code == 1 and finished["status"] == "failed"
    assert finished["error"]["code"] == "missing_dependency" and "offline" in finished["error"]["message"]
