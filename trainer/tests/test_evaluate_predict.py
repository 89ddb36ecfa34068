"""`evaluate` and `predict` on a checkpoint saved by a real (tiny) training run."""

from __future__ import annotations

import json

import pytest
from conftest import REPO, run_cli, tiny_config, write_config

EXAMPLES = REPO / "examples" / "data"


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    folder = tmp_path_factory.mktemp("trained")
    config = write_config(folder, tiny_config(training={"max_steps": 4, "eval_every": 4}))
    result = run_cli("train", str(config), "--output-dir", str(folder / "runs"))
    assert result.returncode == 0, result.stderr
    (run,) = (folder / "runs").iterdir()
    return run


def test_evaluate_reports_the_existing_projects_metric_names(run_dir):
    result = run_cli("evaluate", "--checkpoint", str(run_dir), "--labels", str(EXAMPLES / "labels.txt"), "--json")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["size"] == 36 and report["skipped"] == 0
    assert report["checkpoint"].endswith("best.pt")
    metrics = report["metrics"]
    expected = {"exact_match", "cer", "ned", "char_f1", "precision", "recall", "check_digit_valid_rate"}
    expected |= {f"pos_{p:02d}_acc" for p in range(1, 18)}
    assert expected <= set(metrics)
    assert all(0.0 <= metrics[name] <= 1.0 for name in expected - {"cer"})


def test_evaluate_prints_a_table_for_people(run_dir):
    result = run_cli("evaluate", "--checkpoint", str(run_dir / "checkpoints" / "last.pt"), "--labels", str(EXAMPLES))
    assert result.returncode == 0, result.stderr
    assert "exact_match" in result.stdout and "per-position accuracy" in result.stdout


def test_predict_gives_a_vin_and_a_confidence_per_image_and_per_character(run_dir):
    images = [str(EXAMPLES / "images" / "vin_00.png"), str(EXAMPLES / "images" / "vin_01.png")]
    result = run_cli("predict", "--checkpoint", str(run_dir), *images, "--json")
    assert result.returncode == 0, result.stderr
    reads = json.loads(result.stdout)
    assert [r["image"] for r in reads] == images
    for read in reads:
        assert set(read["vin"]) <= set("0123456789ABCDEFGHJKLMNPRSTUVWXYZ")  # never I, O or Q
        assert 0.0 <= read["confidence"] <= 1.0
        assert len(read["characters"]) == len(read["vin"])


def test_predict_reports_an_unreadable_image_without_failing_the_others(run_dir, tmp_path):
    broken = tmp_path / "broken.png"
    broken.write_bytes(b"\x89PNG but not really")
    good = str(EXAMPLES / "images" / "vin_00.png")
    result = run_cli("predict", "--checkpoint", str(run_dir), good, str(broken), "--json")
    assert result.returncode == 1
    reads = json.loads(result.stdout)
    assert "vin" in reads[0] and "cannot read image" in reads[1]["error"]


def test_a_missing_checkpoint_is_a_coded_error(tmp_path):
    result = run_cli("predict", "--checkpoint", str(tmp_path / "nope.pt"), str(EXAMPLES / "images" / "vin_00.png"), "--json")
    assert result.returncode == 1
    assert json.loads(result.stdout)["error"]["code"] == "checkpoint_invalid"
    assert "Traceback" not in result.stderr


def test_evaluate_on_a_bad_dataset_lists_the_problems(run_dir, tmp_path):
    labels = tmp_path / "labels.txt"
    labels.write_text("missing.png\t1M8GDM9AXKP042788\n", encoding="utf-8")
    result = run_cli("evaluate", "--checkpoint", str(run_dir), "--labels", str(labels), "--json")
    assert result.returncode == 1
    error = json.loads(result.stdout)["error"]
    assert error["code"] == "invalid_dataset" and any(f"{labels}:1:" in issue for issue in error["issues"])
