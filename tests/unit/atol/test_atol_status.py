"""The ATOL JSON-task mapping of the device's state, pure: the FN's status and warnings, the Z report's totals and
the open shift's report; explicit tables, no I/O."""

from __future__ import annotations

from datetime import UTC, datetime

from kkt_adapter.devices.atol import status, wire

FN_INFO = {
    "fnInfo": {
        "serial": "9999078900000961",
        "validityDate": "2027-02-01T00:00:00+03:00",
        "ffdVersion": "1.2",
        "warnings": {"needReplacement": True, "memoryOverflow": False, "ofdTimeout": True},
    }
}
FN = {"fnStatus": {"fiscalDocumentNumber": 120, "fiscalReceiptNumber": 7}}


def test_fn_status_reads_unsent_documents_warnings_and_the_30_day_block() -> None:
    """Unsent count, first unsent number and date, warnings by the adapter's names; a first unsent document older
    than 30 days is the OFD block."""
    ofd = {
        "status": {
            "notSentCount": 3,
            "notSentFirstDocNumber": 118,
            "notSentFirstDocDateTime": "2026-10-01T10:00:00+03:00",
        }
    }
    fn = status.fn_status(FN_INFO, FN, ofd, now=datetime(2026, 11, 29, tzinfo=UTC))
    assert (fn.fn_number, fn.validity_date, fn.ffd_version, fn.documents_count) == (
        "9999078900000961",
        "2027-02-01",
        "1.2",
        120,
    )
    assert (fn.unsent_count, fn.first_unsent_fd_number, fn.first_unsent_at) == (3, 118, "2026-10-01T10:00:00+03:00")
    assert fn.warnings == ("replace_soon", "ofd_timeout")
    assert fn.blocked == "fn_ofd_timeout_30_days"
    recent = status.fn_status(FN_INFO, FN, ofd, now=datetime(2026, 10, 20, tzinfo=UTC))
    assert recent.blocked is None


def test_fn_status_with_nothing_unsent_and_an_expired_fn() -> None:
    """No unsent documents means no first number or date; a validity date passed is the FN expired."""
    ofd = {"status": {"notSentCount": 0, "notSentFirstDocNumber": 0, "notSentFirstDocDateTime": "2000-01-01T00:00:00"}}
    fn = status.fn_status(FN_INFO, FN, ofd, now=datetime(2027, 3, 1, tzinfo=UTC))
    assert (fn.unsent_count, fn.first_unsent_fd_number, fn.first_unsent_at) == (0, None, None)
    assert fn.blocked == "fn_expired"


def test_the_z_report_totals_come_from_the_fn_counters_of_close_shift() -> None:
    """closeShift's receiptsCount, fnTotals and fnQuantityCounters become the Z report's totals, net by payment."""
    answer = wire.loads(
        '{"fiscalParams": {"fiscalDocumentNumber": 30, "shiftNumber": 4, "receiptsCount": 3,'
        ' "fnTotals": {"receipts": {"sell": {"sum": 500.50, "payments": {"cash": 300.25, "electronically": 200.25}},'
        ' "sellReturn": {"sum": 100, "payments": {"cash": 100}}}},'
        ' "fnQuantityCounters": {"receipts": {"sell": 2, "sellReturn": 1}}}}'
    )
    report = status.closed_shift_report(answer)
    assert (report.shift_number, report.open, report.receipts, report.documents) == (4, False, 3, 5)
    assert report.totals_by_operation == {"sale": 50_050, "refund": 10_000}
    assert report.counts_by_operation == {"sale": 2, "refund": 1}
    assert report.totals_by_payment == {"cash": 20_025, "electronic": 20_025, "prepaid": 0, "credit": 0, "provision": 0}


def test_the_open_shift_report_reads_state_number_expiry_and_receipts() -> None:
    """getShiftStatus and getFnStatus give the shift's state, number, expiry and receipts so far."""
    shift = {"shiftStatus": {"state": "expired", "number": 12, "expiredTime": "2026-11-29T09:00:00+03:00"}}
    report = status.shift_report(shift, FN)
    assert (report.open, report.expired, report.shift_number, report.receipts) == (True, True, 12, 7)
    assert report.expires_at == "2026-11-29T09:00:00+03:00"
    closed = status.shift_report({"shiftStatus": {"state": "closed", "number": 12}}, FN)
    assert (closed.open, closed.receipts, closed.expires_at) == (False, 0, None)
