"""The emulated KKT (cash register) with its fiscal drive: a library, persisted in SQLite under a state directory.

Example::

    from decimal import Decimal
    from pathlib import Path

    from kkt_emulators.device import EmulatedKKT, ReceiptTask, TaskItem

    with EmulatedKKT(Path("data/kkt"), print_delay_ms=0) as kkt:
        item = TaskItem(name="Кофе", price_kop=15000, quantity=Decimal(1), sum_kop=15000, vat_code=1)
        doc = kkt.print_receipt(ReceiptTask(operation=1, items=(item,), cash_kop=15000), idempotency_key="k-1")
        print(doc.fd_number, doc.qr)
        print(kkt.x_report().totals_by_payment, kkt.fn_status().unsent_count)
"""

from __future__ import annotations

from kkt_emulators.device.errors import (
    DeviceError,
    DeviceNotFound,
    DeviceOffline,
    FNArchiveFull,
    FNBlocked,
    FNExpired,
    FNOfdTimeout,
    InvalidTask,
    PaperOut,
    ShiftAlreadyOpen,
    ShiftExpired,
    ShiftNotOpen,
)
from kkt_emulators.device.kkt import EmulatedKKT
from kkt_emulators.device.models import (
    DOC_CORRECTION,
    DOC_RECEIPT,
    DOC_REGISTRATION,
    DOC_SHIFT_CLOSING,
    DOC_SHIFT_OPENING,
    CorrectionTask,
    DeviceStatus,
    FiscalDocument,
    FNStatus,
    ReceiptTask,
    Registration,
    ShiftReport,
    TaskItem,
)

__all__ = [
    "DOC_CORRECTION",
    "DOC_RECEIPT",
    "DOC_REGISTRATION",
    "DOC_SHIFT_CLOSING",
    "DOC_SHIFT_OPENING",
    "CorrectionTask",
    "DeviceError",
    "DeviceNotFound",
    "DeviceOffline",
    "DeviceStatus",
    "EmulatedKKT",
    "FNArchiveFull",
    "FNBlocked",
    "FNExpired",
    "FNOfdTimeout",
    "FNStatus",
    "FiscalDocument",
    "InvalidTask",
    "PaperOut",
    "ReceiptTask",
    "Registration",
    "ShiftAlreadyOpen",
    "ShiftExpired",
    "ShiftNotOpen",
    "ShiftReport",
    "TaskItem",
]
