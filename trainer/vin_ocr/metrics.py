"""How VIN readers are judged, with the metric names the existing vin_ocr project uses.

`exact_match` (all 17 characters right) is the number users care about; `cer` and `ned` say how far
off the misses are; `precision`/`recall`/`char_f1` count characters matched by an optimal alignment;
`pos_01_acc` … `pos_17_acc` show which positions are hard; `check_digit_valid_rate` is reported on
its own because European VINs need not verify (never fold it into accuracy).
"""

from __future__ import annotations

from typing import Dict, List, Sequence, Tuple

from .vin import VIN_LENGTH, has_valid_check_digit


def _distance_and_matches(prediction: str, truth: str) -> Tuple[int, int]:
    """Levenshtein distance, and how many characters the cheapest alignment keeps unchanged."""
    if prediction == truth:
        return 0, len(truth)
    # Each cell holds (edits, -matches) so that among equally cheap alignments the one that keeps
    # most characters wins; tuples compare element by element.
    previous: List[Tuple[int, int]] = [(column, 0) for column in range(len(truth) + 1)]
    for row, predicted_char in enumerate(prediction, start=1):
        current: List[Tuple[int, int]] = [(row, 0)]
        for column, truth_char in enumerate(truth, start=1):
            diagonal_edits, diagonal_matches = previous[column - 1]
            if predicted_char == truth_char:
                diagonal = (diagonal_edits, diagonal_matches - 1)
            else:
                diagonal = (diagonal_edits + 1, diagonal_matches)
            deletion = (previous[column][0] + 1, previous[column][1])
            insertion = (current[column - 1][0] + 1, current[column - 1][1])
            current.append(min(diagonal, deletion, insertion))
        previous = current
    edits, negative_matches = previous[-1]
    return edits, -negative_matches


def edit_distance(prediction: str, truth: str) -> int:
    """Levenshtein distance (insertions, deletions and substitutions each cost 1)."""
    return _distance_and_matches(prediction, truth)[0]


def vin_metrics(predictions: Sequence[str], truths: Sequence[str]) -> Dict[str, float]:
    """Scores for parallel lists of predicted and true VINs; every value is a float in 0..1 (cer may exceed 1)."""
    if len(predictions) != len(truths):
        raise ValueError(f"{len(predictions)} predictions for {len(truths)} truths: the lists must be parallel")
    if not truths:
        raise ValueError("no predictions to score: the evaluation set is empty")

    exact = 0
    total_edits = 0
    total_truth_chars = 0
    total_predicted_chars = 0
    total_matches = 0
    normalised_distances = 0.0
    position_hits = [0] * VIN_LENGTH
    check_digit_valid = 0

    for prediction, truth in zip(predictions, truths):
        edits, matches = _distance_and_matches(prediction, truth)
        exact += prediction == truth
        total_edits += edits
        total_matches += matches
        total_truth_chars += len(truth)
        total_predicted_chars += len(prediction)
        longest = max(len(prediction), len(truth))
        normalised_distances += edits / longest if longest else 0.0
        for position in range(min(VIN_LENGTH, len(prediction), len(truth))):
            position_hits[position] += prediction[position] == truth[position]
        check_digit_valid += has_valid_check_digit(prediction)

    count = len(truths)
    precision = total_matches / total_predicted_chars if total_predicted_chars else 0.0
    recall = total_matches / total_truth_chars if total_truth_chars else 0.0
    char_f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    metrics: Dict[str, float] = {
        "exact_match": exact / count,
        "cer": total_edits / total_truth_chars if total_truth_chars else float(total_edits > 0),
        "ned": normalised_distances / count,
        "char_f1": char_f1,
        "precision": precision,
        "recall": recall,
        "check_digit_valid_rate": check_digit_valid / count,
    }
    for position, hits in enumerate(position_hits, start=1):
        metrics[f"pos_{position:02d}_acc"] = hits / count
    return metrics


def prefixed(metrics: Dict[str, float], prefix: str) -> Dict[str, float]:
    """The same metrics named `val_exact_match`, `test_cer` …, as the existing project writes them."""
    return {f"{prefix}_{name}": value for name, value in metrics.items()}
