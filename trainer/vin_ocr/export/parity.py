"""Do ONNX Runtime and PyTorch read the same VINs? Both run one held-out synthetic set.

The set is ``synthetic_split`` with the config's seed (the images the run validated on, never
trained on). PyTorch runs in fp32 on the CPU, the precision the graph was exported in, so the
check measures the export and not bf16 autocast. Both sides decode with the one ``decoding``
module; a read counts as identical when the decoded VINs (with the export's check-digit setting)
are equal.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Optional

import numpy as np
import torch

from ..config import Config
from ..data.synthetic import synthetic_split
from ..decoding import decode
from ..onnx_reader import BATCH, OnnxReader

THRESHOLD = 0.995  # share of identical reads below which the export fails
DEFAULT_SIZE = 500


@dataclass(frozen=True)
class Parity:
    size: int
    seed: int
    identical: int
    max_abs_log_prob_diff: float
    exact_match_torch: float
    exact_match_onnx: float
    check_digit: bool

    @property
    def identical_share(self) -> float:
        return self.identical / max(self.size, 1)

    @property
    def passed(self) -> bool:
        return self.identical_share >= THRESHOLD

    def failure(self, folder: Path) -> str:
        return (
            f"[parity_failed] ONNX Runtime and PyTorch read {self.identical_share:.2%} of the images alike, below the required "
            f"{THRESHOLD:.1%}; the export stays in {folder} for inspection, marked parity.passed: false.\n"
            "hint: do not deploy it; report the torch and onnxruntime versions with the checkpoint."
        )

    def to_json(self) -> dict[str, Any]:
        return {**asdict(self), "identical_share": self.identical_share, "threshold": THRESHOLD, "passed": self.passed}

    def summary(self) -> str:
        return (
            f"parity on {self.size} held-out synthetic images (seed {self.seed}): {self.identical}/{self.size} reads identical "
            f"({self.identical_share:.2%}, needs {THRESHOLD:.1%}), largest |log-prob difference| {self.max_abs_log_prob_diff:.2e}\n"
            f"exact match: PyTorch fp32 {self.exact_match_torch:.4f}, ONNX Runtime {self.exact_match_onnx:.4f}"
        )


@torch.no_grad()
def torch_log_probs(model: torch.nn.Module, inputs: np.ndarray) -> np.ndarray:
    model.eval()
    chunks = [model(torch.from_numpy(inputs[start : start + BATCH]).unsqueeze(1)).float().numpy() for start in range(0, len(inputs), BATCH)]
    return np.concatenate(chunks)


def check_parity(model: torch.nn.Module, reader: OnnxReader, config: Config[Any, Any], size: Optional[int] = None) -> Parity:
    size = DEFAULT_SIZE if size is None else size
    seed = config.data.synthetic.seed
    height, width = config.model.height, config.model.width
    rendered = synthetic_split(seed, size, height, width, config.data.synthetic.north_american_ratio)
    inputs = np.stack([image for image, _ in rendered]).astype(np.float32)
    truths = [vin for _, vin in rendered]
    expected, actual = torch_log_probs(model.cpu(), inputs), reader.log_probs(inputs)
    check_digit = reader.check_digit
    torch_reads = [read.text for read in decode(expected, check_digit)]
    onnx_reads = [read.text for read in decode(actual, check_digit)]
    return Parity(
        size=size,
        seed=seed,
        identical=sum(a == b for a, b in zip(torch_reads, onnx_reads)),
        max_abs_log_prob_diff=float(np.max(np.abs(expected - actual))),
        exact_match_torch=sum(a == t for a, t in zip(torch_reads, truths)) / size,
        exact_match_onnx=sum(a == t for a, t in zip(onnx_reads, truths)) / size,
        check_digit=check_digit,
    )
