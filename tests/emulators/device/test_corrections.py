"""Correction receipts (document type 31; fiscal notes, "A store's fiscal day"): numbered, signed and counted like
receipts, with their type (1173) and basis (1174)."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from typing import Any

import pytest

from kkt_clock import ManualClock
from kkt_emulators import fiscal
from kkt_emulators.device import (
    DOC_CORRECTION,
    DOC_RECEIPT,
    DOC_SHIFT_OPENING,
    CorrectionTask,
    EmulatedKKT,
    InvalidTask,
    PaperOut,
    ShiftExpired,
)
from kkt_emulators.device.validation import validate_correction

from .helpers import DAY, KKTFactory, correction, sale

TODAY = date(2025, 11, 30)  # ManualClock's default start, in Moscow


@pytest.fixture
def kkt(make_kkt: KKTFactory) -> EmulatedKKT:
    """A device on a manual clock: today is :data:`TODAY`."""
    return make_kkt(clock=ManualClock())


def test_a_correction_is_document_31_with_its_basis_and_a_qr(kkt: EmulatedKKT) -> None:
    """Type 31 with 1173, 1174 = {1178, 1179}, 1192, the receipt's sums and items, a verifiable sign and a QR."""
    task = correction(
        25_000,
        operation=2,
        correction_type=1,
        basis_date=date(2025, 11, 20),
        basis_number="ПР-17",
        corrected_fiscal_sign="2981623349",
        cash=False,
    )
    doc = kkt.print_correction(task, idempotency_key="corr-1")
    tags = doc.tags
    assert (doc.doc_type, tags["1000"], doc.operation, tags["1054"]) == (DOC_CORRECTION, 31, 2, 2)
    assert (tags["1173"], tags["1174"], tags["1192"]) == (1, {"1178": "2025-11-20", "1179": "ПР-17"}, "2981623349")
    assert (tags["1020"], tags["1081"], tags["1031"], tags["1055"]) == (25_000, 25_000, 0, 1)
    assert tags["1059"][0]["1200"] == fiscal.vat_included(25_000, 1)
    assert fiscal.verify_fiscal_sign(tags, kkt.registration.fn_secret)
    assert doc.qr is not None
    match = fiscal.QR_PATTERN.fullmatch(doc.qr)
    assert match is not None
    assert match.groups()[1:] == ("250.00", doc.fn_number, str(doc.fd_number), str(doc.fiscal_sign), "2")


def test_a_correction_of_the_sellers_own_carries_no_order_number_nor_1192(kkt: EmulatedKKT) -> None:
    """Correction type 0 needs no order number: 1174 holds the date alone, and 1192 is absent when not given."""
    doc = kkt.print_correction(correction(), idempotency_key="c")
    assert doc.tags["1174"] == {"1178": "2025-11-01"}
    assert "1192" not in doc.tags


def test_corrections_share_fd_and_receipt_numbering_with_receipts(kkt: EmulatedKKT) -> None:
    """A correction opens a shift like a receipt, and takes the next FD number and receipt number (1042)."""
    first = kkt.print_correction(correction(), idempotency_key="c-1")
    opening = kkt.find_by_number(first.fd_number - 1)
    assert opening is not None
    assert opening.doc_type == DOC_SHIFT_OPENING
    receipt = kkt.print_receipt(sale(), idempotency_key="r-1")
    second = kkt.print_correction(correction(), idempotency_key="c-2")
    assert [(d.fd_number, d.receipt_number, d.doc_type) for d in (first, receipt, second)] == [
        (3, 1, DOC_CORRECTION),
        (4, 2, DOC_RECEIPT),
        (5, 3, DOC_CORRECTION),
    ]
    z = kkt.close_shift()
    assert (z.tags["1118"], z.tags["1111"]) == (3, 5)


def test_a_correction_is_idempotent_by_key(kkt: EmulatedKKT) -> None:
    """A repeated key returns the first correction and prints nothing, even with the paper out."""
    doc = kkt.print_correction(correction(), idempotency_key="c")
    kkt.set_fault("paper_out")
    assert kkt.print_correction(correction(), idempotency_key="c") == doc
    assert kkt.status().last_fd_number == doc.fd_number
    with pytest.raises(PaperOut):
        kkt.print_correction(correction(), idempotency_key="c-2")


def test_a_key_of_another_kind_of_document_is_refused(kkt: EmulatedKKT) -> None:
    """A receipt's key reused for a correction (or the reverse) is a client's error, not a replay."""
    kkt.print_receipt(sale(), idempotency_key="k")
    with pytest.raises(InvalidTask, match="другого типа"):
        kkt.print_correction(correction(), idempotency_key="k")
    kkt.print_correction(correction(), idempotency_key="c")
    with pytest.raises(InvalidTask, match="другого типа"):
        kkt.print_receipt(sale(), idempotency_key="c")


def test_print_receipt_refuses_a_correction_task(kkt: EmulatedKKT) -> None:
    """A CorrectionTask is a ReceiptTask by its fields, but prints only as a correction."""
    with pytest.raises(InvalidTask, match="print_correction"):
        kkt.print_receipt(correction(), idempotency_key="k")
    assert kkt.status().last_fd_number == 1


def test_a_correction_is_refused_in_an_expired_shift(make_kkt: KKTFactory) -> None:
    """The 24-hour shift limit applies to corrections as to receipts."""
    clock = ManualClock()
    kkt = make_kkt(clock=clock)
    kkt.print_receipt(sale(), idempotency_key="r")
    clock.advance(DAY + 1)
    with pytest.raises(ShiftExpired):
        kkt.print_correction(correction(), idempotency_key="c")


def _invalid(**changes: Any) -> CorrectionTask:
    return replace(correction(), **changes)


INVALID: dict[str, CorrectionTask] = {
    "correction type 2 (1173)": _invalid(correction_type=2),
    "by order without an order number (1179)": _invalid(correction_type=1),
    "empty order number": _invalid(basis_number=" "),
    "order number of 33 characters": _invalid(basis_number="1" * 33),
    "basis date tomorrow (1178)": _invalid(basis_date=date(2025, 12, 1)),
    "basis date as text": _invalid(basis_date="2025-11-01"),
    "fiscal sign with letters (1192)": _invalid(corrected_fiscal_sign="12ab"),
    "fiscal sign over uint32": _invalid(corrected_fiscal_sign="4294967296"),
    "unbalanced payments": _invalid(cash_kop=1),
    "operation 5": _invalid(operation=5),
    "wrong customer contact": _invalid(customer_contact="nobody"),
}


@pytest.mark.parametrize("task", INVALID.values(), ids=INVALID.keys())
def test_an_invalid_correction_is_refused_with_nothing_printed(kkt: EmulatedKKT, task: CorrectionTask) -> None:
    """Each broken correction raises InvalidTask and uses no FD number."""
    with pytest.raises(InvalidTask):
        kkt.print_correction(task, idempotency_key="k")
    assert kkt.status().last_fd_number == 1


def test_the_basis_date_may_be_today() -> None:
    """The corrected settlement may have been today's: only a later date is refused."""
    validate_correction(correction(basis_date=TODAY), today=TODAY)
    with pytest.raises(InvalidTask):
        validate_correction(correction(basis_date=TODAY), today=date(2025, 11, 29))


def test_print_correction_refuses_a_plain_receipt_task(kkt: EmulatedKKT) -> None:
    """A correction needs its type and basis: a ReceiptTask is not enough."""
    with pytest.raises(InvalidTask):
        kkt.print_correction(sale(), idempotency_key="k")  # type: ignore[arg-type]
