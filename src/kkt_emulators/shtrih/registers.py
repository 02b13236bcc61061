"""The KKT's shift registers, as 1Ah (cash register, kopecks) and 1Bh (operating register, a count) read them.

Shtrih's "General KKT setup guide" (2018, "О денежных и операционных регистрах ККТ") lists them; Shtrih's JavaPOS
driver reads the same numbers. Every group is four consecutive registers in the order of 8Dh's receipt types:
+0 sale (приход), +1 purchase (расход), +2 sale return (возврат прихода), +3 purchase return (возврат расхода). The
shift's payments: type 1 (cash) 193–196, types 2–4 from 197, types 5–16 from 4144 (the two-byte "К-registers").
The receipts of the shift: operating registers 144–147. A Z report (41h) clears them: with the shift closed they read
0. Values come from the emulated FN's shift totals, so they agree with its documents; the drawer's cash (241) and the
registers this emulator does not model read 0.
"""

from __future__ import annotations

from kkt_emulators.device.kkt import EmulatedKKT
from kkt_emulators.device.models import ShiftReport
from kkt_emulators.shtrih import errors
from kkt_emulators.shtrih.errors import ShtrihError

#: The offset of each operation (tag 1054: 1 sale, 2 sale return, 3 purchase, 4 purchase return) in a group.
OFFSET_OF_OPERATION = {1: 0, 3: 1, 2: 2, 4: 3}
#: Each payment kind of the emulated FN as the payment type FF45h sends it in (1 cash, 2 electronic, 14 prepayment,
#: 15 postpayment, 16 counter-provision).
PAYMENT_TYPE = {"cash": 1, "electronic": 2, "prepaid": 14, "credit": 15, "provision": 16}
#: Cash registers exist 0..255 (one-byte numbers) and 4096..4426 (two-byte).
CASH_REGISTERS = (range(0, 256), range(4096, 4427))
FIRST_RECEIPT_COUNT = 144


def payment_register(payment_type: int, operation: int) -> int:
    """The cash register of the shift's payments of ``payment_type`` (1..16) in ``operation`` (1054)."""
    offset = OFFSET_OF_OPERATION[operation]
    if payment_type <= 4:
        return 193 + 4 * (payment_type - 1) + offset
    return 4144 + 4 * (payment_type - 5) + offset


_PAYMENT_REGISTERS = {
    payment_register(kind_type, operation): (operation, kind)
    for kind, kind_type in PAYMENT_TYPE.items()
    for operation in OFFSET_OF_OPERATION
}
_COUNT_REGISTERS = {FIRST_RECEIPT_COUNT + offset: operation for operation, offset in OFFSET_OF_OPERATION.items()}


def _open_shift(kkt: EmulatedKKT) -> ShiftReport | None:
    status = kkt.status()
    return kkt.shift_totals(status.shift_number) if status.shift_open else None


def cash_register(kkt: EmulatedKKT, number: int) -> int:
    """Register ``number``'s value in kopecks; 33h for a number the KKT has no register under."""
    if not any(number in known for known in CASH_REGISTERS):
        raise ShtrihError(errors.BAD_PARAMS)
    found = _PAYMENT_REGISTERS.get(number)
    report = None if found is None else _open_shift(kkt)
    if found is None or report is None:
        return 0
    operation, kind = found
    return report.payments_by_operation.get(operation, {}).get(kind, 0)


def operating_register(kkt: EmulatedKKT, number: int) -> int:
    """Operating register ``number`` (0..255): the shift's receipts of an operation in 144–147, else 0."""
    operation = _COUNT_REGISTERS.get(number)
    report = None if operation is None else _open_shift(kkt)
    if operation is None or report is None:
        return 0
    return report.count_by_operation.get(operation, 0)
