"""The two emulators agree: every kind of document the device prints, with every FFD 1.2 attribute, passes the mock
OFD's document checks."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from kkt_clock import ManualClock
from kkt_emulators.device import CorrectionTask, ReceiptTask, TaskItem
from kkt_emulators.validation import check_document

from .helpers import DAY, KKTFactory

MARKED = TaskItem(
    name="Молоко",
    price_kop=8_990,
    quantity=Decimal(1),
    sum_kop=8_990,
    vat_code=2,
    payment_object=33,
    mark_code="0104600439931256215Qbag!\x1d93Zjqw",
)


def test_every_document_type_is_accepted_by_the_mock_ofd(make_kkt: KKTFactory) -> None:
    """Registration (two taxation systems), shift opening, receipt, correction and Z report with flags raised."""
    clock = ManualClock()
    kkt = make_kkt(clock=clock, taxation=1 | 2)
    kkt.print_receipt(
        ReceiptTask(
            operation=1,
            items=(MARKED,),
            cash_kop=8_990,
            cashier_name="Иванова А. А.",
            cashier_inn="500100732259",
            customer_contact="+79161234567",
            taxation=2,
        ),
        idempotency_key="receipt",
    )
    kkt.print_correction(
        CorrectionTask(
            operation=2,
            items=(MARKED,),
            electronic_kop=8_990,
            taxation=1,
            correction_type=1,
            basis_date=date(2025, 11, 1),
            basis_number="17",
            corrected_fiscal_sign="2981623349",
        ),
        idempotency_key="correction",
    )
    clock.advance(26 * DAY)  # the Z report raises 1053 and reports unsent documents (1097, 1098)
    z = kkt.close_shift()
    assert (z.tags["1053"], z.tags["1097"]) == (True, 4)
    secrets = {kkt.registration.fn_number: kkt.registration.fn_secret}
    journal = kkt.journal()
    assert [doc.doc_type for doc in journal] == [1, 2, 3, 31, 5]
    for doc in journal:
        assert check_document({"fiscal_document": doc.tags}, secrets) is None, doc.doc_type
