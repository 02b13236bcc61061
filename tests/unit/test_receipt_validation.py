"""Receipt requests: exact money, balanced sums, FFD 1.2 attributes, and a 422 naming the field for anything wrong."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from kkt_adapter.api.schemas import ReceiptIn
from kkt_adapter.domain.errors import InvalidReceipt
from kkt_adapter.domain.money import line_sum, to_kopecks
from kkt_adapter.domain.receipt import Cashier, Receipt
from kkt_adapter.testing import bodies


def request(**overrides: Any) -> dict[str, Any]:
    return bodies.sale(**overrides)


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


@given(delta=st.integers(min_value=-9999, max_value=10**6).filter(lambda d: d != 0))
def test_unbalanced_receipts_refused(delta: int) -> None:
    """Payments that differ from the total by any amount are refused, naming ``payments``."""
    amount = Decimal(10000 + delta) / 100
    with pytest.raises(InvalidReceipt) as caught:
        ReceiptIn.model_validate(request(payments=[{"type": "cash", "amount": str(amount)}])).to_receipt()
    assert caught.value.problems[0].loc == ("payments",)


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


# ---- FFD 1.2 codes ---------------------------------------------------------------------------------------------


def item_with(**fields: Any) -> dict[str, Any]:
    return request(items=[bodies.item("A", **fields)])


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

MARK = "0104600439931256215Ngw/Q\x1d91FFD0\x1d92dGVzdA=="


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
    ["buyer@example.ru", "first.last+tag@mail.example.com", "+79161234567", "+123456789012345", " a@b.co "],
)
def test_customer_contact_accepted(contact: str) -> None:
    """An e-mail or a phone as + and 11–15 digits is the customer's contact (1008)."""
    receipt = ReceiptIn.model_validate(request(customer_contact=contact)).to_receipt()
    assert receipt.customer_contact == contact.strip()


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
        "79161234567",
        "+7916123456",
        "+1234567890123456",
        "+7 916 123-45-67",
        "x" * 55 + "@example.ru",
        "покупатель@пример.рф",
    ],
)
def test_bad_customer_contact_is_named(contact: str) -> None:
    """Anything else is refused, naming ``customer_contact`` and the two allowed forms."""
    with pytest.raises(ValidationError) as caught:
        ReceiptIn.model_validate(request(customer_contact=contact))
    [error] = caught.value.errors()
    assert error["loc"] == ("customer_contact",)
    assert "e-mail" in error["msg"] and "+ and 11–15 digits" in error["msg"]


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
        ({"idempotency_key": "with space"}, ("idempotency_key",)),
        ({"idempotency_key": "k" * 129}, ("idempotency_key",)),
        ({"idempotency_key": "ключ"}, ("idempotency_key",)),
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
