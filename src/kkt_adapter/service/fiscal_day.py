"""The fiscal day on one device: the shift, its opening, the X and Z reports, the fiscal drive; and the ERP's refund
check (may a sale be refunded now?).

A device is named by its configured name; ``None`` is the primary. The caller checks the name against
:attr:`~kkt_adapter.service.app.AppService.device_names` first (the HTTP layer answers an unknown one 422).
"""

from __future__ import annotations

import asyncio
from dataclasses import asdict, dataclass
from typing import Any

from kkt_adapter.buffer import Buffer, StoredReceipt
from kkt_adapter.domain.errors import NotFound, StorageUnavailable
from kkt_adapter.domain.money import rubles
from kkt_adapter.domain.receipt import Cashier, Receipt
from kkt_adapter.domain.refunds import refundable
from kkt_adapter.domain.states import ReceiptState
from kkt_adapter.intake.devices import Devices
from kkt_adapter.service.errors import STORAGE_FAULTS

#: Retry-After for a buffer that cannot be read: a short wait, as for receipts.
STORAGE_RETRY_AFTER_S = 5


@dataclass(frozen=True)
class RefundCheck:
    """The refund check's answer: ``allowed`` once the sale reached the OFD; otherwise why not."""

    allowed: bool
    receipt_id: str
    sync_status: str
    reason: str | None = None
    #: Kopecks left to refund (the sale less its refunds), when the buffer holds the sale's lines.
    left_kop: int | None = None

    def as_dict(self) -> dict[str, Any]:
        """The answer's fields, in the order clients have always seen them (``reason`` only when refused), then
        ``left_to_refund`` (rubles, ``null`` when the sale's lines are not known)."""
        left = None if self.left_kop is None else str(rubles(self.left_kop))
        if self.allowed:
            return {
                "allowed": True,
                "receipt_id": self.receipt_id,
                "sync_status": self.sync_status,
                "left_to_refund": left,
            }
        return {
            "allowed": False,
            "reason": self.reason,
            "receipt_id": self.receipt_id,
            "sync_status": self.sync_status,
            "left_to_refund": left,
        }


class FiscalDay:
    """Shifts and reports through each device's own thread; every answer names the device it came from."""

    def __init__(self, devices: Devices, buffer: Buffer) -> None:
        self._devices = devices
        self._buffer = buffer

    async def shift(self, device: str | None = None) -> dict[str, Any]:
        """Open or not, number, opened at, expires at, receipts in shift, expired."""
        unit = self._devices.get(device)
        return await unit.shifts.status() | {"device": unit.name}

    async def open_shift(
        self, *, device: str | None = None, key: str | None = None, cashier: Cashier | None = None
    ) -> dict[str, Any]:
        """Open a shift (the shift opening report, a fiscal document kept for the OFD) under ``cashier`` (else the
        configured one); ``key`` makes it idempotent."""
        unit = self._devices.get(device)
        return await unit.shifts.open(key=key, cashier=cashier) | {"device": unit.name}

    async def close_shift(
        self, *, device: str | None = None, key: str | None = None, cashier: Cashier | None = None
    ) -> dict[str, Any]:
        """Close the shift: the Z report (a fiscal document kept for the OFD) under ``cashier``; ``key`` makes it
        idempotent."""
        unit = self._devices.get(device)
        return await unit.shifts.close(key=key, cashier=cashier) | {"device": unit.name}

    async def x_report(self, device: str | None = None) -> dict[str, Any]:
        """The X report, printed on the device: the open shift's counters; nothing fiscal is printed or sent."""
        unit = self._devices.get(device)
        return await unit.shifts.x_report() | {"device": unit.name}

    async def fn(self, device: str | None = None) -> dict[str, Any]:
        """The fiscal drive: validity, unsent documents, warnings."""
        unit = self._devices.get(device)
        status = await unit.lane.run(unit.driver.fn_status)
        return asdict(status) | {"warnings": list(status.warnings), "device": unit.name}

    async def refund_check(self, reference: str | int) -> RefundCheck:
        """May the sale ``reference`` (its receipt id or FD number) be refunded now? :class:`NotFound` if no such
        sale."""
        try:
            sale = await asyncio.to_thread(self._buffer.find, reference)
            left = None if sale is None else await asyncio.to_thread(self._left_to_refund, sale)
        except STORAGE_FAULTS as exc:
            raise StorageUnavailable(
                f"the buffer cannot be read ({type(exc).__name__}: {exc}): the refund check has no answer; nothing was"
                " printed or changed; ask again later",
                retry_after_s=STORAGE_RETRY_AFTER_S,
            ) from exc
        if sale is None:
            raise NotFound(f"no receipt {reference!r} (give its receipt_id or its FD number)")
        if sale.state is ReceiptState.SYNCED and left == 0:
            reason = "the sale was refunded in full: nothing is left to refund"
            return RefundCheck(False, sale.receipt_id, sale.state.value, reason=reason, left_kop=0)
        if sale.state is ReceiptState.SYNCED:
            return RefundCheck(allowed=True, receipt_id=sale.receipt_id, sync_status=sale.state.value, left_kop=left)
        reason = (
            f"the sale has not reached the OFD yet (state {sale.state.value}): refund it once it is synced"
            if sale.state.unsynced
            else f"the sale was not printed (state {sale.state.value}): there is nothing to refund"
        )
        return RefundCheck(
            allowed=False, receipt_id=sale.receipt_id, sync_status=sale.state.value, reason=reason, left_kop=left
        )

    def _left_to_refund(self, sale: StoredReceipt) -> int | None:
        """Kopecks of the sale not yet refunded, or ``None`` when the buffer holds no lines for it (a document
        restored from the journal, or not a sale)."""
        if sale.operation != "sale" or "items" not in sale.request:
            return None
        refunds = [Receipt.from_canonical(request) for request in self._buffer.refund_requests(sale.receipt_id)]
        left = refundable(Receipt.from_canonical(sale.request), refunds)
        return sum(max(0, sum_kop) for _quantity, sum_kop in left.values())
