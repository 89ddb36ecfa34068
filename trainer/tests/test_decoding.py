import math

import torch

from vin_ocr.decoding import BLANK, apply_check_digit, decode, greedy_decode
from vin_ocr.vin import ALPHABET, has_valid_check_digit

NORTH_AMERICAN = "1M8GDM9AXKP042788"  # check digit X (49 CFR 565.15 worked example)
EUROPEAN = "WVWZZZ1JZXW000001"  # position 9 is "Z": no check digit in Europe


def frames_for(text: str, uncertain: dict[int, tuple[str, float]] = {}, confidence: float = 0.98) -> torch.Tensor:
    """Log-probabilities [1, frames, classes] a model would give for `text`: each character on
    two frames followed by a blank frame. `uncertain` maps position → (runner-up, its probability)."""
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


def test_reads_of_the_wrong_length_are_not_touched():
    short = NORTH_AMERICAN[:16]
    read = decode(frames_for(short, uncertain={3: ("A", 0.4)}), check_digit=True)[0]
    assert read.text == short


def test_prediction_json_has_a_confidence_per_character():
    payload = greedy_decode(frames_for(NORTH_AMERICAN))[0].to_json()
    assert payload["vin"] == NORTH_AMERICAN and payload["check_digit_valid"] is True
    assert [c["char"] for c in payload["characters"]] == list(NORTH_AMERICAN)
    assert all(0 < c["confidence"] <= 1 for c in payload["characters"])
