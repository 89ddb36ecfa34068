"""The shipped pretrained reader: read with it by name, and start training from it (model.init_from)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import REPO, run_cli

from vin_ocr.config import parse_config
from vin_ocr.errors import TrainerError
from vin_ocr.families.baseline.initial_weights import initial_weights
from vin_ocr.pretrained import SHIPPED_CHECKPOINT, SHIPPED_FACTS

IMAGES = REPO / "examples" / "data" / "images"


def baseline_model(tmp_path, **model):
    config, _ = parse_config({"model": {"type": "baseline", **model}}, tmp_path)
    return config.model


def test_the_shipped_reader_is_small_and_its_facts_file_matches_its_weights():
    from vin_ocr.training.checkpoints import load_checkpoint

    assert SHIPPED_CHECKPOINT.stat().st_size < 4_000_000, "the VSIX ships it: keep it a few MB at most"
    state, _ = load_checkpoint(SHIPPED_CHECKPOINT)
    assert "optimizer" not in state  # a reader, not a run to resume
    facts = json.loads(SHIPPED_FACTS.read_text(encoding="utf-8"))
    assert facts["step"] == state["step"]
    assert facts["model"] == {key: state["config"]["model"][key] for key in ("type", "height", "width", "hidden_size")}


def test_predict_reads_with_the_shipped_reader_by_name():
    result = run_cli("predict", "--checkpoint", "pretrained", str(IMAGES / "vin_00.png"), "--json")
    assert result.returncode == 0, result.stderr
    (read,) = json.loads(result.stdout)
    assert len(read["vin"]) == 17


def test_an_unset_init_from_starts_from_the_shipped_reader_when_the_shape_fits(tmp_path):
    state, description = initial_weights(baseline_model(tmp_path))
    assert state is not None and "shipped pretrained reader" in description
    state, description = initial_weights(baseline_model(tmp_path, hidden_size=32))
    assert state is None and "hidden_size 128 (this config: 32)" in description


def test_none_means_random_weights_and_an_explicit_mismatch_is_an_error(tmp_path):
    assert initial_weights(baseline_model(tmp_path, init_from="none"))[0] is None
    with pytest.raises(TrainerError, match="different shape: hidden_size 128"):
        initial_weights(baseline_model(tmp_path, hidden_size=32, init_from="pretrained"))


def test_a_checkpoint_path_is_relative_to_the_config_and_must_exist(tmp_path):
    model = baseline_model(tmp_path, init_from="runs/old/checkpoints/best.pt")
    assert model.init_from == str(tmp_path / "runs" / "old" / "checkpoints" / "best.pt")
    with pytest.raises(TrainerError, match="does not exist"):
        initial_weights(model)
    (tmp_path / "mine.pt").write_bytes(SHIPPED_CHECKPOINT.read_bytes())
    state, description = initial_weights(baseline_model(tmp_path, init_from="mine.pt"))
    assert state is not None and description.startswith(str(tmp_path / "mine.pt"))


def test_evaluate_without_a_checkpoint_scores_the_shipped_reader():
    result = run_cli("evaluate", "--labels", str(REPO / "examples" / "data" / "labels.txt"), "--json")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["checkpoint"] == str(SHIPPED_CHECKPOINT) and report["size"] == 36


def test_a_run_fine_tunes_from_the_shipped_reader_and_says_so(tmp_path, event_validator):
    from conftest import read_events, tiny_config, write_config

    model = {"hidden_size": 128, "init_from": "pretrained"}
    training = {"max_steps": 2, "eval_every": 2, "learning_rate": 1e-6}
    data = {"synthetic": {"seed": 1234, "val_size": 64, "pool_size": 0}}
    shipped = json.loads(SHIPPED_FACTS.read_text(encoding="utf-8"))["val"]["exact_match"]
    for init_from, expect_reading in (("pretrained", True), ("none", False)):
        config = write_config(
            tmp_path, tiny_config(model={**model, "init_from": init_from}, training=training, data=data), f"{init_from}.yaml"
        )
        result = run_cli("train", str(config), "--output-dir", str(tmp_path / init_from), "--events", str(tmp_path / f"{init_from}.jsonl"))
        assert result.returncode == 0, result.stderr
        events = read_events(tmp_path / f"{init_from}.jsonl")
        event_validator(events)
        started = next(event for event in events if event["event"] == "run_started")
        evaluations = [event for event in events if event["event"] == "eval"]
        exact = evaluations[-1]["metrics"]["exact_match"]
        if expect_reading:  # two steps at a tiny learning rate: it reads about as well as shipped
            assert "shipped pretrained reader" in started["init_from"]
            assert exact >= shipped - 0.15
            # The starting weights are validated before the first step and are the best until beaten.
            assert evaluations[0]["step"] == 0 and evaluations[0]["is_best"] is True
            finished = events[-1]
            best_step = json.loads((Path(finished["best_checkpoint"]).parent.parent / "metrics.json").read_text())["best_step"]
            assert best_step in (0, 2)
        else:
            assert started["init_from"] == "random weights (model.init_from: none)" and exact == 0.0
            assert [event["step"] for event in evaluations] == [2]  # random weights: nothing to validate first
