"""The VIN module: alphabet, check digit (49 CFR 565.15), model year, random VINs."""

import random

import pytest

from vin_ocr.vin import (
    ALPHABET,
    VIN_LENGTH,
    check_digit,
    has_valid_check_digit,
    is_valid_vin_syntax,
    model_year,
    normalise_label,
    random_vin,
    year_code,
)


def test_alphabet_is_the_33_vin_symbols_without_i_o_q():
    assert len(ALPHABET) == 33
    assert len(set(ALPHABET)) == 33
    assert not set("IOQ") & set(ALPHABET)
    assert VIN_LENGTH == 17


@pytest.mark.parametrize(
    "vin, expected", [("1M8GDM9AXKP042788", "X"), ("1G4AH59H45G118341", "4"), ("1HGCM82633A004352", "3"), ("11111111111111111", "1")]
)
def test_check_digit_matches_published_examples(vin, expected):
    assert check_digit(vin) == expected
    assert has_valid_check_digit(vin)


def test_check_digit_ignores_what_position_nine_holds():
    assert check_digit("1M8GDM9A0KP042788") == "X"


def test_one_wrong_character_breaks_the_check_digit():
    assert not has_valid_check_digit("1M8GDM9AXKP042789")


def test_invalid_vins_are_never_valid_and_check_digit_refuses_them():
    assert not has_valid_check_digit("1M8GDM9AXKP04278")  # 16 characters
    assert not has_valid_check_digit("1M8GDM9AXKP04278O")  # letter O
    assert not has_valid_check_digit("")
    with pytest.raises(ValueError, match="17 characters"):
        check_digit("ABC")
    with pytest.raises(ValueError, match="not allowed"):
        check_digit("1M8GDM9AXKP04278I")


def test_syntax_accepts_european_vins_whose_check_digit_fails():
    assert is_valid_vin_syntax("WVWZZZ1JZ3W386752")
    assert not has_valid_check_digit("WVWZZZ1JZ3W386752")
    assert not is_valid_vin_syntax("wvwzzz1jz3w386752")
    assert not is_valid_vin_syntax("WVWZZZ1JZ3W38675")


def test_model_year_codes_repeat_every_30_years():
    assert model_year("1M8GDM9AXKP042788") == [1989, 2019]  # K
    assert model_year("1G4AH59H45G118341") == [2005, 2035]  # 5
    assert model_year("xxxxxxxxxA") == [1980, 2010]
    assert model_year("xxxxxxxxxY") == [2000, 2030]
    assert model_year("xxxxxxxxx1") == [2001, 2031]
    for never_a_year in "0IOQUZ":
        assert model_year("xxxxxxxxx" + never_a_year) == []
    assert model_year("short") == []
    assert year_code(2024) == "R" and year_code(1994) == "R"


def test_normalise_label_strips_and_upper_cases():
    assert normalise_label("  1hgcm82633a004352\r\n") == "1HGCM82633A004352"


def test_random_north_american_vins_are_valid_and_varied():
    rng = random.Random(7)
    vins = [random_vin(rng, north_american=True) for _ in range(500)]
    assert all(is_valid_vin_syntax(vin) and has_valid_check_digit(vin) for vin in vins)
    assert all(model_year(vin) for vin in vins)
    assert len(set(vins)) == 500
    for position in range(VIN_LENGTH):
        assert len({vin[position] for vin in vins}) > 5, f"position {position + 1} barely varies"


def test_random_european_vins_do_not_force_the_check_digit():
    rng = random.Random(8)
    vins = [random_vin(rng, north_american=False) for _ in range(500)]
    assert all(is_valid_vin_syntax(vin) for vin in vins)
    valid = sum(has_valid_check_digit(vin) for vin in vins)
    assert valid < 100  # about 1 in 11 verify by chance
    assert len({vin[8] for vin in vins}) > 20


def test_random_vin_is_deterministic_by_seed():
    first = [random_vin(random.Random(3), True) for _ in range(3)]
    assert first[0] == first[1] == first[2]
