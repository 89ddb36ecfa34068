"""Real, tiny training runs on the CPU: resume, cancel, failures, and the event stream they write."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch
from conftest import read_events, run_cli, tiny_config, trainer_env, write_config

from vin_ocr.reading import load_reader as load_model
from vin_ocr.training.checkpoints import load_checkpoint
from vin_ocr.training.harness import EXIT_CANCELLED, EXIT_COMPLETED, EXIT_FAILED, RunOptions, train


def only_run(output: Path) -> Path:
    runs = [p for p in output.iterdir() if p.is_dir()]
    assert len(runs) == 1, runs
    return runs[0]


def test_a_resumed_run_ends_exactly_where_the_uninterrupted_run_does(tmp_path, event_validator):
    # Both runs render in a worker process and use the same thread count (a different count
    # changes the order of floating-point sums, hence the last bits of the weights).
    config = write_config(tmp_path, tiny_config(training={"num_workers": 1}))
    assert train(str(config), RunOptions(output_dir=str(tmp_path / "a"))) == EXIT_COMPLETED
    # Interrupted after step 3 (between evaluations, with the render pool half full) and resumed
    # from its run directory: the pool is refilled, the data stream continues at batch 3.
    assert train(str(config), RunOptions(output_dir=str(tmp_path / "b"), stop_after_step=3)) == EXIT_CANCELLED
    run_b = only_run(tmp_path / "b")
    assert load_checkpoint(run_b)[0]["step"] == 3
    assert train(str(config), RunOptions(resume=str(run_b))) == EXIT_COMPLETED

    final_a, _ = load_checkpoint(only_run(tmp_path / "a"))
    final_b, _ = load_checkpoint(run_b)
    assert final_a["step"] == final_b["step"] == 8
    for name, tensor in final_a["model"].items():
        assert torch.equal(tensor, final_b["model"][name]), f"{name} differs after resume"
    assert final_a["optimizer"]["state"][0]["exp_avg"].equal(final_b["optimizer"]["state"][0]["exp_avg"])
    assert final_a["metrics"] == final_b["metrics"]

    events = read_events(run_b / "events.jsonl")
    event_validator(events)
    starts = [e for e in events if e["event"] == "run_started"]
    assert [s["start_step"] for s in starts] == [0, 3]
    assert starts[1]["resumed_from"] == str(run_b)
    assert {e["run_id"] for e in events} == {run_b.name}  # the resumed run continues the same run
    assert [e["status"] for e in events if e["event"] == "run_finished"] == ["cancelled", "completed"]


def test_a_completed_run_leaves_the_whole_run_directory(tmp_path, event_validator):
    config = write_config(tmp_path, tiny_config(data={"test": "synthetic"}))
    assert train(str(config), RunOptions(output_dir=str(tmp_path / "runs"))) == EXIT_COMPLETED
    run = only_run(tmp_path / "runs")
    assert (run / "config.yaml").is_file() and (run / "train.log").read_text()
    assert {p.name for p in (run / "checkpoints").iterdir()} == {"last.pt", "best.pt"}
    assert list(run.glob("events.out.tfevents.*")), "no TensorBoard event file"
    metrics = json.loads((run / "metrics.json").read_text())
    assert metrics["status"] == "completed" and metrics["step"] == 8
    assert {"exact_match", "cer", "char_f1", "pos_17_acc", "check_digit_valid_rate", "exact_match_check_digit"} <= set(metrics["val"])
    assert "exact_match" in metrics["test"]
    events = read_events(run / "events.jsonl")
    event_validator(events)
    kinds = [e["event"] for e in events]
    assert kinds[0] == "run_started" and kinds[-1] == "run_finished"
    assert {"progress", "eval", "checkpoint", "samples"} <= set(kinds)
    assert [e["split"] for e in events if e["event"] == "eval"][-1] == "test"
    finished = events[-1]
    assert finished["status"] == "completed" and finished["error"] is None
    assert finished["best_checkpoint"] == str(run / "checkpoints" / "best.pt")


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_a_signal_finishes_the_step_writes_a_loadable_checkpoint_and_exits_quickly(tmp_path, event_validator, sig):
    long_run = tiny_config(training={"max_steps": 100000, "eval_every": 100000, "num_workers": 1})
    config = write_config(tmp_path, long_run)
    stderr = open(tmp_path / "stderr.txt", "w")
    process = subprocess.Popen(
        [sys.executable, "-m", "vin_ocr", "train", str(config), "--output-dir", str(tmp_path / "runs"), "--events", "-"],
        stdout=subprocess.PIPE,
        stderr=stderr,
        text=True,
        env=trainer_env(),
    )
    events = []
    try:
        assert process.stdout is not None
        for line in process.stdout:
            events.append(json.loads(line))
            if events[-1]["event"] == "progress" and events[-1]["step"] >= 2:
                break
        sent = time.monotonic()
        process.send_signal(sig)
        rest, _ = process.communicate(timeout=30)
        waited = time.monotonic() - sent
    finally:
        if process.poll() is None:
            process.kill()
        stderr.close()
    events += [json.loads(line) for line in rest.splitlines() if line.strip()]
    assert process.returncode == EXIT_CANCELLED, (tmp_path / "stderr.txt").read_text()
    assert waited < 5.0
    event_validator(events)
    finished = events[-1]
    assert finished["event"] == "run_finished" and finished["status"] == "cancelled"
    loaded = load_model(finished["last_checkpoint"], "cpu")
    assert loaded.step == finished["step"] >= 2
    # stdout carried events only: every line parsed as JSON above; the human log went to stderr.
    assert "step" in (tmp_path / "stderr.txt").read_text()


def write_dataset(folder: Path) -> Path:
    from PIL import Image

    folder.mkdir(parents=True, exist_ok=True)
    for index in range(1, 5):
        Image.new("L", (200, 40), 255).save(folder / f"good{index}.png")
    (folder / "corrupt.png").write_bytes(b"not a png at all")
    rows = [
        "good1.png\t1M8GDM9AXKP042788",
        "good2.png\t1M8GDM9AXKP04278",  # line 2: 16 characters
        "good3.png\t1M8GDM9AXKP04278O",  # line 3: the letter O
        "missing.png\t1G4AH59H45G118341",  # line 4: no such file
        "corrupt.png\t1G4AH59H45G118341",  # line 5: not an image
        "good4.png\t1g4ah59h45g118341",  # line 6: lower case, repaired with a warning
    ]
    labels = folder / "labels.txt"
    labels.write_text("\n".join(rows) + "\n", encoding="utf-8")
    return labels


def test_a_bad_dataset_fails_the_run_with_every_problem_and_its_line(tmp_path, event_validator):
    labels = write_dataset(tmp_path / "data")
    config = write_config(tmp_path, tiny_config(data={"train": "data/labels.txt", "val": None}))
    result = run_cli("train", str(config), "--output-dir", str(tmp_path / "runs"), "--events", "-")
    assert result.returncode == EXIT_FAILED
    events = [json.loads(line) for line in result.stdout.splitlines()]
    event_validator(events)
    finished = events[-1]
    assert finished["status"] == "failed" and finished["error"]["code"] == "invalid_dataset"
    issues = "\n".join(finished["error"]["issues"])
    for line in (2, 3, 4, 5):
        assert f"{labels}:{line}:" in issues
    assert "on_bad_rows: skip" in finished["error"]["hint"]
    assert "invalid_dataset" in result.stderr


def test_skipping_bad_rows_trains_on_the_rest_and_reports_the_count(tmp_path, event_validator):
    write_dataset(tmp_path / "data")
    config = write_config(
        tmp_path,
        tiny_config(data={"train": "data/labels.txt", "val": "data/labels.txt", "on_bad_rows": "skip"}, training={"max_steps": 2}),
    )
    assert train(str(config), RunOptions(output_dir=str(tmp_path / "runs"))) == EXIT_COMPLETED
    events = read_events(only_run(tmp_path / "runs") / "events.jsonl")
    event_validator(events)
    skipped = [e["message"] for e in events if e["event"] == "warning" and e["code"] == "rows_skipped"]
    assert "4 bad row(s) skipped in the training set" in skipped
    assert any("2 rows used, 4 skipped" in e["message"] for e in events if e["event"] == "log")


def test_a_broken_config_fails_with_a_coded_event_and_no_traceback(tmp_path, event_validator):
    config = write_config(tmp_path, tiny_config(training={"batch_size": -1}))
    result = run_cli("train", str(config), "--events", "-")
    assert result.returncode == EXIT_FAILED
    events = [json.loads(line) for line in result.stdout.splitlines()]
    event_validator(events)
    assert [e["event"] for e in events] == ["run_finished"]
    assert events[0]["error"]["code"] == "invalid_config"
    assert "training.batch_size" in events[0]["error"]["issues"][0]
    assert "Traceback" not in result.stderr


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has CUDA")
def test_asking_for_cuda_without_it_fails_with_its_own_code(tmp_path, event_validator):
    config = write_config(tmp_path, tiny_config())
    result = run_cli("train", str(config), "--device", "cuda", "--output-dir", str(tmp_path / "runs"), "--events", "-")
    assert result.returncode == EXIT_FAILED
    events = [json.loads(line) for line in result.stdout.splitlines()]
    event_validator(events)
    assert events[-1]["error"]["code"] == "cuda_unavailable"
