"""Receipt requests: the cashier and the customer's contact, a refund's link to its sale, the body's key, and
problems across fields reported together."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError
from receipt_support import MARK, request

from kkt_adapter.api.schemas import ReceiptIn
from kkt_adapter.domain.errors import InvalidReceipt
from kkt_adapter.domain.receipt import Cashier

# ---- cashier and customer ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("cashier", "expected"),
    [
        ({"name": "Иванова"}, Cashier("Иванова", None)),
        ({"name": "  Иванова  ", "inn": "7707083893"}, Cashier("Иванова", "7707083893")),
        ({"name": "x" * 64, "inn": "500100732259"}, Cashier("x" * 64, "500100732259")),
        ({"name": "Петров", "inn": None}, Cashier("Петров", None)),
    ],
)
def test_cashier(cashier: dict[str, Any], expected: Cashier) -> None:
    """The cashier's name (1021) and INN (1203) are kept; the INN is checked by python-stdnum."""
    assert ReceiptIn.model_validate(request(cashier=cashier)).to_receipt().cashier == expected


@pytest.mark.parametrize(
    ("cashier", "loc"),
    [
        ({"name": ""}, ("cashier", "name")),
        ({"name": "   "}, ("cashier", "name")),
        ({"name": "x" * 65}, ("cashier", "name")),
        ({"inn": "7707083893"}, ("cashier", "name")),
        ({"name": "A", "inn": "7707083894"}, ("cashier", "inn")),
        ({"name": "A", "inn": "500100732250"}, ("cashier", "inn")),
        ({"name": "A", "inn": "770708389"}, ("cashier", "inn")),
        ({"name": "A", "inn": "77070838AB"}, ("cashier", "inn")),
        ({"name": "A", "inn": 7707083893}, ("cashier", "inn")),
        ({"name": "A", "position": "senior"}, ("cashier", "position")),
        ("Иванова", ("cashier",)),
    ],
)
def test_bad_cashier_is_named(cashier: object, loc: tuple[str, ...]) -> None:
    """A cashier without a name, with too long a name, or with an INN whose check digits fail is refused."""
    with pytest.raises(ValidationError) as caught:
        ReceiptIn.model_validate(request(cashier=cashier))
    assert [error["loc"] for error in caught.value.errors()] == [loc]


def test_bad_inn_says_what_is_allowed() -> None:
    """A wrong INN's message says what an INN is."""
    with pytest.raises(ValidationError) as caught:
        ReceiptIn.model_validate(request(cashier={"name": "A", "inn": "7707083894"}))
    assert "10 digits (organisation) or 12 (individual)" in caught.value.errors()[0]["msg"]


@pytest.mark.parametrize(
    "contact",
    ["buyer@example.ru", "first.last+tag@mail.example.com", "+79161234567", "+375291234567", " a@b.co "],
)
def test_customer_contact_accepted(contact: str) -> None:
    """An e-mail or a phone in its normal form is the customer's contact (1008) as given."""
    receipt = ReceiptIn.model_validate(request(customer_contact=contact)).to_receipt()
    assert receipt.customer_contact == contact.strip()


@pytest.mark.parametrize(
    ("contact", "stored"),
    [
        ("+7 (916) 123-45-67", "+79161234567"),
        ("8 916 123-45-67", "+79161234567"),
        ("89161234567", "+79161234567"),
        ("покупатель@пример.рф", "покупатель@пример.рф"),
    ],
)
def test_customer_contact_as_people_type_it_is_normalized(contact: str, stored: str) -> None:
    """A phone as people write it becomes +7…, and an internationalized address is taken: the normal form is kept."""
    receipt = ReceiptIn.model_validate(request(customer_contact=contact)).to_receipt()
    assert receipt.customer_contact == stored


@pytest.mark.parametrize(
    "contact",
    [
        "",
        "buyer",
        "buyer@",
        "@example.ru",
        "buyer@example",
        "buyer@@example.ru",
        "buyer@-example.ru",
        "buyer @example.ru",
        "+7916123456",
        "+1234567890123456",
        "x" * 55 + "@example.ru",
    ],
)
def test_bad_customer_contact_is_named(contact: str) -> None:
    """Anything else is refused, naming ``customer_contact`` and the two allowed forms."""
    with pytest.raises(ValidationError) as caught:
        ReceiptIn.model_validate(request(customer_contact=contact))
    [error] = caught.value.errors()
    assert error["loc"] == ("customer_contact",)
    assert "e-mail" in error["msg"] and "phone number" in error["msg"]


# ---- a refund's link to its sale, and the body's key ---------------------------------------------------------------


@pytest.mark.parametrize(
    "link", [{"original_receipt_id": "3f2a9c1e-sale"}, {"original_fd_number": 42}, {"original_fd_number": "7"}]
)
def test_refund_may_name_its_sale(link: dict[str, Any]) -> None:
    """A refund names its sale by receipt id or by fiscal document number."""
    receipt = ReceiptIn.model_validate(request(type="refund", **link)).to_receipt()
    assert (receipt.original_receipt_id or receipt.original_fd_number) in {"3f2a9c1e-sale", 42, 7}


@pytest.mark.parametrize(
    ("link", "loc"),
    [
        ({"original_receipt_id": "r1"}, ("original_receipt_id",)),
        ({"original_fd_number": 42}, ("original_fd_number",)),
    ],
)
def test_sale_may_not_name_a_sale(link: dict[str, Any], loc: tuple[str, ...]) -> None:
    """The link to a sale is refused on a sale, naming the field and saying it belongs to a refund."""
    with pytest.raises(InvalidReceipt) as caught:
        ReceiptIn.model_validate(request(**link)).to_receipt()
    [problem] = caught.value.problems
    assert problem.loc == loc
    assert 'only with type "refund"' in problem.message


def test_refund_names_its_sale_once() -> None:
    """A refund may name its sale by one of the two links, not both."""
    body = request(type="refund", original_receipt_id="r1", original_fd_number=42)
    with pytest.raises(InvalidReceipt) as caught:
        ReceiptIn.model_validate(body).to_receipt()
    assert [p.loc for p in caught.value.problems] == [("original_fd_number",)]


@pytest.mark.parametrize(
    ("overrides", "loc"),
    [
        ({"original_fd_number": 0}, ("original_fd_number",)),
        ({"original_fd_number": -1}, ("original_fd_number",)),
        ({"original_fd_number": True}, ("original_fd_number",)),
        ({"original_fd_number": 1.5}, ("original_fd_number",)),
        ({"original_fd_number": 2**32}, ("original_fd_number",)),
        ({"original_receipt_id": ""}, ("original_receipt_id",)),
        ({"original_receipt_id": "r" * 65}, ("original_receipt_id",)),
        ({"original_receipt_id": 42}, ("original_receipt_id",)),
        ({"idempotency_key": ""}, ("idempotency_key",)),
        ({"idempotency_key": "trailing space "}, ("idempotency_key",)),
        ({"idempotency_key": "k" * 129}, ("idempotency_key",)),
        ({"idempotency_key": "a\u200bb"}, ("idempotency_key",)),
    ],
)
def test_bad_link_or_key_is_named(overrides: dict[str, Any], loc: tuple[str, ...]) -> None:
    """A malformed link or body key is refused, naming the field."""
    with pytest.raises(ValidationError) as caught:
        ReceiptIn.model_validate(request(type="refund", **overrides))
    assert [error["loc"] for error in caught.value.errors()] == [loc]


def test_cross_field_problems_are_reported_together() -> None:
    """A body breaking several rules across fields gets every problem at once, each naming its field."""
    body = request(
        original_receipt_id="r1",
        items=[{"name": "A", "price": 100, "quantity": 1, "vat_rate": 20, "payment_object": 1, "mark_code": MARK}],
        payments=[{"type": "cash", "amount": 50}],
    )
    with pytest.raises(InvalidReceipt) as caught:
        ReceiptIn.model_validate(body).to_receipt()
    assert [p.loc for p in caught.value.problems] == [
        ("original_receipt_id",),
        ("items", 0, "payment_object"),
        ("payments",),
    ]
