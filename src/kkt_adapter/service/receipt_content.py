"""What a receipt sold, as plain data for ``GET /v1/kkt/receipt/{id}`` (its ``content``): the lines with quantity,
measure, price, VAT and sum, the payments and the change, the cashier, the customer's contact and the FFD 1.2
attributes given — read back from the request the buffer stored, so that a document reads as a receipt."""

from __future__ import annotations

from typing import Any

from kkt_adapter.domain.ffd_codes import (
    MEASURE_CODES,
    PAYMENT_METHOD_CODES,
    PAYMENT_OBJECT_CODES,
    TAXATION_CODES,
    VAT_RATE_CODES,
)
from kkt_adapter.domain.money import rubles
from kkt_adapter.domain.receipt import Item, Receipt

_NAMES = {
    "vat": {code: name for name, code in VAT_RATE_CODES.items()},
    "method": {code: name for name, code in PAYMENT_METHOD_CODES.items()},
    "object": {code: name for name, code in PAYMENT_OBJECT_CODES.items()},
    "measure": {code: name for name, code in MEASURE_CODES.items()},
    "taxation": {code: name for name, code in TAXATION_CODES.items()},
}


def content(request: dict[str, Any]) -> dict[str, Any] | None:
    """The receipt's content from its stored request (a correction's receipt inside it); ``None`` for a document
    that sold nothing (a shift report)."""
    body = request.get("receipt", request)
    if not isinstance(body, dict) or "items" not in body or "payments" not in body:
        return None
    receipt = Receipt.from_canonical(body)
    cashier = receipt.cashier
    return {
        "items": [_line(item) for item in receipt.items],
        "payments": [{"type": p.kind, "amount": str(rubles(p.amount_kop))} for p in receipt.payments],
        "change": str(rubles(receipt.change_kop)),
        "cashier": None if cashier is None else {"name": cashier.name, "inn": cashier.inn},
        "customer_contact": receipt.customer_contact,
        "taxation": None if receipt.taxation is None else _NAMES["taxation"].get(receipt.taxation, receipt.taxation),
        "original_fd_number": receipt.original_fd_number,
    }


def _line(item: Item) -> dict[str, Any]:
    return {
        "name": item.name,
        "quantity": str(item.quantity.normalize()),
        "measure": _NAMES["measure"].get(item.measure, item.measure),
        "price": str(rubles(item.price_kop)),
        "vat_rate": _NAMES["vat"].get(item.vat_code, item.vat_code),
        "sum": str(rubles(item.sum_kop)),
        "payment_method": _NAMES["method"].get(item.payment_method, item.payment_method),
        "payment_object": _NAMES["object"].get(item.payment_object, item.payment_object),
        "mark_code": item.mark_code,
    }
