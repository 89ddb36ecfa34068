"""Attention and dtype for the vision-language models: the hardware policy, on the Python side.

The same rules as ``src/core/hardware/policy.ts``, applied to what this interpreter really has.
Each family's attention implementations, best first, come from ``data/requirements.json``
(``vin_ocr.requirements``); loading walks down that chain when the chosen implementation fails
anyway (a broken flash-attn wheel, a model that lacks sdpa, …).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

FLASH = "flash_attention_2"
SDPA = "sdpa"
EAGER = "eager"

# The families' names (model.type), for callers that name one.
LFM2_VL = "lfm2-vl"
DEEPSEEK_OCR = "deepseek-ocr"


def attention_chain(family: str) -> tuple[str, ...]:
    """The family's implementations, best first (DeepSeek-OCR's remote code has no sdpa)."""
    from ...requirements import requirements_of

    return requirements_of(family).attention or (EAGER,)


@dataclass(frozen=True)
class Machine:
    """What the policy needs to know; built from ``vin_ocr.hardware.probe()`` or by a test."""

    device: str  # cuda | mps | cpu
    flash_attn: Optional[str] = None  # real version, "stub", or None
    compute_capability: Optional[float] = None  # of the CUDA device used
    torch_major: int = 2


@dataclass(frozen=True)
class Choice:
    value: str
    reason: str


def family_of(model_id: str) -> str:
    """The registered family that recognises ``model_id`` (see ``families/registry.py``)."""
    from ...families import registry

    return registry.for_model_id(model_id).name


def flash_attention_usable(machine: Machine) -> tuple[bool, str]:
    if machine.device != "cuda":
        return False, f"flash-attn needs CUDA (this run uses {machine.device})"
    if machine.flash_attn is None:
        return False, "flash-attn is not installed"
    if machine.flash_attn == "stub":
        return False, "only the flash-attn stub is installed"
    if machine.compute_capability is not None and machine.compute_capability < 8.0:
        return False, f"flash-attn 2 needs compute capability 8.0+ (this GPU has {machine.compute_capability:.1f})"
    if machine.torch_major < 2:
        return False, "flash-attn 2 needs torch 2.0+"
    return True, f"CUDA with flash-attn {machine.flash_attn}"


def choose_attention(family: str, machine: Machine, requested: str = "auto") -> Choice:
    """The policy's attention for ``family`` on ``machine``, or the user's explicit request."""
    chain = attention_chain(family)
    if requested and requested != "auto":
        if requested not in chain:
            raise ValueError(f"{family} does not implement attention '{requested}' (it supports {', '.join(chain)})")
        if requested == FLASH and machine.device != "cuda" and SDPA not in chain:
            # DeepSeek-OCR's remote code (the family without sdpa) loads with flash_attention_2 where the stub is
            # installed, then fails in its first forward (NameError), where the loading fallback cannot catch it.
            # Native models (LFM2.5-VL) fail at loading instead, and walk their chain there.
            instead = choose_attention(family, machine)
            return Choice(
                instead.value, f"flash_attention_2 was requested, but it needs CUDA (this run uses {machine.device}); {instead.reason}"
            )
        return Choice(requested, f"requested in the configuration (attn_implementation: {requested})")
    usable, why = flash_attention_usable(machine)
    if usable and FLASH in chain:
        return Choice(FLASH, why)
    if SDPA not in chain:
        from ...requirements import requirements_of

        return Choice(EAGER, f"{requirements_of(family).label} implements no sdpa and {why}")
    if machine.device in ("cuda", "mps") and machine.torch_major >= 2:
        return Choice(SDPA, f"{why}; torch's scaled-dot-product attention on {machine.device}")
    return Choice(EAGER, "the CPU uses eager attention (the hardware policy's rule for the CPU)")


def fallback_chain(family: str, first: str) -> list[str]:
    """``first`` and every implementation after it in the family's preference order."""
    chain = attention_chain(family)
    return list(chain[chain.index(first) :]) if first in chain else [first, *chain]


def choose_dtype(machine: Machine, precision: str = "auto", fp16_flag: bool = False) -> Choice:
    """bf16 needs compute capability 8.0+; older GPUs use fp16; the CPU trains in fp32."""
    if precision not in ("auto", "bf16", "fp16", "fp32"):
        raise ValueError(f"precision must be auto, bf16, fp16 or fp32, not '{precision}'")
    if precision == "auto" and fp16_flag:
        precision = "fp16"
    if precision != "auto":
        if machine.device == "cpu" and precision == "fp16":
            return Choice("fp32", "fp16 is not supported for training on the CPU; using fp32")
        return Choice(precision, "requested in the configuration")
    if machine.device == "cuda":
        if machine.compute_capability is None or machine.compute_capability >= 8.0:
            return Choice("bf16", "the GPU supports bf16 (compute capability 8.0+)")
        return Choice("fp16", f"compute capability {machine.compute_capability:.1f} has no bf16; fp16 with loss scaling")
    if machine.device == "mps":
        return Choice("fp32", "MPS: fp32 (fp16 training on MPS is unstable in user reports)")
    return Choice("fp32", "the CPU trains in fp32")


def machine_from_probe(device: str, facts: dict) -> Machine:
    capability = None
    for gpu in facts.get("cuda_devices") or []:
        try:
            capability = float(gpu["compute_capability"])
        except (KeyError, TypeError, ValueError):
            pass
        break
    torch_version = facts.get("torch") or "2"
    try:
        major = int(str(torch_version).split(".")[0])
    except ValueError:
        major = 2
    return Machine(device=device, flash_attn=facts.get("flash_attn"), compute_capability=capability, torch_major=major)
