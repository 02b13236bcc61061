"""Receipt requests: exact money, balanced sums, VAT rates, the canonical form and its hash, and a 422 naming the
field for anything wrong."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError
from receipt_support import request

from kkt_adapter.api.schemas import ReceiptIn
from kkt_adapter.domain.errors import InvalidReceipt
from kkt_adapter.domain.money import line_sum, to_kopecks
from kkt_adapter.domain.receipt import Cashier, Receipt


def test_field_example_is_accepted() -> None:
    """The request shape of the field's documents builds a 100.00 ruble sale at VAT code 1 (20%)."""
    receipt = ReceiptIn.model_validate(request()).to_receipt()
    assert receipt.total_kop == 10000
    assert receipt.items[0].vat_code == 1
    assert receipt.paid("cash") == 10000


def test_float_trap_is_exact() -> None:
    """12.45 × 7 is 87.15 exactly (binary floats give 87.1499…)."""
    body = request(
        items=[{"name": "Lens", "price": 12.45, "quantity": 7, "vat_rate": "none"}],
        payments=[{"type": "card", "amount": 87.15}],
    )
    receipt = ReceiptIn.model_validate(body).to_receipt()
    assert receipt.total_kop == 8715
    assert receipt.paid("electronic") == 8715


@given(
    kopecks=st.integers(min_value=1, max_value=10**11),
)
def test_kopecks_round_trip(kopecks: int) -> None:
    """Any amount with two decimals converts to kopecks exactly."""
    assert to_kopecks(Decimal(kopecks) / 100) == kopecks


@given(
    price=st.integers(min_value=1, max_value=10**8),
    thousandths=st.integers(min_value=1, max_value=10**6),
)
def test_line_sum_rounds_half_up(price: int, thousandths: int) -> None:
    """A line sum is price × quantity rounded half up to the kopeck, computed without floats."""
    quantity = Decimal(thousandths) / 1000
    exact = Decimal(price) * quantity
    assert abs(Decimal(line_sum(price, quantity)) - exact) <= Decimal("0.5")


@given(
    prices=st.lists(st.integers(min_value=1, max_value=10**7), min_size=1, max_size=8),
    cash_share=st.integers(min_value=0, max_value=100),
)
def test_balanced_receipts_build(prices: list[int], cash_share: int) -> None:
    """Any receipt whose payments add up to its items' sum is accepted, split across cash and card."""
    total = sum(prices)
    cash = total * cash_share // 100
    payments = [p for p in ({"type": "cash", "amount": str(Decimal(cash) / 100)},) if cash] + (
        [{"type": "card", "amount": str(Decimal(total - cash) / 100)}] if total - cash else []
    )
    body = request(
        items=[
            {"name": f"item {i}", "price": str(Decimal(p) / 100), "quantity": 1, "vat_rate": 10}
            for i, p in enumerate(prices)
        ],
        payments=payments,
    )
    assert ReceiptIn.model_validate(body).to_receipt().total_kop == total


@given(delta=st.integers(min_value=-9999, max_value=-1))
def test_underpaid_receipts_refused(delta: int) -> None:
    """Payments short of the total by any amount are refused, naming ``payments``."""
    amount = Decimal(10000 + delta) / 100
    with pytest.raises(InvalidReceipt) as caught:
        ReceiptIn.model_validate(request(payments=[{"type": "cash", "amount": str(amount)}])).to_receipt()
    assert caught.value.problems[0].loc == ("payments",)


@given(over=st.integers(min_value=1, max_value=10**6))
def test_cash_over_the_total_is_change(over: int) -> None:
    """A sale paid in cash over its total is accepted: the difference is the change."""
    amount = Decimal(10000 + over) / 100
    receipt = ReceiptIn.model_validate(request(payments=[{"type": "cash", "amount": str(amount)}])).to_receipt()
    assert (receipt.total_kop, receipt.change_kop, receipt.paid("cash")) == (10000, over, 10000 + over)


@pytest.mark.parametrize(
    ("payments", "operation"),
    [
        ([{"type": "card", "amount": "100.01"}], "sale"),
        ([{"type": "card", "amount": 60}, {"type": "prepaid", "amount": 50}], "sale"),
        ([{"type": "card", "amount": "100.01"}, {"type": "cash", "amount": 10}], "sale"),
        ([{"type": "cash", "amount": 101}], "refund"),
    ],
)
def test_overpayment_other_than_cash_on_a_sale_is_refused(payments: list[dict[str, Any]], operation: str) -> None:
    """Non-cash payments over the total, and any payment over a refund's total, are refused naming ``payments``."""
    with pytest.raises(InvalidReceipt) as caught:
        ReceiptIn.model_validate(request(payments=payments, type=operation)).to_receipt()
    assert [problem.loc for problem in caught.value.problems] == [("payments",)]


def test_cash_and_card_over_the_total_give_change_from_the_cash() -> None:
    """Card 60 and cash 50 for a 100.00 sale: the change is 10.00, from the cash."""
    body = request(payments=[{"type": "card", "amount": 60}, {"type": "cash", "amount": 50}])
    assert ReceiptIn.model_validate(body).to_receipt().change_kop == 1000


BAD_FIELDS = [
    ({"items": []}, ("items",)),
    ({"payments": []}, ("payments",)),
    ({"type": "exchange"}, ("type",)),
    ({"pos_id": ""}, ("pos_id",)),
    ({"items": [{"name": "A", "price": 1.005, "quantity": 1, "vat_rate": 20}]}, ("items", 0, "price")),
    ({"items": [{"name": "A", "price": 0, "quantity": 1, "vat_rate": 20}]}, ("items", 0, "price")),
    ({"items": [{"name": "A", "price": -5, "quantity": 1, "vat_rate": 20}]}, ("items", 0, "price")),
    ({"items": [{"name": "A", "price": 1, "quantity": 0, "vat_rate": 20}]}, ("items", 0, "quantity")),
    ({"items": [{"name": "A", "price": 1, "quantity": 1.0005, "vat_rate": 20}]}, ("items", 0, "quantity")),
    ({"items": [{"name": "A", "price": 1, "quantity": 100000, "vat_rate": 20}]}, ("items", 0, "quantity")),
    ({"items": [{"name": "A", "price": 1, "quantity": 1, "vat_rate": 18}]}, ("items", 0, "vat_rate")),
    ({"items": [{"name": "", "price": 1, "quantity": 1, "vat_rate": 20}]}, ("items", 0, "name")),
    ({"items": [{"name": "x" * 129, "price": 1, "quantity": 1, "vat_rate": 20}]}, ("items", 0, "name")),
    ({"items": [{"price": 1, "quantity": 1, "vat_rate": 20}]}, ("items", 0, "name")),
    ({"payments": [{"type": "bitcoin", "amount": 100}]}, ("payments", 0, "type")),
    ({"payments": [{"type": "cash", "amount": "NaN"}]}, ("payments", 0, "amount")),
    ({"payments": [{"type": "cash", "amount": 100.001}]}, ("payments", 0, "amount")),
    ({"payments": [{"type": "cash", "amount": True}]}, ("payments", 0, "amount")),
    ({"surprise": 1}, ("surprise",)),
]


@pytest.mark.parametrize(("overrides", "loc"), BAD_FIELDS)
def test_bad_field_is_named(overrides: dict[str, Any], loc: tuple[Any, ...]) -> None:
    """Each bad field is refused with its location."""
    with pytest.raises(ValidationError) as caught:
        ReceiptIn.model_validate(request(**overrides))
    locs = [tuple(error["loc"])[: len(loc)] for error in caught.value.errors()]
    assert loc in locs


def test_item_total_must_match() -> None:
    """An item's declared total must equal price × quantity."""
    body = request(items=[{"name": "A", "price": 100, "quantity": 1, "vat_rate": 20, "total": 90}])
    with pytest.raises(InvalidReceipt) as caught:
        ReceiptIn.model_validate(body).to_receipt()
    assert caught.value.problems[0].loc == ("items", 0, "total")


@pytest.mark.parametrize(
    ("rate", "code"),
    [
        (20, 1),
        ("20", 1),
        (10, 2),
        ("20/120", 3),
        ("10/110", 4),
        (0, 5),
        ("none", 6),
        (5, 7),
        (7, 8),
        (22, 11),
        ("22/122", 12),
    ],
)
def test_vat_rates(rate: object, code: int) -> None:
    """VAT rates map to their tag 1199 codes, as percents or as fractions."""
    body = request(items=[{"name": "A", "price": 100, "quantity": 1, "vat_rate": rate}])
    assert ReceiptIn.model_validate(body).to_receipt().items[0].vat_code == code


def test_equal_amounts_hash_alike() -> None:
    """100 and 100.00 rubles are the same request (same body hash)."""
    a = ReceiptIn.model_validate(request()).to_receipt()
    b = ReceiptIn.model_validate(
        request(
            items=[{"name": "Test Product", "price": "100.00", "quantity": "1.000", "vat_rate": "20"}],
            payments=[{"type": "cash", "amount": 100.0}],
        )
    ).to_receipt()
    assert a.body_hash() == b.body_hash()


# ---- the canonical form and its hash -----------------------------------------------------------------------------

#: The README's sale, as stored in the buffer: the form and hash of every receipt accepted so far must not change.
README_CANONICAL = {
    "pos_id": "POS-001",
    "type": "sale",
    "items": [{"name": "Test Product", "price_kop": 10000, "quantity": "1", "sum_kop": 10000, "vat_code": 1}],
    "payments": [{"type": "cash", "amount_kop": 10000}],
}
README_HASH = "4bc0b864be0938120af0b4d3e84fe8a45056bcbd96f7e467a33245853c58d7b4"


def test_readme_sale_hashes_as_before() -> None:
    """The README's sale keeps its canonical form and body hash: stored keys still match their bodies."""
    receipt = ReceiptIn.model_validate(request()).to_receipt()
    assert receipt.canonical() == README_CANONICAL
    assert receipt.body_hash() == README_HASH
    assert Receipt.from_canonical(README_CANONICAL) == receipt


def test_defaults_given_explicitly_hash_alike() -> None:
    """Naming the default codes (full payment, commodity, piece) is the same request as leaving them out."""
    item = {"name": "Test Product", "price": 100, "quantity": 1, "vat_rate": 20}
    explicit = {**item, "payment_method": "full_payment", "payment_object": 1, "measure": "piece"}
    receipt = ReceiptIn.model_validate(request(items=[explicit])).to_receipt()
    assert receipt.body_hash() == README_HASH


def test_idempotency_key_is_not_part_of_the_receipt() -> None:
    """The body's ``idempotency_key`` is exposed for the route to compare, and left out of the receipt and hash."""
    body = ReceiptIn.model_validate(request(idempotency_key="7f1c2a4e-0001"))
    assert body.idempotency_key == "7f1c2a4e-0001"
    assert body.to_receipt().body_hash() == README_HASH


FULL_REFUND = request(
    type="refund",
    items=[
        {
            "name": "Sneakers",
            "price": "4990.00",
            "quantity": 1,
            "vat_rate": 20,
            "payment_method": "prepayment",
            "payment_object": "marked_commodity",
            "measure": "other",
            "mark_code": "0104600439931256215Ngw/Q\x1d91FFD0\x1d92dGVzdA==",
        },
        {"name": "Laces", "price": 10, "quantity": 2, "vat_rate": "none", "measure": "kg"},
    ],
    payments=[{"type": "card", "amount": "5010.00"}],
    cashier={"name": "Иванова А. Б.", "inn": "500100732259"},
    customer_contact="buyer@example.ru",
    taxation="usn_income",
    original_fd_number=42,
)


def test_every_attribute_round_trips() -> None:
    """A receipt with every optional attribute set comes back equal from its canonical form, and hashes otherwise."""
    receipt = ReceiptIn.model_validate(FULL_REFUND).to_receipt()
    assert Receipt.from_canonical(json.loads(json.dumps(receipt.canonical()))) == receipt
    assert receipt.cashier == Cashier("Иванова А. Б.", "500100732259")
    assert (receipt.taxation, receipt.original_fd_number, receipt.customer_contact) == (2, 42, "buyer@example.ru")
    sneakers, laces = receipt.items
    assert (sneakers.payment_method, sneakers.payment_object, sneakers.measure) == (2, 33, 255)
    assert (laces.payment_method, laces.payment_object, laces.measure, laces.mark_code) == (4, 1, 11, None)
    assert receipt.body_hash() != ReceiptIn.model_validate({**FULL_REFUND, "taxation": "osn"}).to_receipt().body_hash()


def test_optional_attributes_appear_only_when_set() -> None:
    """The canonical form names an optional attribute only when it is set, and a line's code only when not default."""
    canonical = ReceiptIn.model_validate(request(customer_contact="+79161234567")).to_receipt().canonical()
    assert set(canonical) == {"pos_id", "type", "items", "payments", "customer_contact"}
    assert set(canonical["items"][0]) == {"name", "price_kop", "quantity", "sum_kop", "vat_code"}
