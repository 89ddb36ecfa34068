"""VIN metrics: names compatible with the existing vin_ocr project, values that mean what they say."""

import pytest

from vin_ocr.metrics import edit_distance, prefixed, vin_metrics

TRUTH = "1M8GDM9AXKP042788"
EUROPEAN = "WVWZZZ1JZ3W386752"


def test_names_match_the_existing_project_plus_check_digit_rate():
    metrics = vin_metrics([TRUTH], [TRUTH])
    expected = {"exact_match", "cer", "ned", "char_f1", "precision", "recall", "check_digit_valid_rate"}
    expected |= {f"pos_{position:02d}_acc" for position in range(1, 18)}
    assert set(metrics) == expected
    assert all(isinstance(value, float) for value in metrics.values())


def test_perfect_reads_score_perfectly():
    metrics = vin_metrics([TRUTH, EUROPEAN], [TRUTH, EUROPEAN])
    assert metrics["exact_match"] == 1.0
    assert metrics["cer"] == 0.0 and metrics["ned"] == 0.0
    assert metrics["char_f1"] == metrics["precision"] == metrics["recall"] == 1.0
    assert metrics["pos_09_acc"] == 1.0
    # The European VIN does not verify: the rate reports that without calling the read wrong.
    assert metrics["check_digit_valid_rate"] == 0.5


def test_one_substitution():
    wrong = TRUTH[:4] + "8" + TRUTH[5:]  # D → 8 at position 5
    metrics = vin_metrics([wrong, TRUTH], [TRUTH, TRUTH])
    assert metrics["exact_match"] == 0.5
    assert metrics["cer"] == pytest.approx(1 / 34)
    assert metrics["ned"] == pytest.approx((1 / 17) / 2)
    assert metrics["pos_05_acc"] == 0.5
    assert metrics["pos_04_acc"] == 1.0
    assert metrics["precision"] == pytest.approx(33 / 34)


def test_a_dropped_character_shifts_positions_but_costs_one_edit():
    short = TRUTH[:3] + TRUTH[4:]
    metrics = vin_metrics([short], [TRUTH])
    assert metrics["cer"] == pytest.approx(1 / 17)
    assert metrics["precision"] == 1.0
    assert metrics["recall"] == pytest.approx(16 / 17)
    assert metrics["pos_03_acc"] == 1.0
    assert metrics["pos_17_acc"] == 0.0  # the prediction has no 17th character


def test_empty_prediction():
    metrics = vin_metrics([""], [TRUTH])
    assert metrics["exact_match"] == 0.0
    assert metrics["cer"] == 1.0 and metrics["ned"] == 1.0
    assert metrics["char_f1"] == 0.0
    assert metrics["check_digit_valid_rate"] == 0.0


def test_edit_distance():
    assert edit_distance("kitten", "sitting") == 3
    assert edit_distance("", "abc") == 3
    assert edit_distance("abc", "abc") == 0


def test_bad_input_is_a_clear_error():
    with pytest.raises(ValueError, match="parallel"):
        vin_metrics(["A"], [])
    with pytest.raises(ValueError, match="empty"):
        vin_metrics([], [])


def test_prefixed_names_like_the_existing_project():
    assert "val_exact_match" in prefixed(vin_metrics([TRUTH], [TRUTH]), "val")
