"""Hardware probe: what this interpreter can really use for training.

Prints the ``python`` part of the hardware-facts contract (``schemas/hardware-facts.schema.json``).
It must never raise: a broken torch install is a fact to report, not a crash.
"""

from __future__ import annotations

import importlib.metadata as metadata
import importlib.util
import platform
import sys
from typing import Any, Optional

FLASH_ATTN_STUB_DIST = "flash-attn-stub"


def _distribution_of(module: str) -> Optional[str]:
    try:
        names = metadata.packages_distributions().get(module) or []
    except Exception:  # a broken site-packages must not break the probe
        return None
    return names[0] if names else None


def flash_attn_status() -> Optional[str]:
    """Real flash-attn version, ``"stub"`` for the bundled stub, or None when absent.

    Decided from package metadata so the (slow, CUDA-initialising) module is never imported.
    """
    if importlib.util.find_spec("flash_attn") is None:
        return None
    dist = _distribution_of("flash_attn")
    if dist is None:
        return "stub"  # importable but not installed as a package: treat as untrusted, not real
    if dist.lower().replace("_", "-") == FLASH_ATTN_STUB_DIST:
        return "stub"
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return "stub"


def _cpu_only_torch_version() -> Optional[str]:
    """The installed torch version when it is a CPU-only build on a non-Apple OS, else None.

    Such a build can see neither CUDA nor MPS, so its facts follow from its metadata alone;
    skipping ``import torch`` (a second or more) keeps the probe well inside its time budget.
    """
    if sys.platform == "darwin":
        return None
    try:
        version = metadata.version("torch")
    except metadata.PackageNotFoundError:
        return None
    return version if version.endswith("+cpu") else None


def torch_facts() -> dict[str, Any]:
    facts: dict[str, Any] = {"torch": None, "cuda_available": False, "mps_available": False}
    cpu_only = _cpu_only_torch_version()
    if cpu_only is not None:
        facts.update(torch=cpu_only, torch_cuda=None)
        return facts
    try:
        import torch  # noqa: PLC0415 - imported lazily: it takes a second or two
    except Exception as error:  # ImportError, or a torch whose native libraries are broken
        if importlib.util.find_spec("torch") is not None:
            facts["torch_error"] = f"{type(error).__name__}: {error}"
        return facts
    facts["torch"] = torch.__version__
    facts["torch_cuda"] = getattr(torch.version, "cuda", None)
    try:
        facts["cuda_available"] = bool(torch.cuda.is_available())
        if facts["cuda_available"]:
            facts["cuda_devices"] = [
                {
                    "name": torch.cuda.get_device_name(i),
                    "compute_capability": "%d.%d" % torch.cuda.get_device_capability(i),
                    "vram_mib": torch.cuda.get_device_properties(i).total_memory // (1024 * 1024),
                }
                for i in range(torch.cuda.device_count())
            ]
    except Exception as error:
        facts["cuda_error"] = f"{type(error).__name__}: {error}"
    try:
        mps = getattr(torch.backends, "mps", None)
        facts["mps_available"] = bool(mps and mps.is_available())
    except Exception:
        facts["mps_available"] = False
    return facts


def probe() -> dict[str, Any]:
    facts: dict[str, Any] = {"path": sys.executable, "version": platform.python_version()}
    facts.update(torch_facts())
    facts["flash_attn"] = flash_attn_status()
    facts["transformers"] = _installed_version("transformers")  # DeepSeek-OCR's code imports only below 4.48
    return facts


def _installed_version(distribution: str) -> Optional[str]:
    """A package's version from its metadata: nothing is imported (the probe stays fast)."""
    try:
        return metadata.version(distribution)
    except metadata.PackageNotFoundError:
        return None
