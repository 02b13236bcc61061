"""The marking code (tag 2000) and the payment objects of marked goods."""

from __future__ import annotations

import re

import pytest

from kkt_adapter.domain.errors import FieldProblem
from kkt_adapter.domain.marking import default_payment_object, marking_problems, parse_mark_code

MARK = "0104600439931256215Ngw/Q\x1d91FFD0\x1d92dGVzdA=="
REFUSAL = (
    "mark_code must be the DataMatrix content as read: 1–256 printable ASCII characters without spaces, "
    "GS1 group separators (\\u001d) allowed"
)


@pytest.mark.parametrize("code", [MARK, "x", "!" * 256, "~\x1d~"])
def test_a_marking_code_is_printable_ascii_with_group_separators(code: str) -> None:
    """1–256 printable ASCII characters, GS1 separators among them, are a marking code as read."""
    assert parse_mark_code(code) == code


@pytest.mark.parametrize("code", ["", "x" * 257, "01 04", "код", "a\tb", "a\x1eb", "a\x7f"])
def test_another_marking_code_is_refused(code: str) -> None:
    """Empty, too long, spaces, non-ASCII and control characters other than the separator are refused."""
    with pytest.raises(ValueError, match=re.escape(REFUSAL)) as caught:
        parse_mark_code(code)
    assert str(caught.value) == REFUSAL


@pytest.mark.parametrize(("mark_code", "payment_object"), [(MARK, 33), (None, 1)])
def test_a_line_leaving_out_its_payment_object_gets_the_one_its_code_says(
    mark_code: str | None, payment_object: int
) -> None:
    """With a marking code the line is a marked commodity (33), without one a commodity (1)."""
    assert default_payment_object(mark_code) == payment_object


@pytest.mark.parametrize(
    ("mark_code", "payment_object"),
    [(MARK, None), (MARK, 31), (MARK, 33), (None, None), (None, 1), (None, 30), (None, 32)],
)
def test_marking_code_and_payment_object_that_agree(mark_code: str | None, payment_object: int | None) -> None:
    """A code with 31, 33 or none given, and no code with anything but 31 or 33, are consistent."""
    assert marking_problems(0, mark_code, payment_object) == []


def test_a_code_on_goods_without_one_names_the_payment_object() -> None:
    """A marking code on a line of 30 or 32 (marked goods without a code) is a problem of its payment object."""
    assert marking_problems(2, MARK, 32) == [
        FieldProblem(
            ("items", 2, "payment_object"),
            "a line with a mark_code must have payment_object 31 (marked_excise) or 33 (marked_commodity), "
            "or leave it out (it is then 33); got 32",
        )
    ]


@pytest.mark.parametrize("payment_object", [31, 33])
def test_goods_with_a_code_lacking_it_name_the_mark_code(payment_object: int) -> None:
    """A line of 31 or 33 without a marking code is a problem of its mark_code."""
    assert marking_problems(0, None, payment_object) == [
        FieldProblem(
            ("items", 0, "mark_code"),
            f"payment_object {payment_object} is marked goods with a marking code: mark_code is required",
        )
    ]
