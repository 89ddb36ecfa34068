import pytest
import torch

from vin_ocr.errors import CHECKPOINT_INVALID, TrainerError
from vin_ocr.training.checkpoints import load_checkpoint, resolve_checkpoint, save_atomically


def test_a_checkpoint_round_trips_and_leaves_no_temporary_file(tmp_path):
    path = tmp_path / "checkpoints" / "last.pt"
    save_atomically({"step": 3, "weights": torch.arange(4.0)}, path)
    state, found = load_checkpoint(path)
    assert found == path and state["step"] == 3 and torch.equal(state["weights"], torch.arange(4.0))
    assert [p.name for p in path.parent.iterdir()] == ["last.pt"]


def test_a_failed_write_keeps_the_previous_checkpoint_intact(tmp_path):
    path = tmp_path / "last.pt"
    save_atomically({"step": 1}, path)
    with pytest.raises(Exception):  # noqa: B017 - whichever error pickling gives: the file left behind is the point
        save_atomically({"step": 2, "not_saveable": lambda: None}, path)
    state, _ = load_checkpoint(path)
    assert state["step"] == 1
    assert [p.name for p in tmp_path.iterdir()] == ["last.pt"]


def test_a_truncated_file_is_a_coded_error_not_a_crash(tmp_path):
    path = tmp_path / "last.pt"
    save_atomically({"step": 1}, path)
    path.write_bytes(path.read_bytes()[:40])
    with pytest.raises(TrainerError) as caught:
        load_checkpoint(path)
    assert caught.value.code == CHECKPOINT_INVALID


def test_a_foreign_torch_file_is_refused(tmp_path):
    path = tmp_path / "other.pt"
    torch.save({"state_dict": {}}, path)
    with pytest.raises(TrainerError, match="not a VIN OCR checkpoint"):
        load_checkpoint(path)


def test_a_run_directory_resolves_to_the_preferred_checkpoint(tmp_path):
    folder = tmp_path / "run" / "checkpoints"
    save_atomically({"step": 5}, folder / "last.pt")
    assert resolve_checkpoint(tmp_path / "run", prefer="best.pt") == folder / "last.pt"  # falls back
    save_atomically({"step": 4}, folder / "best.pt")
    assert resolve_checkpoint(tmp_path / "run", prefer="best.pt") == folder / "best.pt"
    with pytest.raises(TrainerError):
        resolve_checkpoint(tmp_path / "missing")
