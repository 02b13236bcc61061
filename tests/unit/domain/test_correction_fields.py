"""A correction's own fields: the basis date (tag 1178) and the corrected receipt's fiscal sign (attribute 1192)."""

from __future__ import annotations

import re
from datetime import date

import pytest

from kkt_adapter.domain.correction import parse_basis_date, parse_fiscal_sign

DATE_RULE = "basis_date must be a date as YYYY-MM-DD, from 2017-01-01 to 2100-12-31"
SIGN_RULE = "corrected_fiscal_sign must be the fiscal sign as printed: 1–10 digits, at most 4294967295"


@pytest.mark.parametrize(
    ("value", "parsed"),
    [("2025-11-30", date(2025, 11, 30)), ("2017-01-01", date(2017, 1, 1)), ("2100-12-31", date(2100, 12, 31))],
)
def test_a_basis_date_within_its_range(value: str, parsed: date) -> None:
    """A date written as YYYY-MM-DD from 2017-01-01 to 2100-12-31, both ends included, is taken."""
    assert parse_basis_date(value) == parsed


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("2016-12-31", f"{DATE_RULE}; got '2016-12-31'"),
        ("2101-01-01", f"{DATE_RULE}; got '2101-01-01'"),
        ("20251130", f"{DATE_RULE}; got '20251130'"),
        ("2025-1-30", f"{DATE_RULE}; got '2025-1-30'"),
        (20251130, f"{DATE_RULE}; got 20251130"),
        (date(2025, 11, 30), f"{DATE_RULE}; got datetime.date(2025, 11, 30)"),
        ("2025-02-30", f"{DATE_RULE}; '2025-02-30' is not a date"),
    ],
)
def test_another_basis_date_is_refused(value: object, message: str) -> None:
    """Out of range, another writing, not a text, or no such day is refused, with what was given."""
    with pytest.raises(ValueError, match=re.escape(message)) as caught:
        parse_basis_date(value)
    assert str(caught.value) == message


@pytest.mark.parametrize(
    ("value", "sign"),
    [("2981623349", "2981623349"), (" 0042 ", "42"), ("0", "0"), ("4294967295", "4294967295")],
)
def test_a_fiscal_sign_as_printed(value: str, sign: str) -> None:
    """Up to 10 digits within 32 bits are taken, spaces around and leading zeros dropped."""
    assert parse_fiscal_sign(value) == sign


@pytest.mark.parametrize("value", ["", "4294967296", "12345678901", "29816-23349", "١٢", "0x1F"])
def test_another_fiscal_sign_is_refused(value: str) -> None:
    """Empty, beyond 32 bits, more than 10 digits, other characters or non-ASCII digits are refused."""
    with pytest.raises(ValueError, match=re.escape(SIGN_RULE)) as caught:
        parse_fiscal_sign(value)
    assert str(caught.value) == SIGN_RULE
