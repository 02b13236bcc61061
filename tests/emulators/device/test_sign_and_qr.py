"""The fiscal sign (1077) and the QR string, as the fiscal notes' "QR code string" and "fiscal sign" sections say."""

from __future__ import annotations

from decimal import Decimal

import pytest

from kkt_emulators import fiscal
from kkt_emulators.device import EmulatedKKT, FiscalDocument, ReceiptTask, TaskItem

from .helpers import sale


def test_fiscal_sign_verifies_with_the_fn_secret(kkt: EmulatedKKT) -> None:
    """A mock OFD that knows the FN's secret verifies the receipt's sign over its tag JSON."""
    doc = kkt.print_receipt(sale(), idempotency_key="k")
    assert 0 <= doc.fiscal_sign <= 4_294_967_295
    assert doc.tags["1077"] == doc.fiscal_sign
    assert fiscal.verify_fiscal_sign(doc.tags, kkt.registration.fn_secret)


@pytest.mark.parametrize(("tag", "value"), [("1020", 10_001), ("1040", 99), ("1041", "0" * 16), ("1012", "x")])
def test_fiscal_sign_breaks_when_a_tag_changes(kkt: EmulatedKKT, tag: str, value: object) -> None:
    """A document changed after signing fails verification, as it would at a real OFD."""
    doc = kkt.print_receipt(sale(), idempotency_key="k")
    assert not fiscal.verify_fiscal_sign({**doc.tags, tag: value}, kkt.registration.fn_secret)


def test_fiscal_sign_breaks_with_another_fn_secret(kkt: EmulatedKKT) -> None:
    """Only the FN's own secret verifies its documents."""
    doc = kkt.print_receipt(sale(), idempotency_key="k")
    assert not fiscal.verify_fiscal_sign(doc.tags, bytes(32))


def test_every_document_in_the_journal_is_signed(kkt: EmulatedKKT) -> None:
    """Registration, shift opening, receipts and Z reports all carry a verifiable fiscal sign."""
    kkt.print_receipt(sale(), idempotency_key="k")
    kkt.close_shift()
    journal = kkt.journal()
    assert len(journal) == 4
    assert all(fiscal.verify_fiscal_sign(doc.tags, kkt.registration.fn_secret) for doc in journal)


@pytest.mark.parametrize(("operation", "n"), [(1, "1"), (2, "2"), (3, "3"), (4, "4")])
def test_qr_string_matches_the_fns_format(kkt: EmulatedKKT, operation: int, n: str) -> None:
    """The QR reads t, s (rubles.kopecks), fn, i (FD number), fp (fiscal sign) and n (1 sale, 2 refund)."""
    doc = kkt.print_receipt(sale(250_000, operation=operation), idempotency_key="k")
    assert doc.qr is not None
    match = fiscal.QR_PATTERN.fullmatch(doc.qr)
    assert match is not None
    t, s, fn, i, fp, got_n = match.groups()
    assert t == doc.fiscal_datetime.strftime("%Y%m%dT%H%M")
    assert (s, fn, i, fp, got_n) == ("2500.00", doc.fn_number, str(doc.fd_number), str(doc.fiscal_sign), n)
    assert doc.operation == doc.tags["1054"] == operation


def test_receipt_tags_balance_and_carry_vat(kkt: EmulatedKKT) -> None:
    """Item sums add up to 1020, which equals the payments; 1200 holds the VAT included at the item's rate."""
    items = (
        TaskItem(name="Сыр", price_kop=1245, quantity=Decimal("7"), sum_kop=8715, vat_code=2),
        TaskItem(name="Яблоки", price_kop=9990, quantity=Decimal("1.255"), sum_kop=12537, vat_code=1, measure=11),
    )
    task = ReceiptTask(operation=1, items=items, cash_kop=1237, electronic_kop=20_015)
    doc = kkt.print_receipt(task, idempotency_key="k")
    tags = doc.tags
    assert sum(item["1043"] for item in tags["1059"]) == tags["1020"] == doc.total_kop == 21_252
    assert tags["1031"] + tags["1081"] + tags["1215"] + tags["1216"] + tags["1217"] == tags["1020"]
    assert [item["1023"] for item in tags["1059"]] == ["7", "1.255"]
    assert [item["1200"] for item in tags["1059"]] == [fiscal.vat_included(8715, 2), fiscal.vat_included(12537, 1)]
    assert tags["1018"] == kkt.registration.inn
    assert tags["1037"] == doc.kkt_reg_number == kkt.registration.reg_number


def test_fiscal_document_round_trips_through_json(kkt: EmulatedKKT) -> None:
    """to_dict is JSON-safe and from_dict rebuilds an equal document (what the adapter stores and reloads)."""
    import json

    doc = kkt.print_receipt(sale(), idempotency_key="k")
    again = FiscalDocument.from_dict(json.loads(json.dumps(doc.to_dict())))
    assert again == doc
    assert again.fiscal_datetime.utcoffset() == doc.fiscal_datetime.utcoffset()
    assert fiscal.verify_fiscal_sign(again.tags, kkt.registration.fn_secret)
