"""The FFD code tables and how a request names a code: by name in any case, or by the code, also as text."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest

from kkt_adapter.domain.ffd_codes import (
    ALLOWED_VAT,
    MEASURE_CODES,
    PAYMENT_METHOD_CODES,
    PAYMENT_OBJECT_CODES,
    TAXATION_CODES,
    VAT_RATE_CODES,
    code_parser,
    parse_vat_rate,
)


@pytest.mark.parametrize(
    ("codes", "expected"),
    [
        (VAT_RATE_CODES, list(range(1, 13))),
        (PAYMENT_METHOD_CODES, list(range(1, 8))),
        (PAYMENT_OBJECT_CODES, [*range(1, 28), 30, 31, 32, 33]),
        (TAXATION_CODES, [1, 2, 4, 16, 32]),
    ],
)
def test_each_table_names_the_codes_of_its_tag_once(codes: dict[str, int], expected: list[int]) -> None:
    """Every code of the tag has exactly one name: VAT 1–12, payment method 1–7, payment object without 28 and 29,
    taxation as one bit each."""
    assert sorted(codes.values()) == expected


def test_measures_are_the_ffd_1_2_units() -> None:
    """Tag 2108's codes run from piece (0) to other (255), each named once."""
    assert len(set(MEASURE_CODES.values())) == len(MEASURE_CODES) == 24
    assert (MEASURE_CODES["piece"], MEASURE_CODES["kg"], MEASURE_CODES["other"]) == (0, 11, 255)


@pytest.mark.parametrize(
    ("value", "code"),
    [
        ("full_payment", 4),
        ("FULL_PAYMENT", 4),
        ("  advance ", 3),
        (4, 4),
        ("4", 4),
        (" 7 ", 7),
    ],
)
def test_a_code_is_taken_by_name_or_number(value: object, code: int) -> None:
    """A name in any case with spaces around, the integer code, or the code written as digits give the code."""
    assert code_parser("payment_method", PAYMENT_METHOD_CODES)(value) == code


@pytest.mark.parametrize("value", [0, "0", 8, "28", True, False, 4.0, "4.0", "٤", "", None, "full payment"])
def test_a_code_outside_its_table_is_refused(value: object) -> None:
    """Unknown codes, booleans, floats, non-ASCII digits and unknown names are refused."""
    with pytest.raises(ValueError, match=r"^payment_method must be one of "):
        code_parser("payment_method", PAYMENT_METHOD_CODES)(value)


def test_a_refused_code_lists_every_name_with_its_code() -> None:
    """The refusal names the field, each allowed name with its code, and what was given."""
    with pytest.raises(ValueError, match=r"^taxation must be one of ") as caught:
        code_parser("taxation", TAXATION_CODES)(3)
    assert str(caught.value) == (
        "taxation must be one of 'osn' (1), 'usn_income' (2), 'usn_income_expense' (4), 'esn' (16), 'patent' (32), "
        "as the name or the code; got 3"
    )


@pytest.mark.parametrize(
    ("value", "rate"),
    [
        (20, "20"),
        (20.0, "20"),
        (Decimal("10"), "10"),
        ("20", "20"),
        (" 20/120 ", "20/120"),
        ("NONE", "none"),
        (0, "0"),
        ("22/122", "22/122"),
    ],
)
def test_a_vat_rate_is_a_percent_none_or_a_fraction(value: object, rate: str) -> None:
    """Whole numbers (also as float or Decimal) and texts in any case become the rate's key."""
    assert parse_vat_rate(value) == rate
    assert rate in VAT_RATE_CODES


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (True, f"vat_rate must be one of {ALLOWED_VAT}"),
        (None, f"vat_rate must be one of {ALLOWED_VAT}"),
        ([20], f"vat_rate must be one of {ALLOWED_VAT}"),
        (21, f"vat_rate must be one of {ALLOWED_VAT}, got 21"),
        (3.5, f"vat_rate must be one of {ALLOWED_VAT}"),
        ("20%", f"vat_rate must be one of {ALLOWED_VAT}, got '20%'"),
    ],
)
def test_another_vat_rate_is_refused_with_the_list(value: object, message: str) -> None:
    """A boolean, a fraction of a percent, an unknown rate or another type is refused, listing the rates."""
    with pytest.raises(ValueError, match=re.escape(message)) as caught:
        parse_vat_rate(value)
    assert str(caught.value) == message


def test_the_vat_list_quotes_texts_and_leaves_percents_bare() -> None:
    """Fractions and "none" are quoted as a client writes them in JSON strings; percents are numbers."""
    assert ALLOWED_VAT == "20, 10, '20/120', '10/110', 0, 'none', 5, 7, '5/105', '7/107', 22, '22/122'"
