"""Receipt requests: the FFD 1.2 codes of a line and of the receipt (payment method and object, measure, taxation)
and marking codes, each taken by name or code, anything else refused naming the field."""

from __future__ import annotations

import pytest
from pydantic import ValidationError
from receipt_support import MARK, item_with, request

from kkt_adapter.api.schemas import ReceiptIn
from kkt_adapter.domain.errors import InvalidReceipt

# ---- FFD 1.2 codes ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("field", "value", "code"),
    [
        ("payment_method", "full_prepayment", 1),
        ("payment_method", "prepayment", 2),
        ("payment_method", "advance", 3),
        ("payment_method", "full_payment", 4),
        ("payment_method", "partial_payment", 5),
        ("payment_method", "credit", 6),
        ("payment_method", "CREDIT_PAYMENT", 7),
        ("payment_method", 7, 7),
        ("payment_method", "5", 5),
        ("payment_object", "commodity", 1),
        ("payment_object", "excise", 2),
        ("payment_object", "job", 3),
        ("payment_object", "service", 4),
        ("payment_object", "payment", 10),
        ("payment_object", "agent_commission", 11),
        ("payment_object", 27, 27),
        ("payment_object", "marked_excise_without_code", 30),
        ("payment_object", "marked_commodity_without_code", 32),
        ("measure", "piece", 0),
        ("measure", "gram", 10),
        ("measure", "kg", 11),
        ("measure", "sq_m", 32),
        ("measure", "l", 41),
        ("measure", "kwh", 50),
        ("measure", "hour", 71),
        ("measure", "tb", 83),
        ("measure", "other", 255),
        ("measure", 42, 42),
    ],
)
def test_item_codes(field: str, value: object, code: int) -> None:
    """Payment method (1214), payment object (1212) and measure (2108) are taken by name or by code."""
    item = ReceiptIn.model_validate(item_with(**{field: value})).to_receipt().items[0]
    assert getattr(item, field) == code


@pytest.mark.parametrize(
    ("value", "code"), [("osn", 1), ("usn_income", 2), ("usn_income_expense", 4), ("esn", 16), ("patent", 32), (4, 4)]
)
def test_taxation_codes(value: object, code: int) -> None:
    """The taxation system (1055) is taken by name or by its bit."""
    assert ReceiptIn.model_validate(request(taxation=value)).to_receipt().taxation == code


BAD_CODES = [
    ("payment_method", 0),
    ("payment_method", 8),
    ("payment_method", "full"),
    ("payment_method", True),
    ("payment_method", 4.0),
    ("payment_object", 28),
    ("payment_object", 34),
    ("payment_object", "goods"),
    ("measure", 1),
    ("measure", "pcs"),
    ("measure", -1),
]


@pytest.mark.parametrize(("field", "value"), BAD_CODES)
def test_bad_item_code_is_named(field: str, value: object) -> None:
    """An unknown code or name is refused with its location and the list of what is allowed."""
    with pytest.raises(ValidationError) as caught:
        ReceiptIn.model_validate(item_with(**{field: value}))
    [error] = caught.value.errors()
    assert error["loc"] == ("items", 0, field)
    assert f"{field} must be one of" in error["msg"]


@pytest.mark.parametrize("value", [3, 64, "usn", "", False])
def test_bad_taxation_is_named(value: object) -> None:
    """A taxation that is not one system's name or bit is refused, naming ``taxation``."""
    with pytest.raises(ValidationError) as caught:
        ReceiptIn.model_validate(request(taxation=value)).to_receipt()
    assert [error["loc"] for error in caught.value.errors()] == [("taxation",)]


# ---- marking codes -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("code", [MARK, "x", "!" * 256, "010460043993125621\x1d"])
def test_marking_code_defaults_to_marked_commodity(code: str) -> None:
    """A line with a well-formed marking code and no payment object is a marked commodity with a code (33)."""
    item = ReceiptIn.model_validate(item_with(mark_code=code)).to_receipt().items[0]
    assert (item.mark_code, item.payment_object) == (code, 33)


def test_marked_excise_takes_a_code() -> None:
    """A marked excise line (31) with its code is accepted."""
    item = ReceiptIn.model_validate(item_with(mark_code=MARK, payment_object="marked_excise")).to_receipt().items[0]
    assert item.payment_object == 31


@pytest.mark.parametrize("code", ["", "a" * 257, "with space", "кириллица", "tab\there", "nul\x00"])
def test_malformed_marking_code_is_named(code: str) -> None:
    """A marking code that is empty, too long or not printable ASCII is refused, naming ``mark_code``."""
    with pytest.raises(ValidationError) as caught:
        ReceiptIn.model_validate(item_with(mark_code=code))
    [error] = caught.value.errors()
    assert error["loc"] == ("items", 0, "mark_code")
    assert "printable ASCII" in error["msg"]


@pytest.mark.parametrize("payment_object", ["commodity", "service", 30, 32])
def test_marking_code_needs_a_marked_payment_object(payment_object: object) -> None:
    """A marking code on a line that is not marked goods with a code (31 or 33) is refused, naming payment_object."""
    with pytest.raises(InvalidReceipt) as caught:
        ReceiptIn.model_validate(item_with(mark_code=MARK, payment_object=payment_object)).to_receipt()
    [problem] = caught.value.problems
    assert problem.loc == ("items", 0, "payment_object")
    assert "31 (marked_excise) or 33 (marked_commodity)" in problem.message


@pytest.mark.parametrize("payment_object", ["marked_excise", "marked_commodity"])
def test_marked_payment_object_needs_a_code(payment_object: str) -> None:
    """A payment object that says the goods carry a marking code (31, 33) needs the code, naming ``mark_code``."""
    with pytest.raises(InvalidReceipt) as caught:
        ReceiptIn.model_validate(item_with(payment_object=payment_object)).to_receipt()
    assert [p.loc for p in caught.value.problems] == [("items", 0, "mark_code")]
