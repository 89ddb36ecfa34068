"""PaddleOCR as a model family: its config section, the dataset and dictionary it trains on, the command it
runs, the events its log lines become, and real ``tools/train.py`` runs in the vendored clone (when
PaddlePaddle's environment and ``../shared`` are here; otherwise those tests say why and skip)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
import yaml
from conftest import REPO, read_events, trainer_env

from vin_ocr.config import config_from_dict, load_config
from vin_ocr.errors import (
    INVALID_CONFIG,
    OUT_OF_MEMORY,
    PADDLE_MISSING,
    PADDLEOCR_CLONE_INVALID,
    PADDLEOCR_DEPS_MISSING,
    PADDLEOCR_FAILED,
    TrainerError,
)
from vin_ocr.families.paddleocr.command import derived_config, override_args, override_value, steps_per_epoch, training_overrides
from vin_ocr.families.paddleocr.config import PaddleSettings
from vin_ocr.families.paddleocr.dataset import write_dataset
from vin_ocr.families.paddleocr.environment import PYTHON_VARIABLE, check_clone, paddle_python
from vin_ocr.families.paddleocr.failures import classify_failure
from vin_ocr.families.paddleocr.log_lines import EvalLine, SaveLine, StepLine, eval_metrics, parse
from vin_ocr.vin import ALPHABET

RECORDED_LOG = Path(__file__).parent / "fixtures_paddleocr" / "train.log"
CLONE = REPO.parent / "shared" / "vendor" / "PaddleOCR"
PADDLE_PYTHON = Path(os.environ.get(PYTHON_VARIABLE) or REPO / ".paddle-venv" / "bin" / "python")
BASE_CONFIG = CLONE / "configs" / "rec" / "PP-OCRv5" / "PP-OCRv5_mobile_rec.yml"


def write_config(folder: Path, text: str) -> Path:
    path = folder / "paddle.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def fake_clone(folder: Path) -> Path:
    """The files that make a folder a PaddleOCR clone, empty (for config checks only)."""
    for name in ("tools/train.py", "tools/export_model.py", "configs/rec/PP-OCRv5/PP-OCRv5_mobile_rec.yml"):
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text("", encoding="utf-8")
    (folder / "ppocr").mkdir(exist_ok=True)
    return folder


# ---- the config section ------------------------------------------------------------------


def test_the_paddleocr_section_is_read_with_paths_resolved_and_defaults_filled(tmp_path):
    clone = fake_clone(tmp_path / "PaddleOCR")
    config, warnings = load_config(write_config(tmp_path, "model:\n  type: paddleocr\npaddleocr:\n  repo: PaddleOCR\n"))
    settings = config.section("paddleocr")
    assert warnings == []
    assert settings.repo == str(clone)
    assert settings.base_config == str(clone / "configs/rec/PP-OCRv5/PP-OCRv5_mobile_rec.yml")
    assert (settings.image_shape, settings.max_text_length) == ([3, 48, 320], 25)
    assert (config.training.batch_size, config.training.eval_every) == (16, 200)


def test_a_saved_paddleocr_config_reads_back_the_same(tmp_path):
    fake_clone(tmp_path / "PaddleOCR")
    config, _ = load_config(write_config(tmp_path, "model: {type: paddleocr}\npaddleocr: {repo: PaddleOCR, overrides: {Global.x: 1}}\n"))
    written = config.to_dict()
    assert written["paddleocr"]["overrides"] == {"Global.x": 1}
    assert "sections" not in written
    assert config_from_dict(written).to_dict() == written


def test_every_paddleocr_problem_is_reported_at_once_with_its_line(tmp_path):
    text = """model:
  type: paddleocr
paddleocr:
  pretrained_model: https://example.com/PP-OCRv5_mobile_rec_pretrained.pdparams
  max_text_length: 16
  image_shape: [3, 48]
  overrides: {"-o": 1}
training:
  device: mps
  precision: bf16
"""
    with pytest.raises(TrainerError) as raised:
        load_config(write_config(tmp_path, text))
    issues = "\n".join(raised.value.issues)
    assert raised.value.code == INVALID_CONFIG
    assert "paddle.yaml:5: paddleocr.max_text_length" in issues
    assert "paddle.yaml:6: paddleocr.image_shape" in issues
    assert "paddleocr.overrides: '-o' is not a dotted PaddleOCR config key" in issues
    assert "paddleocr.repo: model type paddleocr needs the path of your PaddleOCR clone" in issues
    assert "paddle.yaml:4: paddleocr.pretrained_model: a URL cannot be downloaded here" in issues
    assert "paddle.yaml:9: training.device: PaddlePaddle has no MPS backend" in issues
    assert len(raised.value.issues) == 7


def test_a_url_mps_bf16_and_several_processes_are_refused_with_their_fixes(tmp_path):
    fake_clone(tmp_path / "PaddleOCR")
    text = """model: {type: paddleocr}
paddleocr: {repo: PaddleOCR, pretrained_model: "https://example.com/w.pdparams"}
training: {device: mps, precision: bf16}
distributed: {nproc_per_node: 2, backend: gloo}
"""
    with pytest.raises(TrainerError) as raised:
        load_config(write_config(tmp_path, text))
    issues = "\n".join(raised.value.issues)
    assert "cannot be downloaded here" in issues
    assert "PaddlePaddle has no MPS backend" in issues
    assert "bf16 is not supported for paddleocr" in issues
    assert "data-parallel PaddleOCR training is not supported yet" in issues


def test_a_paddleocr_section_in_a_baseline_config_is_ignored_with_a_warning(tmp_path):
    _, warnings = load_config(write_config(tmp_path, "model: {type: baseline}\npaddleocr: {repo: x}\n"))
    assert any("paddleocr: not used by model type baseline (a section of paddleocr), ignored" in warning for warning in warnings)


def test_an_unknown_key_in_the_paddleocr_section_gets_a_suggestion(tmp_path):
    fake_clone(tmp_path / "PaddleOCR")
    _, warnings = load_config(write_config(tmp_path, "model: {type: paddleocr}\npaddleocr: {repo: PaddleOCR, base_confg: x}\n"))
    assert any("did you mean 'base_config'" in warning for warning in warnings)


# ---- the clone and the environment -------------------------------------------------------


def test_a_folder_that_is_not_a_clone_is_named_with_what_it_lacks(tmp_path):
    (tmp_path / "tools").mkdir()
    (tmp_path / "tools" / "train.py").write_text("")
    with pytest.raises(TrainerError) as raised:
        check_clone(tmp_path, tmp_path / "base.yml")
    assert raised.value.code == PADDLEOCR_CLONE_INVALID
    assert "is not a PaddleOCR clone (no tools/export_model.py, ppocr)" in raised.value.message
    with pytest.raises(TrainerError, match="does not exist"):
        check_clone(tmp_path / "missing", tmp_path / "base.yml")


def test_a_missing_base_config_is_named(tmp_path):
    clone = fake_clone(tmp_path / "PaddleOCR")
    with pytest.raises(TrainerError, match="paddleocr.base_config: .*nope.yml does not exist"):
        check_clone(clone, clone / "nope.yml")


def test_reading_skips_the_import_check_that_training_makes(monkeypatch):
    monkeypatch.setenv(PYTHON_VARIABLE, sys.executable)  # no paddle here: only the check would notice
    assert paddle_python(check_import=False) == sys.executable


def test_a_python_without_paddle_is_refused_with_the_set_up_hint(monkeypatch, tmp_path):
    monkeypatch.setenv(PYTHON_VARIABLE, sys.executable)  # the trainer's environment never has paddle
    with pytest.raises(TrainerError) as raised:
        paddle_python()
    assert raised.value.code == PADDLE_MISSING
    assert "Set Up PaddleOCR Environment" in raised.value.hint
    monkeypatch.setenv(PYTHON_VARIABLE, str(tmp_path / "no-python"))
    with pytest.raises(TrainerError, match="does not exist"):
        paddle_python()


# ---- failures ----------------------------------------------------------------------------


def test_failures_are_classified_from_the_last_lines():
    repo = Path("/clone")
    missing = classify_failure(1, ["Traceback …", "ModuleNotFoundError: No module named 'rapidfuzz'"], repo, "/p/python")
    assert missing.code == PADDLEOCR_DEPS_MISSING
    assert missing.command == "/p/python -m pip install -r /clone/requirements.txt"
    assert classify_failure(1, ["ModuleNotFoundError: No module named 'paddle.base'"], repo, "py").code == PADDLE_MISSING
    # a read's worker imports paddleocr first: without the environment that is the same missing environment
    assert classify_failure(1, ["ModuleNotFoundError: No module named 'paddleocr'"], repo, "py").code == PADDLE_MISSING
    assert classify_failure(1, ["MemoryError: Out of memory error on CPU"], repo, "py").code == OUT_OF_MEMORY
    assert classify_failure(-9, ["epoch: [1/2], global_step: 3"], repo, "py").code == OUT_OF_MEMORY
    other = classify_failure(1, ["something", "ValueError: bad label file"], repo, "py")
    assert other.code == PADDLEOCR_FAILED
    assert other.message == "tools/train.py failed (exit code 1): ValueError: bad label file"


# ---- log lines -> records ----------------------------------------------------------------


def test_the_recorded_log_reads_as_steps_evaluations_and_saves():
    records = [record for record in map(parse, RECORDED_LOG.read_text(encoding="utf-8").splitlines()) if record is not None]
    steps = [record for record in records if isinstance(record, StepLine)]
    assert [step.step for step in steps] == list(range(1, 9))
    first = steps[0]
    assert (first.epoch, first.epochs, first.samples) == (1, 2, 4)
    assert first.loss == pytest.approx(111.272926)
    assert first.values["lr"] == 0.0 and first.values["ips"] > 0 and first.values["CTCLoss"] == pytest.approx(106.921349)
    assert first.eta_seconds is not None
    evaluations = [record for record in records if isinstance(record, EvalLine)]
    assert [evaluation.best for evaluation in evaluations] == [False, True, False, True]
    assert eval_metrics(evaluations[0].values) == {"exact_match": 0.0, "ned": pytest.approx(1 - 0.029412977939659912)}
    saves = [record for record in records if isinstance(record, SaveLine)]
    assert [(Path(save.prefix).name, save.best) for save in saves][:2] == [("best_accuracy", True), ("latest", False)]


def test_lines_that_are_not_records_are_none():
    assert parse("[2026/11/30 07:25:08] ppocr INFO: train from scratch") is None
    assert parse("eval model::  50%|█████     | 1/2") is None
    assert parse("") is None


# ---- the command ---------------------------------------------------------------------------


def test_override_values_are_written_as_paddleocrs_parser_reads_them():
    assert override_value([0, 200]) == "[0,200]"
    assert override_value(["/a b/rec_gt_train.txt"]) == "[/a b/rec_gt_train.txt]"
    assert (override_value(True), override_value(None), override_value(0.0005)) == ("True", "", "0.0005")
    assert override_args({}) == []
    assert override_args({"Global.use_gpu": False, "Global.epoch_num": 3}) == ["-o", "Global.use_gpu=False", "Global.epoch_num=3"]


def test_the_users_overrides_win_over_ours(tmp_path):
    data = write_dataset(_synthetic_config(tmp_path), tmp_path / "data", 16)
    settings = PaddleSettings(repo="/clone", overrides={"Global.eval_batch_step": [0, 50], "Optimizer.lr.name": "Const"})
    overrides = training_overrides(
        settings,
        data,
        tmp_path / "out",
        epochs=3,
        batch_size=4,
        eval_every=10,
        learning_rate=0.001,
        seed=1,
        use_gpu=False,
        num_workers=0,
        resume_from=None,
    )
    assert overrides["Global.eval_batch_step"] == [0, 50]
    assert overrides["Optimizer.lr.name"] == "Const"
    assert overrides["Optimizer.lr.learning_rate"] == 0.001
    assert overrides["Global.character_dict_path"] == str(data.dictionary)
    assert overrides["Global.save_epoch_step"] == 4  # never an iter_epoch_N copy


def test_the_derived_config_sets_shape_and_text_length_where_dash_o_cannot():
    base = yaml.safe_load(BASE_CONFIG.read_text(encoding="utf-8")) if BASE_CONFIG.is_file() else _small_base()
    derived = derived_config(base, PaddleSettings(image_shape=[3, 32, 160], max_text_length=20), batch_size=8)
    train = derived["Train"]
    assert train["sampler"]["scales"] == [[160, 32]] and train["sampler"]["first_bs"] == 8
    assert next(t["RecConAug"] for t in train["dataset"]["transforms"] if "RecConAug" in t)["image_shape"] == [32, 160, 3]
    assert next(t["RecResizeImg"] for t in derived["Eval"]["dataset"]["transforms"] if "RecResizeImg" in t)["image_shape"] == [3, 32, 160]
    assert derived["Global"]["max_text_length"] == 20
    assert derived["Architecture"]["Head"]["head_list"][1]["NRTRHead"]["max_text_length"] == 20  # the anchor's other use
    assert base["Global"]["max_text_length"] == 25  # the base config itself is untouched
    assert steps_per_epoch(base, 17, 4) == 4  # drop_last: a partial batch is not a step


def _small_base() -> dict[str, Any]:
    return {
        "Global": {"max_text_length": 25},
        "Architecture": {"Head": {"head_list": [{"CTCHead": {}}, {"NRTRHead": {"max_text_length": 25}}]}},
        "Train": {
            "dataset": {"transforms": [{"RecConAug": {"image_shape": [48, 320, 3]}}]},
            "sampler": {"scales": [[320, 48]], "first_bs": 128},
            "loader": {"drop_last": True},
        },
        "Eval": {"dataset": {"transforms": [{"RecResizeImg": {"image_shape": [3, 48, 320]}}]}},
    }


# ---- the dataset -------------------------------------------------------------------------


def _synthetic_config(tmp_path: Path, extra: str = "") -> Any:
    fake_clone(tmp_path / "PaddleOCR")
    text = f"model: {{type: paddleocr}}\npaddleocr: {{repo: PaddleOCR}}\ndata: {{synthetic: {{val_size: 3}}{extra}}}\n"
    config, _ = load_config(write_config(tmp_path, text))
    return config


def test_synthetic_sets_are_rendered_to_disk_with_label_files_and_the_vin_dictionary(tmp_path):
    data = write_dataset(_synthetic_config(tmp_path), tmp_path / "data", 16)
    assert (data.train_size, data.val_size) == (16, 3)
    assert data.dictionary.read_text(encoding="utf-8").split() == list(ALPHABET)
    rows = [line.split("\t") for line in data.train.read_text(encoding="utf-8").splitlines()]
    assert len(rows) == 16 and all(Path(path).is_file() and len(vin) == 17 for path, vin in rows)
    again = write_dataset(_synthetic_config(tmp_path), tmp_path / "again", 16)
    assert again.train.read_text(encoding="utf-8").replace("/again/", "/data/") == data.train.read_text(encoding="utf-8")


def test_a_labelled_set_is_checked_first_and_only_good_rows_are_written(tmp_path):
    from PIL import Image

    photos = tmp_path / "photos"
    (photos / "images").mkdir(parents=True)
    Image.new("RGB", (160, 32), "white").save(photos / "images" / "a.png")
    (photos / "labels.txt").write_text("images/a.png\t1HGCM82633A004352\nimages/missing.png\t1HGCM82633A004352\n", encoding="utf-8")
    fake_clone(tmp_path / "PaddleOCR")
    base = "model: {type: paddleocr}\npaddleocr: {repo: PaddleOCR}\ndata: {train: photos/labels.txt, val: null, on_bad_rows: %s}\n"
    config, _ = load_config(write_config(tmp_path, base % "fail"))
    with pytest.raises(TrainerError) as raised:
        write_dataset(config, tmp_path / "data", 16)
    assert "labels.txt:2" in "\n".join(raised.value.issues)
    config, _ = load_config(write_config(tmp_path, base % "skip"))
    data = write_dataset(config, tmp_path / "data", 16)
    assert data.train.read_text(encoding="utf-8") == f"{photos / 'images' / 'a.png'}\t1HGCM82633A004352\n"
    assert data.val is None and any("labels.txt:2" in warning for warning in data.warnings)


# ---- real runs of tools/train.py ----------------------------------------------------------

TINY = """model: {{type: paddleocr}}
paddleocr: {{repo: {clone}, image_shape: [3, 32, 160], synthetic_train_size: 16}}
data: {{train: synthetic, val: synthetic, test: {test}, synthetic: {{val_size: 8}}}}
training: {{max_steps: {steps}, batch_size: 4, eval_every: 4}}
output_dir: {output}
"""


def _needs_real_paddleocr() -> None:
    if not CLONE.is_dir():
        pytest.skip(f"NOT RUN: the vendored PaddleOCR clone {CLONE} is absent (../shared is not here)")
    if not PADDLE_PYTHON.is_file():
        pytest.skip(f"NOT RUN: no PaddlePaddle environment at {PADDLE_PYTHON}: run scripts/setup-paddle.sh (npm test does)")


def _paddle_env() -> dict[str, str]:
    return {**trainer_env(), PYTHON_VARIABLE: str(PADDLE_PYTHON)}


def _tiny_config(tmp_path: Path, steps: int = 8, test: str = "null") -> Path:
    return write_config(tmp_path, TINY.format(clone=CLONE, steps=steps, test=test, output=tmp_path / "runs"))


def _train(config: Path, *extra: str, timeout: float = 300) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "vin_ocr", "train", str(config), "--events", "-", *extra],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=_paddle_env(),
    )


def _events(stdout: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in stdout.splitlines() if line.startswith("{")]


@pytest.fixture(scope="module")
def finished_run(tmp_path_factory):
    """One real 8-step fine-tune (two epochs of four steps, evaluations at 4 and 8) with a test split."""
    _needs_real_paddleocr()
    folder = tmp_path_factory.mktemp("paddle")
    labels = folder / "test"
    from vin_ocr.data.synthetic import render_vin

    (labels / "images").mkdir(parents=True)
    import random

    lines = []
    for index in range(4):
        vin = "1HGCM82633A00435" + str(index)
        render_vin(vin, random.Random(index)).save(labels / "images" / f"{index}.png")
        lines.append(f"images/{index}.png\t{vin}")
    (labels / "labels.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
    done = _train(_tiny_config(folder, test=str(labels / "labels.txt")))
    assert done.returncode == 0, done.stderr[-3000:]
    return folder, _events(done.stdout), done


def test_a_real_paddleocr_run_reports_like_every_family(finished_run, event_validator):
    _, events, _ = finished_run
    event_validator(events)
    kinds = [event["event"] for event in events]
    assert kinds[0] == "run_started" and kinds[-1] == "run_finished"
    started = events[0]
    assert started["total_steps"] == 8 and started["config"]["paddleocr"]["repo"] == str(CLONE)
    steps = [event["step"] for event in events if event["event"] == "progress"]
    assert steps[-1] == 8 and steps == sorted(steps)
    assert all(event["loss"] > 0 and event["lr"] >= 0 for event in events if event["event"] == "progress")
    evaluations = [event for event in events if event["event"] == "eval"]
    assert [(event["step"], event["split"]) for event in evaluations] == [(4, "val"), (8, "val"), (4, "test")] or [
        (event["step"], event["split"]) for event in evaluations
    ][:2] == [(4, "val"), (8, "val")]
    assert {"exact_match", "ned"} <= set(evaluations[0]["metrics"])
    test = [event for event in evaluations if event["split"] == "test"]
    assert test and test[0]["size"] == 4 and "cer" in test[0]["metrics"]  # read by us, with our VIN metrics
    finished = events[-1]
    assert finished["status"] == "completed" and finished["best_checkpoint"].endswith("checkpoints/best.json")


def test_a_finished_run_leaves_an_exported_model_that_predict_reads(finished_run):
    folder, events, _ = finished_run
    run_dir = Path(events[0]["run_dir"])
    assert (run_dir / "inference" / "inference.yml").is_file()
    assert (run_dir / "inference" / "vin-ocr-export.json").is_file()
    output = run_dir / "paddleocr" / "output"
    assert not list(output.glob("iter_epoch_*"))  # no 190 MB copies per epoch
    # PaddleOCR's own copies of the best weights go once ours are kept; latest stays for a resume
    assert not list(output.glob("best_accuracy.*")) and not (output / "best_model").exists()
    assert (run_dir / "checkpoints" / "best.pdparams").is_file() and (output / "latest.pdparams").is_file()
    image = folder / "test" / "images" / "0.png"
    done = subprocess.run(
        [sys.executable, "-m", "vin_ocr", "predict", str(image), "--checkpoint", str(run_dir), "--json"],
        capture_output=True,
        text=True,
        timeout=300,
        env=_paddle_env(),
    )
    assert done.returncode == 0, done.stderr[-2000:]
    reads = json.loads(done.stdout)
    assert isinstance(reads, list) and len(reads) == 1 and "vin" in json.dumps(reads)


def test_cancel_stops_paddleocr_keeps_the_epochs_save_and_a_resume_continues_from_it(tmp_path):
    _needs_real_paddleocr()
    config = _tiny_config(tmp_path, steps=12)
    process = subprocess.Popen(
        [sys.executable, "-m", "vin_ocr", "train", str(config), "--events", "-"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=_paddle_env(),
        start_new_session=True,  # its own process group, as the extension starts it
    )
    assert process.stdout is not None
    events = []
    for line in process.stdout:  # until the first epoch's save (step 4)
        events.append(json.loads(line))
        if events[-1]["event"] == "progress" and events[-1]["step"] >= 5:
            break
    os.killpg(process.pid, signal.SIGINT)
    rest, _ = process.communicate(timeout=120)
    events += _events(rest)
    assert process.returncode == 130
    assert events[-1]["event"] == "run_finished" and events[-1]["status"] == "cancelled"
    run_dir = Path(events[0]["run_dir"])
    time.sleep(0.5)
    leftovers = subprocess.run(["pgrep", "-f", str(run_dir)], capture_output=True, text=True).stdout.split()
    assert leftovers == [], "a PaddleOCR process outlived the cancel"
    last = json.loads((run_dir / "checkpoints" / "last.json").read_text(encoding="utf-8"))
    assert last["step"] == 4 and last["paddle_checkpoint"].endswith("paddleocr/output/latest")

    resumed = subprocess.run(
        [sys.executable, "-m", "vin_ocr", "train", "-", "--resume", str(run_dir), "--events", "-"],
        capture_output=True,
        text=True,
        timeout=300,
        env=_paddle_env(),
    )
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    again = _events(resumed.stdout)
    assert again[0]["start_step"] == 4 and again[0]["resumed_from"]
    progress = [event["step"] for event in again if event["event"] == "progress"]
    assert progress[0] == 5 and progress[-1] == 12
    assert again[-1]["status"] == "completed"
    assert read_events(run_dir / "events.jsonl")[-1]["status"] == "completed"
