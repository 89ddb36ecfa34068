"""Device/precision policy. CUDA is faked (this machine has none) by patching torch's own queries."""

import pytest
import torch

from vin_ocr.errors import CUDA_UNAVAILABLE, INVALID_CONFIG, TrainerError
from vin_ocr.training import device as device_module
from vin_ocr.training.device import choose_precision, place


def fake_cuda(monkeypatch, capability):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(device_module, "_cuda_capability", lambda: capability)


def test_the_cpu_trains_in_fp32_without_native_bf16(monkeypatch):
    monkeypatch.setattr(device_module, "cpu_has_native_bf16", lambda: False)
    placement = place("cpu", "auto")
    assert (placement.device, placement.dtype, placement.attention) == ("cpu", "fp32", "eager")
    assert placement.autocast_dtype is None and not placement.needs_grad_scaler


def test_a_cpu_with_native_bf16_trains_in_bf16_autocast(monkeypatch):
    monkeypatch.setattr(device_module, "cpu_has_native_bf16", lambda: True)
    placement = place("cpu", "auto")
    assert (placement.device, placement.dtype) == ("cpu", "bf16")
    assert placement.autocast_dtype is torch.bfloat16 and not placement.needs_grad_scaler


def test_bf16_is_refused_on_a_cpu_that_would_emulate_it(monkeypatch):
    monkeypatch.setattr(device_module, "cpu_has_native_bf16", lambda: False)
    with pytest.raises(TrainerError) as caught:
        choose_precision("cpu", "bf16")
    assert caught.value.code == INVALID_CONFIG and "AVX-512 BF16" in caught.value.message


def test_the_native_bf16_check_answers_on_this_machine():
    assert device_module.cpu_has_native_bf16() in (True, False)


def test_ampere_and_newer_get_bf16(monkeypatch):
    fake_cuda(monkeypatch, (8, 0))
    assert choose_precision("cuda", "auto") == "bf16"


def test_older_gpus_get_fp16_with_a_grad_scaler(monkeypatch):
    fake_cuda(monkeypatch, (7, 5))  # Tesla T4
    assert choose_precision("cuda", "auto") == "fp16"


def test_bf16_on_a_t4_is_refused_with_a_hint(monkeypatch):
    fake_cuda(monkeypatch, (7, 5))
    with pytest.raises(TrainerError) as caught:
        choose_precision("cuda", "bf16")
    assert caught.value.code == INVALID_CONFIG and "7.5" in caught.value.message


def test_cuda_requested_without_cuda_is_a_coded_error(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    with pytest.raises(TrainerError) as caught:
        place("cuda")
    assert caught.value.code == CUDA_UNAVAILABLE
    assert "--device" in caught.value.hint


def test_half_precision_is_refused_on_the_cpu():
    with pytest.raises(TrainerError):
        choose_precision("cpu", "fp16")
