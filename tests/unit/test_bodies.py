"""The request bodies of ``kkt_adapter.testing.bodies``: the README's sale by default, fresh every call, valid."""

from __future__ import annotations

from kkt_adapter.api.schemas import CorrectionIn, ReceiptIn
from kkt_adapter.testing import bodies

#: The sale of the README's first example, as a POS sends it.
README_SALE = {
    "pos_id": "POS-001",
    "type": "sale",
    "items": [{"name": "Test Product", "price": 100, "quantity": 1, "vat_rate": 20}],
    "payments": [{"type": "cash", "amount": 100}],
}


def test_the_default_sale_is_the_readmes() -> None:
    """``sale()`` is the README's sale, key for key and in the same order."""
    assert list(bodies.sale().items()) == list(README_SALE.items())


def test_every_call_returns_a_fresh_body() -> None:
    """Changing one body's lines changes no other body."""
    first = bodies.sale()
    first["items"][0]["price"] = 5
    assert bodies.sale() == README_SALE


def test_money_is_sent_as_given() -> None:
    """Rubles stay in the form the caller wrote; ``rubles`` writes kopecks with two decimals."""
    body = bodies.sale(bodies.rubles(10_005), name="Оправа", paid_by="card")
    assert body["items"] == [{"name": "Оправа", "price": "100.05", "quantity": 1, "vat_rate": 20}]
    assert body["payments"] == [{"type": "card", "amount": "100.05"}]


def test_other_fields_replace_in_place_or_follow_the_payments() -> None:
    """A default top-level field is replaced where it stands; a new one comes after the payments."""
    body = bodies.sale(pos_id="POS-7", taxation="usn_income")
    assert list(body) == ["pos_id", "type", "items", "payments", "taxation"]
    assert (body["pos_id"], body["taxation"]) == ("POS-7", "usn_income")


def test_refund_and_correction_validate() -> None:
    """A refund names its sale; a correction carries its basis; both are valid requests of their routes."""
    refund = bodies.refund("r-1")
    assert (refund["type"], refund["original_receipt_id"]) == ("refund", "r-1")
    assert ReceiptIn.model_validate(refund).to_receipt().original_receipt_id == "r-1"
    correction = bodies.correction(basis_number="ФНС-42")
    assert list(correction)[:5] == ["pos_id", "type", "correction_type", "basis_date", "basis_number"]
    assert CorrectionIn.model_validate(correction).basis_number == "ФНС-42"


def test_an_item_carries_its_ffd_attributes() -> None:
    """Extra item fields follow the four required ones."""
    line = bodies.item("A", "10.00", 2, payment_object="service")
    assert line == {"name": "A", "price": "10.00", "quantity": 2, "vat_rate": 20, "payment_object": "service"}
