"""A sale or refund as the adapter keeps it: integer kopecks, VAT codes, balanced sums.

Built from the HTTP request by :func:`build_receipt`, which refuses unbalanced sums with field-named problems.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from decimal import Decimal
from functools import cached_property
from typing import Any, Final, Literal

from kkt_adapter.domain.errors import FieldProblem, InvalidReceipt
from kkt_adapter.domain.money import line_sum

Operation = Literal["sale", "refund"]
PaymentKind = Literal["cash", "card", "electronic", "prepaid", "credit", "provision"]

#: Tag 1054 by operation name.
OPERATION_CODES: Final[dict[str, int]] = {"sale": 1, "refund": 2}

#: Tag 1199 codes by the request's ``vat_rate`` (numbers as percent, fractions as written on receipts).
VAT_RATE_CODES: Final[dict[str, int]] = {
    "20": 1,
    "10": 2,
    "20/120": 3,
    "10/110": 4,
    "0": 5,
    "none": 6,
    "5": 7,
    "7": 8,
    "5/105": 9,
    "7/107": 10,
    "22": 11,
    "22/122": 12,
}

#: Payment kinds grouped by the receipt tag they add to (cash 1031, electronic 1081, 1215, 1216, 1217).
PAYMENT_GROUP: Final[dict[str, str]] = {
    "cash": "cash",
    "card": "electronic",
    "electronic": "electronic",
    "prepaid": "prepaid",
    "credit": "credit",
    "provision": "provision",
}


@dataclass(frozen=True)
class Item:
    """One line: name, unit price and line sum in kopecks, quantity, VAT code (tag 1199)."""

    name: str
    price_kop: int
    quantity: Decimal
    sum_kop: int
    vat_code: int


@dataclass(frozen=True)
class Payment:
    """One payment: its kind and amount in kopecks."""

    kind: PaymentKind
    amount_kop: int


@dataclass(frozen=True)
class Receipt:
    """A validated, balanced receipt."""

    pos_id: str
    operation: Operation
    items: tuple[Item, ...]
    payments: tuple[Payment, ...]

    @property
    def total_kop(self) -> int:
        """Total (tag 1020): the sum of the item sums."""
        return sum(item.sum_kop for item in self.items)

    def paid(self, group: str) -> int:
        """Kopecks paid in one payment group (cash, electronic, prepaid, credit, provision)."""
        return sum(p.amount_kop for p in self.payments if PAYMENT_GROUP[p.kind] == group)

    def canonical(self) -> dict[str, Any]:
        """A JSON-safe form in which equal receipts are equal (100 and 100.00 rubles alike)."""
        return {
            "pos_id": self.pos_id,
            "type": self.operation,
            "items": [
                {
                    "name": i.name,
                    "price_kop": i.price_kop,
                    "quantity": str(i.quantity.normalize()),
                    "sum_kop": i.sum_kop,
                    "vat_code": i.vat_code,
                }
                for i in self.items
            ],
            "payments": [{"type": p.kind, "amount_kop": p.amount_kop} for p in self.payments],
        }

    def body_hash(self) -> str:
        """SHA-256 of the canonical form: the same key with another body is a conflict."""
        return self._body_hash

    @cached_property
    def _body_hash(self) -> str:
        text = json.dumps(self.canonical(), sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        return hashlib.sha256(text.encode("utf-8")).hexdigest()

    @classmethod
    def from_canonical(cls, data: dict[str, Any]) -> Receipt:
        """Rebuild a receipt from :meth:`canonical` (as stored in the buffer)."""
        return cls(
            pos_id=data["pos_id"],
            operation=data["type"],
            items=tuple(
                Item(
                    name=i["name"],
                    price_kop=i["price_kop"],
                    quantity=Decimal(i["quantity"]),
                    sum_kop=i["sum_kop"],
                    vat_code=i["vat_code"],
                )
                for i in data["items"]
            ),
            payments=tuple(Payment(kind=p["type"], amount_kop=p["amount_kop"]) for p in data["payments"]),
        )


@dataclass(frozen=True)
class ItemInput:
    """An item line as requested, already in kopecks; ``total_kop`` is the optional declared line sum."""

    name: str
    price_kop: int
    quantity: Decimal
    vat_rate: str
    total_kop: int | None = None


def build_receipt(*, pos_id: str, operation: Operation, items: list[ItemInput], payments: list[Payment]) -> Receipt:
    """Check the sums balance (items = total = payments) and build the receipt, or raise :class:`InvalidReceipt`."""
    problems: list[FieldProblem] = []
    built: list[Item] = []
    for index, item in enumerate(items):
        computed = line_sum(item.price_kop, item.quantity)
        if item.total_kop is not None and item.total_kop != computed:
            problems.append(
                FieldProblem(
                    ("items", index, "total"),
                    f"total must equal price × quantity = {computed / 100:.2f}, got {item.total_kop / 100:.2f}",
                )
            )
        if computed <= 0:
            problems.append(FieldProblem(("items", index, "quantity"), "price × quantity must be at least 0.01"))
        built.append(Item(item.name, item.price_kop, item.quantity, computed, VAT_RATE_CODES[item.vat_rate]))
    receipt = Receipt(pos_id=pos_id, operation=operation, items=tuple(built), payments=tuple(payments))
    paid = sum(p.amount_kop for p in payments)
    if not problems and paid != receipt.total_kop:
        kind = "less" if paid < receipt.total_kop else "more"
        problems.append(
            FieldProblem(
                ("payments",),
                f"payments add up to {paid / 100:.2f}, {kind} than the total {receipt.total_kop / 100:.2f}; "
                "they must be equal",
            )
        )
    if problems:
        raise InvalidReceipt(problems)
    return receipt
