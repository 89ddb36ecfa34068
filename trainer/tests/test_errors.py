import sys

from vin_ocr import errors
from vin_ocr.errors import TrainerError, translate


def test_a_missing_module_becomes_the_exact_install_command():
    failure = translate(ModuleNotFoundError("No module named 'yaml'", name="yaml"))
    assert failure.code == errors.MISSING_DEPENDENCY
    assert failure.command == f"{sys.executable} -m pip install PyYAML"
    assert failure.command in failure.hint


def test_missing_flash_attn_points_at_the_stub():
    failure = translate(ModuleNotFoundError("No module named 'flash_attn'", name="flash_attn"))
    assert failure.code == errors.FLASH_ATTN_MISSING
    assert "flash_attn_stub" in failure.hint


def test_out_of_memory_advises_batch_size_one_or_the_cpu():
    failure = translate(RuntimeError("CUDA out of memory. Tried to allocate 2.00 GiB"), device="cuda", batch_size=64)
    assert failure.code == errors.OUT_OF_MEMORY
    assert "batch_size to 1" in failure.hint and "cpu" in failure.hint


def test_unexpected_errors_are_internal_and_keep_their_message():
    failure = translate(ZeroDivisionError("division by zero"))
    assert failure.code == errors.INTERNAL_ERROR and "division by zero" in failure.message


def test_error_event_matches_the_schema_shape():
    event = TrainerError(errors.INVALID_DATASET, "bad", "fix it", issues=["a.txt:3: wrong length"]).to_event()
    assert event == {"code": "invalid_dataset", "message": "bad", "hint": "fix it", "issues": ["a.txt:3: wrong length"]}
