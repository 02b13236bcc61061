"""Helpers shared by the emulated KKT's tests: task builders (receipt, correction) and the device factory's type."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from decimal import Decimal
from typing import Any

from kkt_emulators.device import CorrectionTask, EmulatedKKT, ReceiptTask, TaskItem

KKTFactory = Callable[..., EmulatedKKT]
DAY = 24 * 3600


def sale(total_kop: int = 10_000, *, operation: int = 1, cash: bool = True, vat_code: int = 1) -> ReceiptTask:
    """A one-item task paid in full, in cash or electronically."""
    item = TaskItem(name="Товар", price_kop=total_kop, quantity=Decimal(1), sum_kop=total_kop, vat_code=vat_code)
    if cash:
        return ReceiptTask(operation=operation, items=(item,), cash_kop=total_kop)
    return ReceiptTask(operation=operation, items=(item,), electronic_kop=total_kop)


def correction(
    total_kop: int = 10_000,
    *,
    operation: int = 1,
    correction_type: int = 0,
    basis_date: date = date(2025, 11, 1),
    basis_number: str | None = None,
    cash: bool = True,
    **attributes: Any,
) -> CorrectionTask:
    """A one-item correction receipt paid in full, in cash or electronically."""
    item = TaskItem(name="Товар", price_kop=total_kop, quantity=Decimal(1), sum_kop=total_kop, vat_code=1)
    return CorrectionTask(
        operation=operation,
        items=(item,),
        cash_kop=total_kop if cash else 0,
        electronic_kop=0 if cash else total_kop,
        correction_type=correction_type,
        basis_date=basis_date,
        basis_number=basis_number,
        **attributes,
    )
