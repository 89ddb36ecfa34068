"""``evaluate`` and ``predict`` on a fine-tuned LFM2-VL: a run directory, a checkpoint folder, a bare adapter."""

import io
import json
import shutil

import pytest
from fixtures_hf.helpers import go_offline, labelled_dir, tiny_finetune_flags

from vin_ocr.__main__ import main
from vin_ocr.training import hf_finetune

pytestmark = pytest.mark.filterwarnings("ignore::FutureWarning")
VIN_CHARACTERS = set("0123456789ABCDEFGHJKLMNPRSTUVWXYZ")


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    folder = tmp_path_factory.mktemp("finetuned")
    with pytest.MonkeyPatch.context() as patch:
        go_offline(patch)
        stream = io.StringIO()
        code = hf_finetune.main(
            tiny_finetune_flags(folder, "--max-steps", "2", "--max-eval-samples", "2", "--no-export"),
            events_stream=stream,
        )
    assert code == 0, stream.getvalue()[-2000:]
    (run,) = folder.iterdir()
    return run


@pytest.fixture(autouse=True)
def offline(monkeypatch):
    go_offline(monkeypatch)


def test_evaluate_scores_a_fine_tuned_run_like_the_baseline(run_dir, capsys):
    labels = labelled_dir() / "labels.txt"
    assert main(["evaluate", "--checkpoint", str(run_dir), "--labels", str(labels), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["size"] == 8 and report["checkpoint"] == str(run_dir / "checkpoints" / "best")
    assert {"exact_match", "cer", "char_f1", "pos_17_acc", "exact_match_check_digit"} <= set(report["metrics"])
    assert main(["evaluate", "--checkpoint", str(run_dir), "--labels", str(labels)]) == 0
    assert "per-position accuracy" in capsys.readouterr().out


@pytest.mark.parametrize("target", ["checkpoint folder", "bare adapter"])
def test_predict_reads_a_vin_with_confidences(run_dir, tmp_path, capsys, target):
    folder = run_dir / "checkpoints" / "best"
    if target == "bare adapter":  # only what peft writes: the family comes from the adapter's base model
        folder = tmp_path / "adapter"
        folder.mkdir()
        for name in ("adapter_config.json", "adapter_model.safetensors"):
            shutil.copy(run_dir / "checkpoints" / "best" / name, folder / name)
    image = str(labelled_dir() / "img" / "0.png")
    assert main(["predict", "--checkpoint", str(folder), image, "--json"]) == 0
    (read,) = json.loads(capsys.readouterr().out)
    assert read["image"] == image and set(read["vin"]) <= VIN_CHARACTERS  # alphabet-constrained generation
    assert 0.0 <= read["confidence"] <= 1.0
    assert len(read["characters"]) == len(read["vin"]) and all(0.0 <= c["confidence"] <= 1.0 for c in read["characters"])


def test_train_can_resume_a_fine_tuning_run_from_its_saved_config(run_dir, tmp_path):
    copy = tmp_path / run_dir.name
    shutil.copytree(run_dir, copy)
    assert main(["train", "unused.yaml", "--resume", str(copy), "--max-steps", "3", "--events", str(tmp_path / "events.jsonl")]) == 0
    events = [json.loads(line) for line in (tmp_path / "events.jsonl").read_text().splitlines()]
    started = next(e for e in events if e["event"] == "run_started")
    assert started["start_step"] == 2 and started["config"]["model"]["type"] == "lfm2-vl"
    assert events[-1]["status"] == "completed" and events[-1]["step"] == 3
