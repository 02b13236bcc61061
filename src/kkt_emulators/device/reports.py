"""A shift's counters as a :class:`ShiftReport` (the X report, and the totals after a Z report): pure, no I/O.

Fiscal notes, "A store's fiscal day": the X report is the shift's counters read without closing it; it is not a
fiscal document. The totals by payment kind are net: money received in sales (1054 = 1) and expense refunds (4)
counts in, money given back in sale refunds (2) and paid out in expenses (3) counts out, so that ``cash`` is what the
drawer gained in the shift.
"""

from __future__ import annotations

from datetime import datetime, tzinfo

from kkt_emulators.device.models import PAYMENT_KINDS, ShiftReport
from kkt_emulators.device.store import ShiftRow

SHIFT_MAX_SECONDS = 24 * 3600
OPERATIONS = (1, 2, 3, 4)
# Money comes into the till in a sale (1) and an expense refund (4), goes out in a sale refund (2) and an expense (3).
DIRECTION = {1: 1, 2: -1, 3: -1, 4: 1}


def shift_report(row: ShiftRow, *, is_open: bool, now: float, tz: tzinfo) -> ShiftReport:
    """The report of the shift stored in ``row``; ``is_open`` says whether it is the device's open shift now."""
    # Whole seconds, as the device shows times everywhere (document times, status()).
    opened = datetime.fromtimestamp(int(row.opened_at), tz)
    expires = datetime.fromtimestamp(int(row.opened_at) + SHIFT_MAX_SECONDS, tz) if is_open else None
    by_payment = dict.fromkeys(PAYMENT_KINDS, 0)
    for operation, (_count, _total, *payments) in row.totals.items():
        for kind, amount in zip(PAYMENT_KINDS, payments, strict=True):
            by_payment[kind] += DIRECTION.get(operation, 1) * amount
    return ShiftReport(
        shift_number=row.shift_number,
        shift_open=is_open,
        opened_at=opened,
        expires_at=expires,
        expired=is_open and now - row.opened_at > SHIFT_MAX_SECONDS,
        receipts=row.receipts,
        documents=row.documents,
        totals_by_operation={op: row.totals[op][1] if op in row.totals else 0 for op in OPERATIONS},
        totals_by_payment=by_payment,
        count_by_operation={op: row.totals[op][0] if op in row.totals else 0 for op in OPERATIONS},
        payments_by_operation={
            op: dict(zip(PAYMENT_KINDS, row.totals[op][2:], strict=True)) if op in row.totals else {}
            for op in OPERATIONS
        },
    )
