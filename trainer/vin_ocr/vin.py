"""Vehicle identification numbers: alphabet, check digit, model year, random VINs.

Facts from 49 CFR 565.15 and ISO 3779. Europe and the UK do not use the check digit,
so nothing here "corrects" a VIN: `has_valid_check_digit` only reports.
"""

from __future__ import annotations

import random
from typing import Dict, List, Sequence, Tuple

#: The 33 symbols a VIN may contain: digits and capitals without I, O and Q.
ALPHABET = "0123456789ABCDEFGHJKLMNPRSTUVWXYZ"
VIN_LENGTH = 17

_ALPHABET_SET = frozenset(ALPHABET)

# Letter values for the check digit (49 CFR 565.15, table IV); digits stand for themselves.
_TRANSLITERATION: Dict[str, int] = {
    **{digit: int(digit) for digit in "0123456789"},
    "A": 1,
    "B": 2,
    "C": 3,
    "D": 4,
    "E": 5,
    "F": 6,
    "G": 7,
    "H": 8,
    "J": 1,
    "K": 2,
    "L": 3,
    "M": 4,
    "N": 5,
    "P": 7,
    "R": 9,
    "S": 2,
    "T": 3,
    "U": 4,
    "V": 5,
    "W": 6,
    "X": 7,
    "Y": 8,
    "Z": 9,
}
# Position 9 (the check digit itself) weighs 0.
_WEIGHTS: Tuple[int, ...] = (8, 7, 6, 5, 4, 3, 2, 10, 0, 9, 8, 7, 6, 5, 4, 3, 2)

# Position 10 cycles through these 30 codes every 30 years, starting at 1980 with "A".
_YEAR_CODES = "ABCDEFGHJKLMNPRSTVWXY123456789"
_FIRST_YEAR = 1980

# World manufacturer identifiers seen on real vehicles, so that renders look like real VINs
# (position 1 is the region: 1/4/5 USA, 2 Canada, 3 Mexico, J Japan, K Korea, S UK, V France/Spain,
# W Germany, Y Sweden/Finland, Z Italy, L China).
NORTH_AMERICAN_WMIS: Tuple[str, ...] = (
    "1FA",
    "1FT",
    "1FM",
    "1G1",
    "1GC",
    "1GN",
    "1HG",
    "1J4",
    "1N4",
    "1C4",
    "1D7",
    "1VW",
    "1YV",
    "2FM",
    "2G1",
    "2HG",
    "2T1",
    "2C3",
    "3FA",
    "3GN",
    "3VW",
    "3N1",
    "4T1",
    "4S3",
    "5YJ",
    "5NP",
    "5FN",
    "JHM",
    "JN1",
    "JTD",
    "KMH",
    "KNA",
    "LRW",
)
EUROPEAN_WMIS: Tuple[str, ...] = (
    "WVW",
    "WBA",
    "WDB",
    "WDD",
    "WAU",
    "WP0",
    "WF0",
    "VF1",
    "VF3",
    "VF7",
    "VSS",
    "ZFA",
    "ZAR",
    "SAL",
    "SAJ",
    "SCC",
    "YV1",
    "YS3",
    "TMB",
    "TRU",
    "UU1",
    "VNK",
    "W0L",
    "XTA",
)


def _require_vin_characters(vin: str) -> None:
    if len(vin) != VIN_LENGTH:
        raise ValueError(f"a VIN has {VIN_LENGTH} characters, got {len(vin)}: {vin!r}")
    bad = sorted({char for char in vin if char not in _ALPHABET_SET})
    if bad:
        raise ValueError(f"characters not allowed in a VIN: {''.join(bad)!r} in {vin!r}")


def check_digit(vin: str) -> str:
    """The check digit ("0"–"9" or "X") that position 9 of `vin` should hold.

    Position 9's current content is ignored, so this works on a VIN whose position 9 is a placeholder.
    """
    _require_vin_characters(vin)
    total = sum(_TRANSLITERATION[char] * weight for char, weight in zip(vin, _WEIGHTS))
    remainder = total % 11
    return "X" if remainder == 10 else str(remainder)


def has_valid_check_digit(vin: str) -> bool:
    """Whether position 9 verifies; False (never an error) for anything that is not a well-formed VIN."""
    if not is_valid_vin_syntax(vin):
        return False
    return vin[8] == check_digit(vin)


def is_valid_vin_syntax(vin: str) -> bool:
    """17 characters, all from the VIN alphabet (the check digit is not required: European VINs)."""
    return len(vin) == VIN_LENGTH and all(char in _ALPHABET_SET for char in vin)


def model_year(vin: str) -> List[int]:
    """The model years position 10 can mean (codes repeat every 30 years), oldest first.

    Empty when position 10 is not a year code (0, I, O, Q, U, Z are never used there).
    """
    if len(vin) < 10:
        return []
    index = _YEAR_CODES.find(vin[9])
    if index < 0:
        return []
    first = _FIRST_YEAR + index
    return [first, first + 30]


def year_code(year: int) -> str:
    """The position-10 code for a model year (1980 onwards)."""
    if year < _FIRST_YEAR:
        raise ValueError(f"model-year codes start in {_FIRST_YEAR}, got {year}")
    return _YEAR_CODES[(year - _FIRST_YEAR) % len(_YEAR_CODES)]


def normalise_label(text: str) -> str:
    """A label as the model should learn it: surrounding white space removed, upper case."""
    return text.strip().upper()


def _random_chars(rng: random.Random, count: int, symbols: Sequence[str] = ALPHABET) -> str:
    return "".join(rng.choice(symbols) for _ in range(count))


def random_vin(rng: random.Random, north_american: bool) -> str:
    """A realistic random VIN.

    North-American: a real WMI, a plausible model year (1981–2030), a serial that is often
    numeric and a valid check digit. European: same structure, but position 9 is arbitrary
    (often a filler letter or digit), as ISO 3779 allows. A few WMIs are fully random so the
    model never learns that the first three characters come from a short list.
    """
    wmis = NORTH_AMERICAN_WMIS if north_american else EUROPEAN_WMIS
    wmi = rng.choice(wmis) if rng.random() < 0.8 else _random_chars(rng, 3)
    descriptor = _random_chars(rng, 5)
    year = year_code(rng.randint(1981, 2030))
    plant = _random_chars(rng, 1)
    # Serials are numeric on most vehicles; some makers use letters in positions 12–13.
    if rng.random() < 0.7:
        serial = _random_chars(rng, 6, "0123456789")
    else:
        serial = _random_chars(rng, 6)
    position_nine = _random_chars(rng, 1)
    vin = wmi + descriptor + position_nine + year + plant + serial
    if north_american:
        vin = vin[:8] + check_digit(vin) + vin[9:]
    return vin
