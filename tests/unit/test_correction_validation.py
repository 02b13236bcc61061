"""Correction receipts (FFD document type 31): the basis, the corrected settlement, and a 422 naming the field."""

from __future__ import annotations

import json
from datetime import date
from typing import Any

import pytest
from pydantic import ValidationError

from kkt_adapter.api.schemas import CorrectionIn, ReceiptIn
from kkt_adapter.domain.correction import CORRECTION_TYPE_CODES, Correction
from kkt_adapter.domain.errors import InvalidReceipt
from kkt_adapter.domain.receipt import Cashier
from kkt_adapter.testing import bodies


def request(**overrides: Any) -> dict[str, Any]:
    return bodies.correction(**overrides)


def test_self_correction() -> None:
    """A correction on the seller's own initiative needs only the date of the corrected settlement."""
    correction = CorrectionIn.model_validate(request()).to_correction()
    assert correction.correction_type == "self"
    assert correction.correction_type_code == 0
    assert correction.basis_date == date(2025, 11, 30)
    assert correction.basis_number is None
    assert correction.receipt.operation == "sale"
    assert correction.receipt.total_kop == 10000


def test_instruction_correction() -> None:
    """A correction by order of the tax service carries the order's number, and may carry the wrong receipt's sign."""
    body = request(
        type="refund",
        correction_type="instruction",
        basis_number=" ЕД-7-20/123 ",
        corrected_fiscal_sign="2981623349",
        cashier={"name": "Иванова", "inn": "7707083893"},
        taxation="patent",
    )
    correction = CorrectionIn.model_validate(body).to_correction()
    assert (correction.correction_type_code, correction.basis_number) == (1, "ЕД-7-20/123")
    assert correction.corrected_fiscal_sign == "2981623349"
    assert correction.receipt.operation == "refund"
    assert correction.receipt.cashier == Cashier("Иванова", "7707083893")
    assert correction.receipt.taxation == 32


def test_correction_type_codes() -> None:
    """Tag 1173: 0 on the seller's own initiative, 1 by order of the tax service."""
    assert CORRECTION_TYPE_CODES == {"self": 0, "instruction": 1}


def test_instruction_needs_its_number() -> None:
    """A correction by order without the order's number is refused, naming ``basis_number``."""
    with pytest.raises(InvalidReceipt) as caught:
        CorrectionIn.model_validate(request(correction_type="instruction")).to_correction()
    [problem] = caught.value.problems
    assert problem.loc == ("basis_number",)
    assert "required" in problem.message


def test_basis_and_balance_problems_come_together() -> None:
    """A missing order number and unbalanced payments are reported at once."""
    body = request(correction_type="instruction", payments=[{"type": "cash", "amount": 99}])
    with pytest.raises(InvalidReceipt) as caught:
        CorrectionIn.model_validate(body).to_correction()
    assert [p.loc for p in caught.value.problems] == [("basis_number",), ("payments",)]


def test_unbalanced_correction_is_refused() -> None:
    """A correction balances like a receipt: items = total = payments."""
    with pytest.raises(InvalidReceipt) as caught:
        CorrectionIn.model_validate(request(payments=[{"type": "cash", "amount": 101}])).to_correction()
    assert [p.loc for p in caught.value.problems] == [("payments",)]


def test_marking_rules_apply_to_corrections() -> None:
    """The item rules of receipts (here: a marking code on an unmarked line) hold for corrections."""
    item = {"name": "A", "price": 100, "quantity": 1, "vat_rate": 20, "mark_code": "0104", "payment_object": 4}
    with pytest.raises(InvalidReceipt) as caught:
        CorrectionIn.model_validate(request(items=[item])).to_correction()
    assert [p.loc for p in caught.value.problems] == [("items", 0, "payment_object")]


@pytest.mark.parametrize("basis_date", ["2017-01-01", "2100-12-31", "2024-02-29"])
def test_basis_date_range(basis_date: str) -> None:
    """Any real date from 2017 (online registers) to 2100 is a basis date."""
    assert CorrectionIn.model_validate(request(basis_date=basis_date)).basis_date == date.fromisoformat(basis_date)


BAD_FIELDS = [
    ({"basis_date": "2016-12-31"}, ("basis_date",)),
    ({"basis_date": "2101-01-01"}, ("basis_date",)),
    ({"basis_date": "2025-02-29"}, ("basis_date",)),
    ({"basis_date": "2025-13-01"}, ("basis_date",)),
    ({"basis_date": "30.11.2025"}, ("basis_date",)),
    ({"basis_date": "2025-11-30T00:00:00"}, ("basis_date",)),
    ({"basis_date": "20251130"}, ("basis_date",)),
    ({"basis_date": 1764460800}, ("basis_date",)),
    ({"basis_date": None}, ("basis_date",)),
    ({"correction_type": "manual"}, ("correction_type",)),
    ({"correction_type": 0}, ("correction_type",)),
    ({"type": "expense"}, ("type",)),
    ({"basis_number": ""}, ("basis_number",)),
    ({"basis_number": "n" * 65}, ("basis_number",)),
    ({"corrected_fiscal_sign": ""}, ("corrected_fiscal_sign",)),
    ({"corrected_fiscal_sign": "12345678901"}, ("corrected_fiscal_sign",)),
    ({"corrected_fiscal_sign": "4294967296"}, ("corrected_fiscal_sign",)),
    ({"corrected_fiscal_sign": "29816x3349"}, ("corrected_fiscal_sign",)),
    ({"corrected_fiscal_sign": "-1"}, ("corrected_fiscal_sign",)),
    ({"corrected_fiscal_sign": 2981623349}, ("corrected_fiscal_sign",)),
    ({"items": []}, ("items",)),
    ({"payments": []}, ("payments",)),
    ({"taxation": "usn"}, ("taxation",)),
    ({"cashier": {"name": "A", "inn": "7707083894"}}, ("cashier", "inn")),
    ({"idempotency_key": "trailing space "}, ("idempotency_key",)),
    ({"customer_contact": "buyer@example.ru"}, ("customer_contact",)),
    ({"original_fd_number": 42}, ("original_fd_number",)),
]


@pytest.mark.parametrize(("overrides", "loc"), BAD_FIELDS)
def test_bad_field_is_named(overrides: dict[str, Any], loc: tuple[str, ...]) -> None:
    """Each bad field is refused with its location (and fields a correction does not take are refused too)."""
    with pytest.raises(ValidationError) as caught:
        CorrectionIn.model_validate(request(**overrides))
    assert [tuple(error["loc"])[: len(loc)] for error in caught.value.errors()] == [loc]


@pytest.mark.parametrize("field", ["pos_id", "type", "correction_type", "basis_date", "items", "payments"])
def test_required_fields(field: str) -> None:
    """A correction without one of its required fields is refused, naming it."""
    body = request()
    del body[field]
    with pytest.raises(ValidationError) as caught:
        CorrectionIn.model_validate(body)
    assert [error["loc"] for error in caught.value.errors()] == [(field,)]


def test_basis_date_message_says_what_is_allowed() -> None:
    """A wrong basis date's message gives the format and the range."""
    with pytest.raises(ValidationError) as caught:
        CorrectionIn.model_validate(request(basis_date="2025-02-29"))
    assert "YYYY-MM-DD, from 2017-01-01 to 2100-12-31" in caught.value.errors()[0]["msg"]


def test_fiscal_sign_is_a_number() -> None:
    """A zero-padded fiscal sign is the same sign (and the same body hash) as the unpadded one."""
    padded = CorrectionIn.model_validate(request(corrected_fiscal_sign="0012")).to_correction()
    plain = CorrectionIn.model_validate(request(corrected_fiscal_sign="12")).to_correction()
    assert padded.corrected_fiscal_sign == "12"
    assert padded.body_hash() == plain.body_hash()


def test_round_trip_and_hash() -> None:
    """A correction comes back equal from its stored canonical form; any change of the basis changes the hash."""
    body = request(
        correction_type="instruction",
        basis_number="123",
        corrected_fiscal_sign="2981623349",
        idempotency_key="corr-1",
        items=[{"name": "A", "price": 100, "quantity": 1, "vat_rate": 20, "mark_code": "0104\x1d21x"}],
    )
    correction = CorrectionIn.model_validate(body).to_correction()
    stored = json.loads(json.dumps(correction.canonical()))
    assert Correction.from_canonical(stored) == correction
    assert Correction.from_canonical(stored).body_hash() == correction.body_hash()
    hashes = {
        correction.body_hash(),
        CorrectionIn.model_validate({**body, "basis_number": "124"}).to_correction().body_hash(),
        CorrectionIn.model_validate({**body, "basis_date": "2025-11-29"}).to_correction().body_hash(),
        CorrectionIn.model_validate({**body, "corrected_fiscal_sign": "1"}).to_correction().body_hash(),
        CorrectionIn.model_validate({**body, "correction_type": "self"}).to_correction().body_hash(),
    }
    assert len(hashes) == 5


def test_canonical_form() -> None:
    """The canonical form nests the receipt's and names unset optional attributes not at all."""
    correction = CorrectionIn.model_validate(request()).to_correction()
    receipt = ReceiptIn.model_validate({k: v for k, v in request().items() if k in ReceiptIn.model_fields}).to_receipt()
    assert correction.canonical() == {
        "receipt": receipt.canonical(),
        "correction_type": "self",
        "basis_date": "2025-11-30",
    }
    assert correction.body_hash() != receipt.body_hash()


def test_idempotency_key_is_not_part_of_the_correction() -> None:
    """The body's key is exposed for the route and left out of the correction's hash."""
    body = CorrectionIn.model_validate(request(idempotency_key="corr-1"))
    assert body.idempotency_key == "corr-1"
    assert body.to_correction().body_hash() == CorrectionIn.model_validate(request()).to_correction().body_hash()
