"""The open shift's money and receipt counts, read from the KKT's registers (1Ah cash registers in kopecks, 1Bh
operating registers) for the X report and before the Z report, which clears them.

The numbers are those of Shtrih's "General KKT setup guide" (2018, "О денежных и операционных регистрах ККТ"), which
Shtrih's own JavaPOS driver reads too: every group is four registers in 8Dh's receipt-type order, +0 sale (приход),
+1 purchase (расход), +2 sale return (возврат прихода), +3 purchase return (возврат расхода). The shift's payments
of type 1 (cash) are 193–196, types 2–4 follow from 197, types 5–16 are the two-byte "К-registers" from 4144; the
receipts of the shift are operating registers 144–147. The driver pays in types 1 (cash), 2 (electronic), 14
(prepayment), 15 (postpayment, credit) and 16 (counter-provision), so those are the ones read: 20 cash registers and
4 operating ones. Any other refusal, or the line failing, leaves the report without totals (the driver logs why):
they never stop a Z report. A KKT that refuses the two-byte numbers (the guide makes them model-dependent) reports
no totals for prepayment, credit and provision rather than zeros. Whether a real KKT counts correction receipts in
these registers is not said by any source found (the guide lists correction receipts' own registers from 4363); the
emulator does.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from kkt_adapter.domain.errors import DeviceRefused, DeviceUnavailable

if TYPE_CHECKING:
    from kkt_adapter.devices.shtrih.device import ShtrihDevice

log = logging.getLogger(__name__)

#: The adapter's operation names, each with its offset in a register group and the sign of its money in the till.
OPERATIONS = {"sale": (0, 1), "expense": (1, -1), "refund": (2, -1), "expense_refund": (3, 1)}
#: The payment type FF45h sends each payment kind in (results._payments).
PAYMENT_TYPES = {"cash": 1, "electronic": 2, "prepaid": 14, "credit": 15, "provision": 16}
FIRST_RECEIPT_COUNT = 144

Totals = tuple[dict[str, int], dict[str, int], dict[str, int]]


def payment_register(payment_type: int, offset: int) -> int:
    """The cash register of the shift's payments of ``payment_type`` (1..16) at ``offset`` (0..3) of its group."""
    if payment_type <= 4:
        return 193 + 4 * (payment_type - 1) + offset
    return 4144 + 4 * (payment_type - 5) + offset


def read_totals(device: ShtrihDevice) -> Totals:
    """The open shift's sums and receipt counts by operation and its net money by payment kind (received in sales
    and purchase returns, minus given in sale returns and purchases: ``cash`` is what the drawer gained)."""
    by_operation = dict.fromkeys(OPERATIONS, 0)
    by_payment: dict[str, int] = {}
    for kind, payment_type in PAYMENT_TYPES.items():
        numbers = {name: payment_register(payment_type, offset) for name, (offset, _) in OPERATIONS.items()}
        try:
            paid = {name: device.cash_register(number) for name, number in numbers.items()}
        except DeviceRefused as refused:
            if payment_type <= 4 or isinstance(refused, DeviceUnavailable):
                raise
            log.warning("the KKT does not read register %s (%s): no %s totals", numbers["sale"], refused.reason, kind)
            continue
        by_payment[kind] = sum(OPERATIONS[name][1] * amount for name, amount in paid.items())
        for name, amount in paid.items():
            by_operation[name] += amount
    counts = {name: device.operating_register(FIRST_RECEIPT_COUNT + offset) for name, (offset, _) in OPERATIONS.items()}
    return by_operation, counts, by_payment
