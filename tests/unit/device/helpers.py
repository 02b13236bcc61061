"""Helpers shared by the emulated KKT's tests: task builders and the device factory's type."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

from kkt_emulators.device import EmulatedKKT, ReceiptTask, TaskItem

KKTFactory = Callable[..., EmulatedKKT]


def sale(total_kop: int = 10_000, *, operation: int = 1, cash: bool = True, vat_code: int = 1) -> ReceiptTask:
    """A one-item task paid in full, in cash or electronically."""
    item = TaskItem(name="Товар", price_kop=total_kop, quantity=Decimal(1), sum_kop=total_kop, vat_code=vat_code)
    if cash:
        return ReceiptTask(operation=operation, items=(item,), cash_kop=total_kop)
    return ReceiptTask(operation=operation, items=(item,), electronic_kop=total_kop)
