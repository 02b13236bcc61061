"""The INN: 10 or 12 digits with check digits, as python-stdnum computes them."""

from __future__ import annotations

import re

import pytest

from kkt_adapter.domain.inn import parse_inn

RULE = "inn must be a valid INN: 10 digits (organisation) or 12 (individual) with correct check digits; "


@pytest.mark.parametrize(
    ("value", "digits"),
    [
        ("7707083893", "7707083893"),
        ("500100732259", "500100732259"),
        (" 7707 083 893 ", "7707083893"),
    ],
)
def test_a_valid_inn_is_its_digits(value: str, digits: str) -> None:
    """An organisation's or a person's INN with correct check digits is taken, spaces dropped."""
    assert parse_inn(value) == digits


@pytest.mark.parametrize(
    ("value", "found"),
    [
        ("7707083894", "The number's checksum or check digit is invalid."),
        ("500100732258", "The number's checksum or check digit is invalid."),
        ("770708389", "The number has an invalid length."),
        ("77070838AB", "The number has an invalid format."),
        ("", "The number has an invalid format."),
    ],
)
def test_a_wrong_inn_is_refused_saying_what_is_wrong(value: str, found: str) -> None:
    """A wrong check digit, length or character is refused with the rule and stdnum's finding."""
    with pytest.raises(ValueError, match=re.escape(found)) as caught:
        parse_inn(value)
    assert str(caught.value) == RULE + found
