"""The attention/dtype policy for the vision-language models, and the fallback chain."""

import pytest

from vin_ocr.errors import TrainerError
from vin_ocr.models.hf.loading import load_with_fallback
from vin_ocr.models.hf.policy import (
    DEEPSEEK_OCR,
    LFM2_VL,
    Machine,
    choose_attention,
    choose_dtype,
    fallback_chain,
    family_of,
    machine_from_probe,
)

A100 = Machine("cuda", flash_attn="2.7.3", compute_capability=8.0)
T4 = Machine("cuda", flash_attn="2.7.3", compute_capability=7.5)
CUDA_WITH_STUB = Machine("cuda", flash_attn="stub", compute_capability=8.6)
MAC = Machine("mps", flash_attn="stub")
CPU = Machine("cpu")


def test_flash_attention_only_with_the_real_package_on_ampere_or_newer():
    assert choose_attention(LFM2_VL, A100).value == "flash_attention_2"
    assert choose_attention(LFM2_VL, T4).value == "sdpa"
    assert "7.5" in choose_attention(LFM2_VL, T4).reason
    assert choose_attention(LFM2_VL, CUDA_WITH_STUB).value == "sdpa"
    assert "stub" in choose_attention(LFM2_VL, CUDA_WITH_STUB).reason


def test_lfm2_uses_sdpa_on_mps_and_eager_on_the_cpu():
    assert choose_attention(LFM2_VL, MAC).value == "sdpa"
    assert choose_attention(LFM2_VL, CPU).value == "eager"


def test_deepseek_ocr_never_gets_sdpa():
    assert choose_attention(DEEPSEEK_OCR, A100).value == "flash_attention_2"
    for machine in (T4, CUDA_WITH_STUB, MAC, CPU):
        choice = choose_attention(DEEPSEEK_OCR, machine)
        assert choice.value == "eager"
        assert "no sdpa" in choice.reason
    with pytest.raises(ValueError, match="does not implement attention 'sdpa'"):
        choose_attention(DEEPSEEK_OCR, CPU, requested="sdpa")


def test_an_explicit_request_wins_and_says_so():
    choice = choose_attention(LFM2_VL, CPU, requested="sdpa")
    assert choice.value == "sdpa" and "requested" in choice.reason


def test_fallback_chains_follow_the_issue():
    assert fallback_chain(LFM2_VL, "flash_attention_2") == ["flash_attention_2", "sdpa", "eager"]
    assert fallback_chain(LFM2_VL, "sdpa") == ["sdpa", "eager"]
    assert fallback_chain(DEEPSEEK_OCR, "flash_attention_2") == ["flash_attention_2", "eager"]


def test_dtype_bf16_needs_compute_capability_8():
    assert choose_dtype(A100).value == "bf16"
    assert choose_dtype(T4).value == "fp16"
    assert choose_dtype(CPU).value == "fp32"
    assert choose_dtype(MAC).value == "fp32"
    assert choose_dtype(T4, fp16_flag=True).value == "fp16"
    assert choose_dtype(CPU, fp16_flag=True).value == "fp32"  # fp16 training on a CPU is not offered
    with pytest.raises(ValueError):
        choose_dtype(CPU, precision="fp8")


def test_family_and_machine_from_the_probe():
    assert family_of("deepseek-ai/DeepSeek-OCR") == DEEPSEEK_OCR
    assert family_of("LiquidAI/LFM2.5-VL-1.6B") == LFM2_VL
    facts = {"torch": "2.6.0+cu124", "flash_attn": "2.7.3", "cuda_devices": [{"compute_capability": "8.9"}]}
    machine = machine_from_probe("cuda", facts)
    assert machine.compute_capability == 8.9 and machine.flash_attn == "2.7.3" and machine.torch_major == 2


def test_loading_walks_down_the_chain_and_records_why():
    tried = []

    def load(attention):
        tried.append(attention)
        if attention == "flash_attention_2":
            raise ImportError("flash_attn is not installed")
        if attention == "sdpa":
            raise ValueError("This model does not support sdpa")
        return "model"

    loaded = load_with_fallback(load, ["flash_attention_2", "sdpa", "eager"])
    assert loaded.attention == "eager" and loaded.model == "model"
    assert tried == ["flash_attention_2", "sdpa", "eager"]
    assert loaded.fallbacks[0].startswith("flash_attention_2: flash_attn is not installed")


def test_a_real_error_is_not_hidden_by_the_chain():
    def load(_attention):
        raise RuntimeError("CUDA error: device-side assert")

    with pytest.raises(RuntimeError, match="device-side"):
        load_with_fallback(load, ["sdpa", "eager"])


def test_when_nothing_loads_the_error_lists_every_attempt():
    def load(attention):
        raise ImportError(f"no {attention}")

    with pytest.raises(TrainerError) as caught:
        load_with_fallback(load, ["sdpa", "eager"])
    assert "sdpa: no sdpa" in caught.value.message and "eager: no eager" in caught.value.message
