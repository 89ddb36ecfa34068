"""The run harness with a toy family: a family is one module plus one registry line, and the harness
gives it everything else (events, budget, best checkpoint, metrics.json, logs, errors)."""

from __future__ import annotations

import io
import json

import pytest
import toy_family
from conftest import REPO, read_events, write_config

from vin_ocr.__main__ import main
from vin_ocr.families import registry
from vin_ocr.human_log import PLAIN_EVERY_FRACTION, PLAIN_EVERY_SECONDS, HumanLog, Progress
from vin_ocr.training.budget import Budget

EXAMPLE_IMAGE = REPO / "examples" / "data" / "images" / "vin_00.png"


@pytest.fixture
def toy():
    registry.register(toy_family.FAMILY)  # the one registry line
    toy_family.METRICS_STEP_AT_EVALUATION.clear()
    yield toy_family.FAMILY
    registry.unregister(toy_family.NAME)


def toy_config(folder, model=None, training=None):
    config = {
        "model": {"type": "toy", **(model or {})},
        "data": {"val": None},
        "training": {"device": "cpu", "max_minutes": None, **(training or {})},
        "output_dir": "runs",
    }
    return write_config(folder, config)


def run_toy(tmp_path, **sections):
    code = main(["train", str(toy_config(tmp_path, **sections)), "--events", str(tmp_path / "events.jsonl")])
    return code, read_events(tmp_path / "events.jsonl")


def of(events, kind):
    return [e for e in events if e["event"] == kind]


def test_a_toy_family_trains_end_to_end_through_the_harness(tmp_path, toy, event_validator):
    code, events = run_toy(tmp_path)
    assert code == 0, events[-1]
    event_validator(events)
    assert events[0]["event"] == "run_started" and events[-1]["event"] == "run_finished"
    started = events[0]
    assert started["config"]["model"]["type"] == "toy" and started["toy"] is True and started["total_steps"] == 20
    losses = [e["loss"] for e in of(events, "progress")]
    assert losses[-1] < 0.01 * losses[0]
    assert [e["step"] for e in of(events, "eval")] == [5, 10, 15, 20]
    assert of(events, "eval")[-1]["metrics"]["exact_match"] == 1.0
    finished = events[-1]
    assert finished["status"] == "completed" and finished["best_checkpoint"].endswith("best.toy")
    run_dir = tmp_path / "runs" / started["run_id"]
    metrics = json.loads((run_dir / "metrics.json").read_text())
    assert metrics["status"] == "completed" and metrics["val"]["exact_match"] == 1.0 and metrics["best_step"] in (15, 20)
    assert (run_dir / "config.yaml").is_file() and list(run_dir.glob("events.out.tfevents.*"))
    # metrics.json is rewritten at every evaluation, not only at the end.
    assert toy_family.METRICS_STEP_AT_EVALUATION == [None, 5, 10, 15]


def test_a_toy_checkpoint_reads_through_evaluate_and_predict(tmp_path, toy, capsys):
    assert run_toy(tmp_path)[0] == 0
    (run_dir,) = (tmp_path / "runs").iterdir()
    capsys.readouterr()
    assert main(["predict", "--checkpoint", str(run_dir), str(EXAMPLE_IMAGE), "--json"]) == 0
    (read,) = json.loads(capsys.readouterr().out)
    assert read["vin"] == toy_family.VIN and read["confidence"] == 1.0


def test_a_family_whose_data_ends_in_a_cancel_ends_the_run_cancelled_with_its_last_checkpoint(tmp_path, toy):
    code, events = run_toy(tmp_path, model={"cancelled_at_step": 8})
    assert code == 130
    finished = events[-1]
    assert finished["status"] == "cancelled" and finished["step"] == 7
    assert finished["last_checkpoint"].endswith("last.toy")
    assert [event["step"] for event in events if event["event"] == "checkpoint" and event["kind"] == "last"][-1] == 7


def test_a_toy_run_resumes_where_it_stopped(tmp_path, toy):
    from vin_ocr.training.harness import EXIT_CANCELLED, RunOptions, train

    config = toy_config(tmp_path)
    assert train(str(config), RunOptions(stop_after_step=7)) == EXIT_CANCELLED
    (run_dir,) = (tmp_path / "runs").iterdir()
    assert json.loads((run_dir / "metrics.json").read_text())["status"] == "cancelled"
    assert main(["train", str(config), "--resume", str(run_dir)]) == 0
    events = read_events(run_dir / "events.jsonl")
    assert [e["start_step"] for e in of(events, "run_started")] == [0, 7]
    assert of(events, "progress")[-1]["step"] == 20 and events[-1]["status"] == "completed"


def test_errors_name_the_device_the_run_really_uses(tmp_path, toy, monkeypatch):
    from vin_ocr.training import harness

    monkeypatch.setattr(harness, "choose_device", lambda requested: "cuda")
    code, events = run_toy(tmp_path, model={"fail_at_step": 3}, training={"batch_size": 4})
    error = events[-1]["error"]
    assert code == 1 and error["code"] == "out_of_memory"
    assert "cuda device ran out of memory at batch size 4" in error["message"] and "CPU" in error["hint"]


def test_a_time_bound_run_reports_the_time_budget_and_a_growing_fraction(tmp_path, toy, event_validator):
    max_minutes = 0.05  # 3 s
    code, events = run_toy(
        tmp_path, model={"step_seconds": 0.02}, training={"max_steps": 10**9, "max_minutes": max_minutes, "eval_every": 10**9}
    )
    assert code == 0
    event_validator(events)
    progress = of(events, "progress")
    assert len(progress) >= 3
    assert {e["budget"] for e in progress[1:]} == {"time"}
    fractions = [e["fraction"] for e in progress]
    assert fractions == sorted(fractions) and fractions[0] < 0.5 < fractions[-1] <= 1.0
    for event in progress:
        assert event["fraction"] == pytest.approx(event["elapsed_seconds"] / (max_minutes * 60), abs=0.02)
        assert event["eta_seconds"] == pytest.approx(max_minutes * 60 - event["elapsed_seconds"], abs=0.2)


def test_a_step_bound_run_reports_the_step_budget(tmp_path, toy):
    code, events = run_toy(tmp_path)
    progress = of(events, "progress")
    assert {e["budget"] for e in progress} == {"steps"}
    assert [e["fraction"] for e in progress] == [e["step"] / 20 for e in progress]


def test_the_log_file_holds_plain_progress_lines(tmp_path, toy):
    assert run_toy(tmp_path)[0] == 0
    (run_dir,) = (tmp_path / "runs").iterdir()
    log = (run_dir / "train.log").read_text()
    progress_lines = [line for line in log.splitlines() if "budget: loss" in line]
    assert progress_lines and not any("[" in line or "#" in line for line in progress_lines)
    assert len(progress_lines) <= 1 + 4  # the first one, then one before each of the 4 evaluations


# ---- the budget and the log, without a run ---------------------------------------------------------


def test_the_binding_budget_is_the_one_that_ends_first_at_the_current_rate():
    budget = Budget(max_steps=1000, max_seconds=100.0)
    steps = budget.forecast(step=500, elapsed=10.0, steps_per_second=50.0)  # 10 s left by steps, 90 s by time
    assert (steps.binding, steps.fraction, steps.eta_seconds) == ("steps", 0.5, 10.0)
    time = budget.forecast(step=100, elapsed=60.0, steps_per_second=1.0)  # 900 s left by steps, 40 s by time
    assert (time.binding, time.fraction, time.eta_seconds) == ("time", 0.6, 40.0)
    assert Budget(1000).forecast(250, 99.0, 0.0) == Budget(1000).forecast(250, 1.0, 0.0)  # no time limit: steps only
    assert Budget(10, 60.0).fraction(20, 0.0) == 1.0


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def feed(log: HumanLog, clock: list[float], seconds: int, budget_seconds: float) -> None:
    for second in range(1, seconds + 1):
        clock[0] = float(second)
        log.progress(Progress(second, 10**6, 0.5, 100.0, budget_seconds - second, second / budget_seconds, "time"))


def test_without_a_terminal_progress_is_a_plain_line_every_30_s_and_5_percent(tmp_path):
    stream, clock = io.StringIO(), [0.0]
    log = HumanLog(stream, clock=lambda: clock[0])
    log.attach_file(tmp_path / "train.log")
    feed(log, clock, 600, 600.0)  # a 10-minute run reporting every second
    log.write_progress_now()
    log.close()
    lines = stream.getvalue().splitlines()
    assert 600 / max(PLAIN_EVERY_SECONDS, 600 * PLAIN_EVERY_FRACTION) <= len(lines) <= 600 / 30 + 2
    assert all(line.startswith("step ") and "[" not in line and "#" not in line and "\r" not in line for line in lines)
    assert len((tmp_path / "train.log").read_text().splitlines()) == len(lines)


def test_a_long_budget_gets_a_line_per_5_percent_not_every_30_s():
    stream, clock = io.StringIO(), [0.0]
    log = HumanLog(stream, clock=lambda: clock[0])
    feed(log, clock, 3600, 7200.0)  # the first hour of a 2-hour run: 5 % is 6 minutes
    assert len(stream.getvalue().splitlines()) in (10, 11)  # the first line, then one per 5 % (half the budget)


def test_an_evaluation_writes_the_progress_it_was_reached_with():
    stream, clock = io.StringIO(), [0.0]
    log = HumanLog(stream, clock=lambda: clock[0])
    feed(log, clock, 5, 600.0)
    log.write_progress_now()
    log.info("step 5: val exact match 10.00%")
    assert stream.getvalue().splitlines()[-2].startswith("step 5/")


def test_on_a_terminal_the_bar_stays_live():
    stream, clock = Terminal(), [0.0]
    log = HumanLog(stream, clock=lambda: clock[0])
    feed(log, clock, 60, 120.0)
    text = stream.getvalue()
    assert text.count("\r[") == 60 and "#" in text and "\n" not in text


def test_the_event_schema_documents_fraction_and_budget():
    schema = json.loads((REPO / "schemas" / "trainer-events.schema.json").read_text(encoding="utf-8"))
    progress = schema["definitions"]["progress"]
    assert progress["properties"]["fraction"]["maximum"] == 1 and progress["properties"]["budget"]["enum"] == ["steps", "time"]
    assert "fraction" not in progress["required"] and "budget" not in progress["required"]  # optional: older trainers omit them
