"""The held-out sets every reported figure is measured on, in one place.

* synthetic:  the set runs validate on (examples/baseline.yaml's ``data.synthetic``: seed 1234, 1,000 renders);
* typefaces:  renders in the families ``split_font_families()`` holds out of pretraining;
* robustness: the robustness suite (drawn unlike the renderer) in those held-out families.

The benchmarks (``bench/heldout_report.py``, ``trainer_bench.py``, ``baseline_sweep.py``,
``finetune_report.py``) and the model card all read these, so their figures stay comparable.
"""

from __future__ import annotations

from typing import Any, Optional, Sequence

SYNTHETIC_SEED, SYNTHETIC_SIZE = 1234, 1000
TYPEFACE_SEED, ROBUSTNESS_SEED = 99991, 7

Pairs = list[tuple[Any, str]]  # (model input, VIN)


def held_out_families() -> list[str]:
    from .fonts import split_font_families

    return split_font_families()[1]


def synthetic_set(height: int, width: int, size: int = SYNTHETIC_SIZE) -> Pairs:
    from .synthetic import synthetic_split

    return synthetic_split(SYNTHETIC_SEED, size, height, width)


def typeface_set(size: int, height: int, width: int, families: Optional[Sequence[str]] = None) -> Pairs:
    """``size`` renders in ``families`` (default: every held-out family)."""
    from .synthetic import synthetic_split

    return synthetic_split(TYPEFACE_SEED, size, height, width, fonts=list(families or held_out_families()))


def robustness_set(size: int, height: int, width: int) -> Pairs:
    """``size`` / 8 images per condition of the robustness suite, flattened."""
    from .robustness import robustness_suite

    suite = robustness_suite(ROBUSTNESS_SEED, max(1, size // 8), height, width, fonts=held_out_families())
    return [pair for pairs in suite.values() for pair in pairs]


def held_out_sets(size: int, height: int, width: int) -> dict[str, Pairs]:
    return {
        "synthetic": synthetic_set(height, width),
        "typefaces": typeface_set(size, height, width),
        "robustness": robustness_set(size, height, width),
    }
