import itertools
import math
from typing import Optional

import numpy as np
import torch

from vin_ocr.decoding import BLANK, apply_check_digit, decode, fixed_length_path, greedy_decode
from vin_ocr.vin import ALPHABET, has_valid_check_digit

NORTH_AMERICAN = "1M8GDM9AXKP042788"  # check digit X (49 CFR 565.15 worked example)
EUROPEAN = "WVWZZZ1JZXW000001"  # position 9 is "Z": no check digit in Europe


def frames_for(text: str, uncertain: Optional[dict[int, tuple[str, float]]] = None, confidence: float = 0.98) -> torch.Tensor:
    """Log-probabilities [1, frames, classes] a model would give for `text`: each character on
    two frames followed by a blank frame. `uncertain` maps position → (runner-up, its probability)."""
    uncertain = uncertain or {}
    rows = []
    for position, char in enumerate(text):
        for _ in range(2):
            row = torch.full((len(ALPHABET) + 1,), 1e-4)
            if position in uncertain:
                runner_up, p = uncertain[position]
                row[ALPHABET.index(runner_up) + 1] = p
                row[ALPHABET.index(char) + 1] = 1 - p - 0.01
            else:
                row[ALPHABET.index(char) + 1] = confidence
            rows.append(row / row.sum())
        blank = torch.full((len(ALPHABET) + 1,), 1e-4)
        blank[BLANK] = 1.0
        rows.append(blank / blank.sum())
    return torch.stack(rows).log().unsqueeze(0)


def test_greedy_decoding_merges_repeats_but_keeps_doubled_letters_split_by_a_blank():
    read = greedy_decode(frames_for("11AA"))[0]
    assert read.text == "11AA"
    assert len(read.char_confidences) == 4
    assert math.isclose(read.confidence, math.prod(read.char_confidences))


def test_a_confident_valid_read_is_left_alone():
    read = decode(frames_for(NORTH_AMERICAN), check_digit=True)[0]
    assert read.text == NORTH_AMERICAN and read.corrected_position is None


def test_an_uncertain_character_is_fixed_when_the_runner_up_makes_the_check_digit_verify():
    # The model misread position 5 ("D") as "0", but was unsure and had "D" as its runner-up.
    wrong = NORTH_AMERICAN[:4] + "0" + NORTH_AMERICAN[5:]
    assert not has_valid_check_digit(wrong)
    log_probs = frames_for(wrong, uncertain={4: ("D", 0.4)})
    assert greedy_decode(log_probs)[0].text == wrong
    fixed = decode(log_probs, check_digit=True)[0]
    assert fixed.text == NORTH_AMERICAN
    assert fixed.corrected_position == 4
    assert fixed.to_json()["corrected_position"] == 5


def test_a_confident_character_is_never_changed_even_if_the_check_digit_fails():
    wrong = NORTH_AMERICAN[:4] + "0" + NORTH_AMERICAN[5:]
    log_probs = frames_for(wrong, uncertain={4: ("D", 0.05)})  # 94% sure of "0"
    assert decode(log_probs, check_digit=True)[0].text == wrong


def test_a_european_vin_is_never_rewritten_to_satisfy_a_check_digit_it_does_not_use():
    assert not has_valid_check_digit(EUROPEAN)
    # Position 9 is uncertain and "X"... would verify for some runner-up: still left alone.
    candidates = [c for c in ALPHABET if has_valid_check_digit(EUROPEAN[:8] + c + EUROPEAN[9:])]
    log_probs = frames_for(EUROPEAN, uncertain={8: (candidates[0], 0.45)})
    read = apply_check_digit(greedy_decode(log_probs)[0])
    assert read.text == EUROPEAN and read.corrected_position is None


def test_the_check_digit_pass_leaves_reads_of_the_wrong_length_alone():
    short = NORTH_AMERICAN[:16]
    read = apply_check_digit(greedy_decode(frames_for(short, uncertain={3: ("A", 0.4)}))[0])
    assert read.text == short


def test_a_dropped_character_comes_back_when_reads_must_have_vin_length():
    # The blank between the last two "8"s is read as "8" (70 %, blank 30 %): greedy merges them.
    assert NORTH_AMERICAN.endswith("88")
    frames = frames_for(NORTH_AMERICAN)[0].clone()
    between = torch.full((len(ALPHABET) + 1,), 1e-4)
    between[ALPHABET.index("8") + 1], between[BLANK] = 0.7, 0.3
    frames[15 * 3 + 2] = (between / between.sum()).log()
    merged = frames.unsqueeze(0)
    assert greedy_decode(merged)[0].text == NORTH_AMERICAN[:16]
    assert greedy_decode(merged, length=17)[0].text == NORTH_AMERICAN
    assert decode(merged)[0].text == NORTH_AMERICAN  # VIN reads always have VIN length


def test_a_read_of_the_right_length_is_never_changed_by_the_length_rule():
    log_probs = frames_for(EUROPEAN, uncertain={4: ("A", 0.45)})
    assert greedy_decode(log_probs, length=17)[0].text == greedy_decode(log_probs)[0].text == EUROPEAN


def test_fixed_length_path_is_the_most_probable_path_of_that_length():
    rng = np.random.default_rng(7)
    for _ in range(150):
        frames, classes, length = int(rng.integers(1, 6)), int(rng.integers(2, 5)), int(rng.integers(0, 4))
        log_probs = np.log(rng.dirichlet(np.ones(classes), size=frames))
        best = None
        for path in itertools.product(range(classes), repeat=frames):
            labels = [c for i, c in enumerate(path) if c != BLANK and (i == 0 or path[i - 1] != c)]
            if len(labels) == length:
                total = sum(log_probs[t, c] for t, c in enumerate(path))
                best = total if best is None else max(best, total)
        found = fixed_length_path(log_probs, length)
        if best is None:
            assert found is None  # too few frames for that many labels
        else:
            assert math.isclose(sum(log_probs[t, c] for t, c in enumerate(found)), best, rel_tol=1e-9, abs_tol=1e-9)


def test_prediction_json_has_a_confidence_per_character():
    payload = greedy_decode(frames_for(NORTH_AMERICAN))[0].to_json()
    assert payload["vin"] == NORTH_AMERICAN and payload["check_digit_valid"] is True
    assert [c["char"] for c in payload["characters"]] == list(NORTH_AMERICAN)
    assert all(0 < c["confidence"] <= 1 for c in payload["characters"])
