"""A store's fiscal day (fiscal notes, "A store's fiscal day"): shift reports idempotent by key, the X report's
counters, the Z report's tags, and every shift's totals kept across restarts."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from kkt_clock import ManualClock
from kkt_emulators import fiscal
from kkt_emulators.device import (
    DOC_SHIFT_CLOSING,
    DOC_SHIFT_OPENING,
    DeviceOffline,
    EmulatedKKT,
    InvalidTask,
    PaperOut,
    ReceiptTask,
    ShiftAlreadyOpen,
    ShiftNotOpen,
)

from .helpers import DAY, KKTFactory, correction, sale

START = 1_764_504_000.0  # ManualClock's default: 2025-11-30 12:00 UTC, 15:00 in Moscow


@pytest.fixture
def clock() -> ManualClock:
    """The device's clock."""
    return ManualClock(start_wall=START)


@pytest.fixture
def kkt(make_kkt: KKTFactory, clock: ManualClock) -> EmulatedKKT:
    """A device on the manual clock."""
    return make_kkt(clock=clock)


def _paid(total: int, *, cash: int = 0, electronic: int = 0, prepaid: int = 0, operation: int = 1) -> ReceiptTask:
    base = sale(total, operation=operation)
    return ReceiptTask(operation, base.items, cash, electronic, prepaid)


def test_open_shift_with_a_key_prints_once(kkt: EmulatedKKT) -> None:
    """A repeated key returns the first opening report and prints nothing; its shift is still the open one."""
    first = kkt.open_shift(idempotency_key="open-1")
    again = kkt.open_shift(idempotency_key="open-1")
    assert again == first
    assert (first.doc_type, first.idempotency_key, kkt.status().last_fd_number) == (DOC_SHIFT_OPENING, "open-1", 2)
    kkt.set_fault("offline")
    assert kkt.open_shift(idempotency_key="open-1") == first  # the journal answers; the device is not asked


def test_close_shift_with_a_key_prints_once_even_after_the_next_shift_opened(kkt: EmulatedKKT) -> None:
    """A repeated key returns the first Z report, also once another shift is open, instead of closing that one."""
    kkt.print_receipt(sale(), idempotency_key="r")
    z = kkt.close_shift(idempotency_key="close-1")
    kkt.open_shift()
    assert kkt.close_shift(idempotency_key="close-1") == z
    status = kkt.status()
    assert (status.shift_open, status.shift_number, status.last_fd_number) == (True, 2, 5)
    assert z.doc_type == DOC_SHIFT_CLOSING


def test_without_a_key_a_repeated_shift_command_is_refused(kkt: EmulatedKKT) -> None:
    """Without a key the device does what it is told: a second opening or closing has nothing to do."""
    kkt.open_shift()
    with pytest.raises(ShiftAlreadyOpen):
        kkt.open_shift()
    kkt.close_shift()
    with pytest.raises(ShiftNotOpen):
        kkt.close_shift()


def test_a_new_key_on_an_open_shift_is_refused(kkt: EmulatedKKT) -> None:
    """A key identifies a request, not a state: a new key asking to open an open shift is ShiftAlreadyOpen."""
    kkt.open_shift(idempotency_key="a")
    with pytest.raises(ShiftAlreadyOpen):
        kkt.open_shift(idempotency_key="b")
    assert kkt.find_by_key("b") is None


def test_a_receipts_key_cannot_open_or_close_a_shift(kkt: EmulatedKKT) -> None:
    """Keys share one journal: a receipt's key given to a shift command is refused, not answered with the receipt."""
    kkt.print_receipt(sale(), idempotency_key="r")
    with pytest.raises(InvalidTask):
        kkt.close_shift(idempotency_key="r")
    with pytest.raises(InvalidTask):
        kkt.open_shift(idempotency_key="")


def test_x_report_counts_the_open_shift_by_operation_and_payment(kkt: EmulatedKKT) -> None:
    """Receipts and corrections count by operation (1054); payments are net: refunds and expenses go out."""
    kkt.print_receipt(_paid(10_000, cash=4_000, electronic=6_000), idempotency_key="s1")
    kkt.print_receipt(_paid(5_000, cash=5_000), idempotency_key="s2")
    kkt.print_receipt(_paid(3_000, cash=3_000, operation=2), idempotency_key="refund")
    kkt.print_receipt(_paid(1_000, prepaid=1_000), idempotency_key="s3")
    kkt.print_receipt(_paid(700, cash=700, operation=3), idempotency_key="expense")
    kkt.print_receipt(_paid(200, electronic=200, operation=4), idempotency_key="expense-refund")
    kkt.print_correction(correction(2_500), idempotency_key="c")
    before = kkt.status().last_fd_number
    report = kkt.x_report()
    assert kkt.status().last_fd_number == before  # not a document: nothing numbered, nothing journaled
    assert (report.shift_number, report.shift_open, report.expired) == (1, True, False)
    assert (report.receipts, report.documents) == (7, 8)
    assert report.count_by_operation == {1: 4, 2: 1, 3: 1, 4: 1}
    assert report.totals_by_operation == {1: 10_000 + 5_000 + 1_000 + 2_500, 2: 3_000, 3: 700, 4: 200}
    assert report.totals_by_payment == {
        "cash": 4_000 + 5_000 - 3_000 - 700 + 2_500,
        "electronic": 6_000 + 200,
        "prepaid": 1_000,
        "credit": 0,
        "provision": 0,
    }


def test_x_report_times_and_expiry(kkt: EmulatedKKT, clock: ManualClock) -> None:
    """The X report gives the shift's opening and its 24-hour limit, and still reports an expired shift."""
    kkt.open_shift()
    report = kkt.x_report()
    assert report.opened_at is not None
    assert report.opened_at.isoformat() == "2025-11-30T15:00:00+03:00"
    assert report.expires_at == report.opened_at + timedelta(hours=24)
    assert kkt.status().shift_expires_at == report.expires_at
    clock.advance(DAY + 1)
    assert kkt.x_report().expired


def test_x_report_needs_an_open_shift_and_a_working_device(kkt: EmulatedKKT) -> None:
    """No open shift: ShiftNotOpen. A fault refuses it as it refuses any print."""
    with pytest.raises(ShiftNotOpen):
        kkt.x_report()
    kkt.open_shift()
    kkt.set_fault("paper_out")
    with pytest.raises(PaperOut):
        kkt.x_report()
    kkt.set_fault("offline")
    with pytest.raises(DeviceOffline):
        kkt.x_report()


def test_z_report_tags(kkt: EmulatedKKT, clock: ManualClock) -> None:
    """The Z report carries 1118, 1111, the unsent count (1097) and first date-time (1098), and the FN flags."""
    kkt.print_receipt(sale(), idempotency_key="r1")
    clock.advance(60)
    kkt.print_correction(correction(), idempotency_key="c1")
    kkt.acknowledge([1])  # the registration report reached the OFD; the shift's documents not yet
    clock.advance(60)
    z = kkt.close_shift()
    tags = z.tags
    assert (tags["1118"], tags["1111"]) == (2, 4)
    assert (tags["1097"], tags["1098"]) == (3, "2025-11-30T15:00:00")  # opening, receipt, correction
    assert {tag: tags[tag] for tag in ("1050", "1051", "1052", "1053")} == dict.fromkeys(
        ("1050", "1051", "1052", "1053"), False
    )
    assert fiscal.verify_fiscal_sign(tags, kkt.registration.fn_secret)
    assert "totals" not in tags


def test_z_report_omits_1098_when_everything_was_sent(kkt: EmulatedKKT) -> None:
    """With nothing unsent before it, the Z report says 1097 = 0 and carries no 1098."""
    kkt.open_shift()
    kkt.acknowledge([1, 2])
    z = kkt.close_shift()
    assert z.tags["1097"] == 0
    assert "1098" not in z.tags


def test_shift_totals_after_the_z_report_and_across_a_restart(make_kkt: KKTFactory, clock: ManualClock) -> None:
    """A closed shift's counters stay readable by number, from a restarted device too; unknown shifts are None."""
    kkt = make_kkt(clock=clock)
    kkt.print_receipt(_paid(10_000, cash=10_000), idempotency_key="s1")
    kkt.print_receipt(_paid(4_000, electronic=4_000, operation=2), idempotency_key="r1")
    z = kkt.close_shift()
    kkt.print_receipt(_paid(1_000, cash=1_000), idempotency_key="s2")
    kkt.close()
    again = make_kkt(clock=clock)
    closed = again.shift_totals(z.shift_number)
    assert closed is not None
    assert (closed.shift_open, closed.expires_at, closed.expired, closed.receipts, closed.documents) == (
        False,
        None,
        False,
        2,
        4,
    )
    assert closed.totals_by_payment["cash"] == 10_000
    assert closed.totals_by_payment["electronic"] == -4_000
    current = again.shift_totals(2)
    assert current is not None
    assert (current.shift_open, current.receipts, current.totals_by_operation[1]) == (True, 1, 1_000)
    assert current == again.x_report()
    assert again.shift_totals(3) is None
    assert again.shift_totals(0) is None


def test_status_gives_the_shifts_deadline(kkt: EmulatedKKT) -> None:
    """status().shift_expires_at is the opening plus 24 hours, and None with no open shift."""
    assert kkt.status().shift_expires_at is None
    kkt.open_shift()
    status = kkt.status()
    assert status.shift_opened_at is not None
    assert status.shift_expires_at == status.shift_opened_at + timedelta(hours=24)
    assert status.shift_expires_at == datetime.fromisoformat("2025-12-01T15:00:00+03:00")
    kkt.close_shift()
    assert kkt.status().shift_expires_at is None


def test_with_a_print_delay_keys_and_refusals_behave_the_same(make_kkt: KKTFactory, clock: ManualClock) -> None:
    """With a print delay requests are checked before the wait too: a replay returns, a refusal prints nothing."""
    kkt = make_kkt(clock=clock, print_delay_ms=1)
    opening = kkt.open_shift(idempotency_key="open")
    assert kkt.open_shift(idempotency_key="open") == opening
    with pytest.raises(ShiftAlreadyOpen):
        kkt.open_shift(idempotency_key="open-again")
    fix = kkt.print_correction(correction(), idempotency_key="c")
    assert kkt.print_correction(correction(), idempotency_key="c") == fix
    z = kkt.close_shift(idempotency_key="close")
    assert kkt.close_shift(idempotency_key="close") == z
    assert [doc.fd_number for doc in kkt.journal()] == [1, 2, 3, 4]
