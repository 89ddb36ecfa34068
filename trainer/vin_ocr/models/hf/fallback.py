"""When a vision-language model cannot run here: why, from ``data/requirements.json``'s minimums.

Memory in decimal GB, like the file. A config's ``fallback: {enabled: true, type: baseline}`` then
trains the CRNN-CTC baseline on the same data instead of failing (``families/vlm``), after a
``model_fallback`` warning that says why.
"""

from __future__ import annotations

import importlib.util
from typing import Optional

GB = 10**9


def transformers_version() -> Optional[str]:
    if importlib.util.find_spec("transformers") is None:
        return None
    import transformers

    return str(transformers.__version__)


def _major_minor(version: str) -> tuple[int, int]:
    parts = [int("".join(ch for ch in piece if ch.isdigit()) or 0) for piece in version.split(".")[:2]]
    return (parts + [0, 0])[0], (parts + [0, 0])[1]


def fallback_reason(
    family: str,
    device: str,
    ram_bytes: Optional[int],
    vram_bytes: Optional[int],
    transformers: Optional[str],
) -> Optional[str]:
    """Why ``family`` cannot be fine-tuned on this machine, or None when it can."""
    from ...families.vlm import traits_of
    from ...requirements import requirements_of

    requirements = requirements_of(family)
    name = requirements.label
    if transformers is None:
        return f"transformers is not installed in this Python environment, and {name} needs it"
    traits = traits_of(family)
    needed = traits.min_transformers
    if needed is not None and _major_minor(transformers) < needed:
        return f"{name} needs transformers {needed[0]}.{needed[1]} or newer; this environment has {transformers}"
    too_new = traits.max_transformers
    if too_new is not None and _major_minor(transformers) >= too_new:
        return f"{name}'s code cannot be imported by transformers {too_new[0]}.{too_new[1]} or newer; this environment has {transformers}"
    minimum = requirements.minimum_gb.get(device)
    if minimum is None:
        return None
    if device == "cuda":
        if vram_bytes is not None and vram_bytes < minimum * GB:
            return f"{name} needs at least {minimum:g} GB of GPU memory; this GPU has {vram_bytes / GB:.1f} GB"
        return None
    if ram_bytes is not None and ram_bytes < minimum * GB:
        return f"{name} needs at least {minimum:g} GB of memory on {device.upper()}; this machine has {ram_bytes / GB:.1f} GB"
    return None


def machine_memory() -> Optional[int]:
    try:
        import os

        return int(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES"))
    except (ValueError, OSError, AttributeError):  # not on every platform (Windows)
        return None
