"""The emulated KKT as a :class:`~kkt_adapter.intake.drivers.base.FiscalDriver` (``KKT_DRIVER_TYPE=mock``).

The device model lives in ``kkt_emulators.device``; this module only translates: receipts to device tasks,
device documents to fiscal results, device errors to the adapter's error tree.
"""

from __future__ import annotations

from pathlib import Path

from kkt_adapter.domain.errors import DeviceRefused, DeviceRejectedReceipt, DeviceUnavailable
from kkt_adapter.domain.fiscal import FiscalResult
from kkt_adapter.domain.receipt import OPERATION_CODES, Receipt
from kkt_adapter.intake.drivers.base import DeviceState
from kkt_clock import Clock
from kkt_emulators.device import (
    DeviceError,
    DeviceOffline,
    EmulatedKKT,
    FiscalDocument,
    InvalidTask,
    ReceiptTask,
    TaskItem,
)


def to_task(receipt: Receipt) -> ReceiptTask:
    """The device's task for a receipt (amounts already in kopecks)."""
    return ReceiptTask(
        operation=OPERATION_CODES[receipt.operation],
        items=tuple(
            TaskItem(
                name=item.name,
                price_kop=item.price_kop,
                quantity=item.quantity,
                sum_kop=item.sum_kop,
                vat_code=item.vat_code,
            )
            for item in receipt.items
        ),
        cash_kop=receipt.paid("cash"),
        electronic_kop=receipt.paid("electronic"),
        prepaid_kop=receipt.paid("prepaid"),
        credit_kop=receipt.paid("credit"),
        provision_kop=receipt.paid("provision"),
    )


def to_result(document: FiscalDocument) -> FiscalResult:
    """The adapter's fiscal result for a printed receipt document."""
    return FiscalResult(
        fiscal_doc_number=document.fd_number,
        fiscal_sign=str(document.fiscal_sign),
        fiscal_datetime=document.fiscal_datetime.isoformat(),
        fn_number=document.fn_number,
        kkt_number=document.kkt_reg_number,
        qr_code_data=document.qr or "",
        shift_number=document.shift_number,
        receipt_number=document.receipt_number or 0,
        total_kop=document.total_kop,
        document=dict(document.tags),
    )


class EmulatedDriver:
    """Prints on an :class:`~kkt_emulators.device.EmulatedKKT` whose state lives in ``state_dir``."""

    def __init__(self, state_dir: Path, *, print_delay_ms: int | None, clock: Clock) -> None:
        self.device = EmulatedKKT(state_dir, print_delay_ms=print_delay_ms, clock=clock)

    def print_receipt(self, receipt: Receipt, *, idempotency_key: str) -> FiscalResult:
        try:
            document = self.device.print_receipt(to_task(receipt), idempotency_key=idempotency_key)
        except DeviceOffline as exc:
            raise DeviceUnavailable(exc.code, exc.reason) from exc
        except InvalidTask as exc:
            raise DeviceRejectedReceipt(exc.code, exc.reason) from exc
        except DeviceError as exc:
            if exc.printed:
                raise  # not a refusal: the caller asks the journal
            raise DeviceRefused(exc.code, exc.reason) from exc
        return to_result(document)

    def find_by_key(self, idempotency_key: str) -> FiscalResult | None:
        document = self.device.find_by_key(idempotency_key)
        return None if document is None else to_result(document)

    def state(self) -> DeviceState:
        status = self.device.status()
        return DeviceState(
            online=status.online,
            paper=status.paper,
            shift_open=status.shift_open,
            shift_number=status.shift_number,
            shift_expired=status.shift_expired,
            last_fd_number=status.last_fd_number,
            fn_number=status.fn_number,
            kkt_number=status.reg_number,
        )

    def close(self) -> None:
        self.device.close()
