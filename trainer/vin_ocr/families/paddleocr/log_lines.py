"""PaddleOCR's ``tools/train.py`` log lines, read into records (the family turns them into our events).

The shapes, recorded from a real run (``trainer/tests/fixtures/paddleocr/train.log``; ``tools/program.py``
writes them with ``ppocr INFO:`` in front):

* a step:  ``epoch: [4/5], global_step: 20, lr: 0.000158, acc: 0.000000, norm_edit_dis: 0.093631, CTCLoss: 104.49,
  NRTRLoss: 3.75, loss: 108.25, avg_reader_cost: 0.28777 s, avg_batch_cost: 11.08680 s, avg_samples: 9.0,
  ips: 0.81178 samples/s, eta: 0:02:00``
* an evaluation: ``cur metric, acc: 0.0, norm_edit_dis: 0.0367, fps: 3.9``, then ``best metric, acc: …``
* a save: ``save model in OUT/latest`` and ``save best model is to OUT/best_accuracy``

Anything else is passed through to the run's log as it is.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Optional, Union

_PREFIX = re.compile(r"^.*?ppocr\s+(?:INFO|WARNING|ERROR|DEBUG):\s*")
_STEP = re.compile(r"^epoch: \[(\d+)/(\d+)\], global_step: (\d+), (.*)$")
_PAIR = re.compile(r"([A-Za-z_][\w]*): ([-+0-9.eE]+|nan|inf)(?: s| samples/s)?$")
_ETA = re.compile(r"eta: (?:(\d+) days?, )?(\d+):(\d\d):(\d\d)")
_SAVE = re.compile(r"^save (best )?model (?:in|is to) (.+?)\s*$")


@dataclass(frozen=True)
class StepLine:
    epoch: int
    epochs: int
    step: int
    values: dict[str, float] = field(default_factory=dict)  # lr, acc, losses, ips, avg_samples …
    eta_seconds: Optional[float] = None

    @property
    def loss(self) -> float:
        return self.values.get("loss", float("nan"))

    @property
    def samples(self) -> int:
        return int(round(self.values.get("avg_samples", 0.0)))


@dataclass(frozen=True)
class EvalLine:
    best: bool  # "best metric" (the best so far) rather than "cur metric" (this evaluation)
    values: dict[str, float]


@dataclass(frozen=True)
class SaveLine:
    prefix: str  # the checkpoint prefix PaddleOCR wrote, e.g. OUT/latest
    best: bool


Record = Union[StepLine, EvalLine, SaveLine]


def _numbers(text: str) -> dict[str, float]:
    values: dict[str, float] = {}
    for part in text.split(", "):
        match = _PAIR.match(part.strip())
        if match:
            values[match.group(1)] = float(match.group(2))
    return values


def _eta(text: str) -> Optional[float]:
    match = _ETA.search(text)
    if not match:
        return None
    days, hours, minutes, seconds = (int(group or 0) for group in match.groups())
    return float(((days * 24 + hours) * 60 + minutes) * 60 + seconds)


def parse(line: str) -> Optional[Record]:
    """The record a log line holds, or None for any other line."""
    text = _PREFIX.sub("", line.rstrip("\r\n"), count=1).strip()
    step = _STEP.match(text)
    if step:
        epoch, epochs, number, rest = step.groups()
        return StepLine(int(epoch), int(epochs), int(number), _numbers(rest), _eta(rest))
    for marker, best in (("cur metric, ", False), ("best metric, ", True)):
        if text.startswith(marker):
            return EvalLine(best, _numbers(text[len(marker) :]))
    save = _SAVE.match(text)
    if save:
        return SaveLine(save.group(2), bool(save.group(1)))
    return None


def eval_metrics(values: dict[str, float]) -> dict[str, float]:
    """PaddleOCR's RecMetric as our metric names: acc is exact match; norm_edit_dis is 1 - normalised edit distance."""
    metrics: dict[str, float] = {}
    if "acc" in values:
        metrics["exact_match"] = values["acc"]
    if "norm_edit_dis" in values:
        metrics["ned"] = max(0.0, 1.0 - values["norm_edit_dis"])
    return metrics
