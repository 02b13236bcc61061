"""FD numbering (tag 1040) and shifts (1038, 1042) as the fiscal notes' "Numbering" section states them."""

from __future__ import annotations

import pytest

from kkt_clock import ManualClock
from kkt_emulators.device import (
    DOC_CORRECTION,
    DOC_RECEIPT,
    DOC_REGISTRATION,
    DOC_SHIFT_CLOSING,
    DOC_SHIFT_OPENING,
    EmulatedKKT,
    ShiftAlreadyOpen,
    ShiftExpired,
    ShiftNotOpen,
)

from .helpers import KKTFactory, correction, sale

DAY = 24 * 3600


def test_fd_numbers_are_continuous_and_gap_free_across_restarts(make_kkt: KKTFactory) -> None:
    """Every document counts and a restart never resets the counter: registration 1, shift opening 2, receipts 3…"""
    first = make_kkt()
    printed = [first.print_receipt(sale(), idempotency_key=f"a-{i}").fd_number for i in range(3)]
    first.close()
    second = make_kkt()
    printed += [second.print_receipt(sale(), idempotency_key=f"b-{i}").fd_number for i in range(3)]
    assert printed == [3, 4, 5, 6, 7, 8]
    journal = second.journal()
    assert [doc.fd_number for doc in journal] == list(range(1, 9))
    assert [doc.doc_type for doc in journal[:3]] == [DOC_REGISTRATION, DOC_SHIFT_OPENING, DOC_RECEIPT]
    assert second.status().last_fd_number == 8


def test_fd_numbers_are_continuous_over_every_kind_of_document(make_kkt: KKTFactory) -> None:
    """Receipts, corrections, shift openings and Z reports all take the next FD number; 1042 restarts per shift."""
    kkt = make_kkt(clock=ManualClock())
    kkt.open_shift(idempotency_key="open-1")
    kkt.print_receipt(sale(), idempotency_key="r1")
    kkt.print_correction(correction(), idempotency_key="c1")
    kkt.close_shift(idempotency_key="close-1")
    kkt.print_correction(correction(), idempotency_key="c2")  # opens shift 2 by itself
    kkt.print_receipt(sale(), idempotency_key="r2")
    kkt.close_shift()
    journal = kkt.journal()
    assert [doc.fd_number for doc in journal] == list(range(1, 10))
    assert [(doc.doc_type, doc.shift_number, doc.receipt_number) for doc in journal] == [
        (DOC_REGISTRATION, 0, None),
        (DOC_SHIFT_OPENING, 1, None),
        (DOC_RECEIPT, 1, 1),
        (DOC_CORRECTION, 1, 2),
        (DOC_SHIFT_CLOSING, 1, None),
        (DOC_SHIFT_OPENING, 2, None),
        (DOC_CORRECTION, 2, 1),
        (DOC_RECEIPT, 2, 2),
        (DOC_SHIFT_CLOSING, 2, None),
    ]
    assert [doc.idempotency_key for doc in journal if doc.idempotency_key] == [
        "open-1",
        "r1",
        "c1",
        "close-1",
        "c2",
        "r2",
    ]


def test_first_receipt_opens_a_shift_automatically(kkt: EmulatedKKT) -> None:
    """With no open shift, a receipt is preceded by a shift opening report that consumes its own FD number."""
    assert not kkt.status().shift_open
    doc = kkt.print_receipt(sale(), idempotency_key="k")
    opening = kkt.find_by_number(doc.fd_number - 1)
    assert opening is not None
    assert opening.doc_type == DOC_SHIFT_OPENING
    assert opening.shift_number == doc.shift_number == 1
    assert (doc.receipt_number, doc.tags["1042"]) == (1, 1)
    status = kkt.status()
    assert (status.shift_open, status.shift_number, status.receipts_in_shift) == (True, 1, 1)


def test_receipt_number_in_shift_restarts_after_close_shift(kkt: EmulatedKKT) -> None:
    """The receipt number (1042) restarts at 1 in each shift; the shift number (1038) goes up by one."""
    first_shift = [kkt.print_receipt(sale(), idempotency_key=f"a-{i}") for i in range(3)]
    z_report = kkt.close_shift()
    second = kkt.print_receipt(sale(), idempotency_key="b")
    assert [doc.receipt_number for doc in first_shift] == [1, 2, 3]
    assert z_report.doc_type == DOC_SHIFT_CLOSING
    assert (z_report.tags["1118"], z_report.tags["1111"]) == (3, 5)  # receipts; documents incl. open and close
    assert (second.shift_number, second.receipt_number) == (2, 1)
    assert second.fd_number == z_report.fd_number + 2  # a shift opening in between


def test_shift_state_survives_a_restart(make_kkt: KKTFactory) -> None:
    """The open shift and its receipt count are persisted, so a new instance continues the same shift."""
    first = make_kkt()
    first.print_receipt(sale(), idempotency_key="a")
    first.close()
    doc = make_kkt().print_receipt(sale(), idempotency_key="b")
    assert (doc.shift_number, doc.receipt_number) == (1, 2)


def test_open_shift_twice_is_refused_and_close_without_shift_is_refused(kkt: EmulatedKKT) -> None:
    """A shift cannot be opened over an open one, nor closed when none is open; nothing is numbered."""
    with pytest.raises(ShiftNotOpen):
        kkt.close_shift()
    opening = kkt.open_shift()
    assert (opening.doc_type, opening.fd_number, opening.qr, opening.receipt_number) == (
        DOC_SHIFT_OPENING,
        2,
        None,
        None,
    )
    with pytest.raises(ShiftAlreadyOpen) as caught:
        kkt.open_shift()
    assert caught.value.code == "shift_open"
    assert kkt.status().last_fd_number == 2


def test_receipts_are_refused_after_24_hours_until_the_shift_is_closed(make_kkt: KKTFactory) -> None:
    """A shift stays open at most 24 h; after that receipts fail with ShiftExpired (ATOL error 68) until a Z report."""
    clock = ManualClock()
    kkt = make_kkt(clock=clock)
    kkt.print_receipt(sale(), idempotency_key="a")
    clock.advance(DAY - 1)
    assert kkt.print_receipt(sale(), idempotency_key="b").receipt_number == 2
    clock.advance(2)
    before = kkt.status()
    assert before.shift_expired
    with pytest.raises(ShiftExpired) as caught:
        kkt.print_receipt(sale(), idempotency_key="c")
    assert (caught.value.code, caught.value.printed) == ("shift_expired", False)
    assert kkt.status().last_fd_number == before.last_fd_number
    assert kkt.find_by_key("c") is None
    kkt.close_shift()
    doc = kkt.print_receipt(sale(), idempotency_key="c")
    assert (doc.shift_number, doc.receipt_number) == (2, 1)
    assert not kkt.status().shift_expired


def test_shift_expiry_is_seen_by_a_reopened_instance(make_kkt: KKTFactory) -> None:
    """The shift's opening time is persisted: a restart does not give the shift another 24 hours."""
    clock = ManualClock()
    first = make_kkt(clock=clock)
    first.print_receipt(sale(), idempotency_key="a")
    first.close()
    clock.advance(DAY + 60)
    with pytest.raises(ShiftExpired):
        make_kkt(clock=clock).print_receipt(sale(), idempotency_key="b")


def test_document_time_is_local_and_never_goes_back(make_kkt: KKTFactory) -> None:
    """Times are the device's local time (UTC+3 by default); a clock moved back stamps the last document's time."""
    clock = ManualClock(start_wall=1_764_504_000.0)  # 2025-11-30 12:00:00 UTC
    kkt = make_kkt(clock=clock)
    doc = kkt.print_receipt(sale(), idempotency_key="a")
    assert doc.tags["1012"] == "2025-11-30T15:00:00"
    assert doc.fiscal_datetime.utcoffset() is not None
    assert doc.fiscal_datetime.timestamp() == 1_764_504_000
    clock.set_wall(1_764_504_000.0 - 3600)
    later = kkt.print_receipt(sale(), idempotency_key="b")
    assert later.fiscal_datetime >= doc.fiscal_datetime
