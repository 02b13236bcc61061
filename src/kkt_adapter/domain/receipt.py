"""A sale or refund as the adapter keeps it: integer kopecks, VAT codes, FFD 1.2 codes, balanced sums.

Built from the HTTP request by :func:`build_receipt`, which refuses what no single field shows (unbalanced sums, a
marking code on an unmarked line, a refund link on a sale) with field-named problems. FFD 1.2 attributes are kept
as their codes (``kkt_adapter.domain.ffd_codes``, with the names a request may give them).

The canonical form (:meth:`Receipt.canonical`) is what the buffer stores and what the body hash covers. An FFD 1.2
attribute appears in it only when it differs from its default, so a request without the new fields hashes as it
always did.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from decimal import Decimal
from functools import cached_property
from typing import Any, Final, Literal

from kkt_adapter.domain.errors import FieldProblem, InvalidReceipt
from kkt_adapter.domain.ffd_codes import DEFAULT_MEASURE, DEFAULT_PAYMENT_METHOD, DEFAULT_PAYMENT_OBJECT, VAT_RATE_CODES
from kkt_adapter.domain.marking import default_payment_object, marking_problems
from kkt_adapter.domain.money import line_sum

Operation = Literal["sale", "refund"]
PaymentKind = Literal["cash", "card", "electronic", "prepaid", "credit", "provision"]

#: Tag 1054 by operation name.
OPERATION_CODES: Final[dict[str, int]] = {"sale": 1, "refund": 2}

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
    """One line: name, unit price and line sum in kopecks, quantity, VAT code (1199), and the FFD 1.2 codes:
    payment method (1214), payment object (1212), measure (2108) and marking code (2000)."""

    name: str
    price_kop: int
    quantity: Decimal
    sum_kop: int
    vat_code: int
    payment_method: int = DEFAULT_PAYMENT_METHOD
    payment_object: int = DEFAULT_PAYMENT_OBJECT
    measure: int = DEFAULT_MEASURE
    mark_code: str | None = None

    def canonical(self) -> dict[str, Any]:
        """The line's canonical form; an FFD 1.2 code appears only when it is not the default."""
        data: dict[str, Any] = {
            "name": self.name,
            "price_kop": self.price_kop,
            "quantity": str(self.quantity.normalize()),
            "sum_kop": self.sum_kop,
            "vat_code": self.vat_code,
        }
        if self.payment_method != DEFAULT_PAYMENT_METHOD:
            data["payment_method"] = self.payment_method
        if self.payment_object != DEFAULT_PAYMENT_OBJECT:
            data["payment_object"] = self.payment_object
        if self.measure != DEFAULT_MEASURE:
            data["measure"] = self.measure
        if self.mark_code is not None:
            data["mark_code"] = self.mark_code
        return data

    @classmethod
    def from_canonical(cls, data: dict[str, Any]) -> Item:
        """Rebuild a line from :meth:`canonical`; a missing code is its default."""
        return cls(
            name=data["name"],
            price_kop=data["price_kop"],
            quantity=Decimal(data["quantity"]),
            sum_kop=data["sum_kop"],
            vat_code=data["vat_code"],
            payment_method=data.get("payment_method", DEFAULT_PAYMENT_METHOD),
            payment_object=data.get("payment_object", DEFAULT_PAYMENT_OBJECT),
            measure=data.get("measure", DEFAULT_MEASURE),
            mark_code=data.get("mark_code"),
        )


@dataclass(frozen=True)
class Payment:
    """One payment: its kind and amount in kopecks."""

    kind: PaymentKind
    amount_kop: int


@dataclass(frozen=True)
class Cashier:
    """The cashier: name (tag 1021) and, optionally, INN (tag 1203, already checked)."""

    name: str
    inn: str | None = None

    def canonical(self) -> dict[str, Any]:
        """The cashier's canonical form; ``inn`` appears only when set."""
        return {"name": self.name} if self.inn is None else {"name": self.name, "inn": self.inn}


@dataclass(frozen=True)
class Receipt:
    """A validated, balanced receipt.

    ``original_receipt_id`` / ``original_fd_number`` link a refund to its sale (the adapter's own record: the law
    puts no such link in the refund); at most one of them, and only on a refund.
    """

    pos_id: str
    operation: Operation
    items: tuple[Item, ...]
    payments: tuple[Payment, ...]
    cashier: Cashier | None = None
    customer_contact: str | None = None
    taxation: int | None = None
    original_receipt_id: str | None = None
    original_fd_number: int | None = None
    #: The text fields whose text was normalized for the fiscal drive, by path (``items[0].name``), as sent.
    as_sent: tuple[tuple[str, str], ...] = ()

    @property
    def total_kop(self) -> int:
        """Total (tag 1020): the sum of the item sums."""
        return sum(item.sum_kop for item in self.items)

    @property
    def change_kop(self) -> int:
        """Cash given back: what was paid over the total (only cash may exceed it)."""
        return max(0, sum(p.amount_kop for p in self.payments) - self.total_kop)

    def paid(self, group: str) -> int:
        """Kopecks paid in one payment group (cash, electronic, prepaid, credit, provision)."""
        return sum(p.amount_kop for p in self.payments if PAYMENT_GROUP[p.kind] == group)

    def canonical(self) -> dict[str, Any]:
        """A JSON-safe form in which equal receipts are equal (100 and 100.00 rubles alike).

        Optional attributes appear only when set, so a receipt without them has the form (and hash) it always had.
        """
        data: dict[str, Any] = {
            "pos_id": self.pos_id,
            "type": self.operation,
            "items": [item.canonical() for item in self.items],
            "payments": [{"type": p.kind, "amount_kop": p.amount_kop} for p in self.payments],
        }
        if self.cashier is not None:
            data["cashier"] = self.cashier.canonical()
        optional = {
            "customer_contact": self.customer_contact,
            "taxation": self.taxation,
            "original_receipt_id": self.original_receipt_id,
            "original_fd_number": self.original_fd_number,
        }
        data.update({key: value for key, value in optional.items() if value is not None})
        if self.as_sent:
            data["as_sent"] = dict(self.as_sent)
        return data

    def body_hash(self) -> str:
        """SHA-256 of the canonical form: the same key with another body is a conflict."""
        return self._body_hash

    @cached_property
    def _body_hash(self) -> str:
        return canonical_hash(self.canonical())

    @classmethod
    def from_canonical(cls, data: dict[str, Any]) -> Receipt:
        """Rebuild a receipt from :meth:`canonical` (as stored in the buffer); a missing attribute is unset."""
        cashier = data.get("cashier")
        return cls(
            pos_id=data["pos_id"],
            operation=data["type"],
            items=tuple(Item.from_canonical(i) for i in data["items"]),
            payments=tuple(Payment(kind=p["type"], amount_kop=p["amount_kop"]) for p in data["payments"]),
            cashier=None if cashier is None else Cashier(name=cashier["name"], inn=cashier.get("inn")),
            customer_contact=data.get("customer_contact"),
            taxation=data.get("taxation"),
            original_receipt_id=data.get("original_receipt_id"),
            original_fd_number=data.get("original_fd_number"),
            as_sent=tuple(data.get("as_sent", {}).items()),
        )


def canonical_hash(data: dict[str, Any]) -> str:
    """SHA-256 of a canonical form written as compact JSON with sorted keys."""
    text = json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class ItemInput:
    """An item line as requested, already in kopecks and codes; ``total_kop`` is the optional declared line sum.

    ``payment_object`` left unset means 33 (marked commodity with a code) when ``mark_code`` is given, else 1.
    """

    name: str
    price_kop: int
    quantity: Decimal
    vat_rate: str
    total_kop: int | None = None
    payment_method: int = DEFAULT_PAYMENT_METHOD
    payment_object: int | None = None
    measure: int = DEFAULT_MEASURE
    mark_code: str | None = None


def _item_problems(index: int, item: ItemInput, computed: int) -> list[FieldProblem]:
    problems: list[FieldProblem] = []
    if item.total_kop is not None and item.total_kop != computed:
        problems.append(
            FieldProblem(
                ("items", index, "total"),
                f"total must equal price × quantity = {computed / 100:.2f}, got {item.total_kop / 100:.2f}",
            )
        )
    if computed <= 0:
        problems.append(FieldProblem(("items", index, "quantity"), "price × quantity must be at least 0.01"))
    problems += marking_problems(index, item.mark_code, item.payment_object)
    return problems


def _link_problems(
    operation: Operation, original_receipt_id: str | None, original_fd_number: int | None
) -> list[FieldProblem]:
    problems: list[FieldProblem] = []
    for field, value in (("original_receipt_id", original_receipt_id), ("original_fd_number", original_fd_number)):
        if value is not None and operation != "refund":
            problems.append(
                FieldProblem((field,), f'{field} links a refund to its sale: allowed only with type "refund"')
            )
    if original_receipt_id is not None and original_fd_number is not None:
        problems.append(
            FieldProblem(("original_fd_number",), "give original_receipt_id or original_fd_number, not both")
        )
    return problems


def build_receipt(
    *,
    pos_id: str,
    operation: Operation,
    items: list[ItemInput],
    payments: list[Payment],
    cashier: Cashier | None = None,
    customer_contact: str | None = None,
    taxation: int | None = None,
    original_receipt_id: str | None = None,
    original_fd_number: int | None = None,
    as_sent: tuple[tuple[str, str], ...] = (),
    change_allowed: bool = True,
) -> Receipt:
    """Check the sums balance (items = total = payments; on a sale, unless ``change_allowed`` is false, cash over the
    total is change) and the rules across fields, and build the receipt, or raise :class:`InvalidReceipt` with every
    problem found."""
    problems = _link_problems(operation, original_receipt_id, original_fd_number)
    built: list[Item] = []
    for index, item in enumerate(items):
        computed = line_sum(item.price_kop, item.quantity)
        problems += _item_problems(index, item, computed)
        payment_object = default_payment_object(item.mark_code) if item.payment_object is None else item.payment_object
        built.append(
            Item(
                item.name,
                item.price_kop,
                item.quantity,
                computed,
                VAT_RATE_CODES[item.vat_rate],
                payment_method=item.payment_method,
                payment_object=payment_object,
                measure=item.measure,
                mark_code=item.mark_code,
            )
        )
    receipt = Receipt(
        pos_id=pos_id,
        operation=operation,
        items=tuple(built),
        payments=tuple(payments),
        cashier=cashier,
        customer_contact=customer_contact,
        taxation=taxation,
        original_receipt_id=original_receipt_id,
        original_fd_number=original_fd_number,
        as_sent=as_sent,
    )
    # A wrong line sum makes the total meaningless: the payments are judged once the lines are right.
    line_sums_wrong = any(p.loc[0] == "items" and p.loc[-1] in ("total", "quantity") for p in problems)
    if not line_sums_wrong:
        problems += _payment_problems(receipt, change_allowed=change_allowed and operation == "sale")
    if problems:
        raise InvalidReceipt(problems)
    return receipt


def _payment_problems(receipt: Receipt, *, change_allowed: bool) -> list[FieldProblem]:
    """Payments must cover the total; on a sale only cash may go over it (the change), never the other kinds
    together; a refund or a correction records exactly what was settled."""
    paid, total = sum(p.amount_kop for p in receipt.payments), receipt.total_kop
    non_cash = paid - receipt.paid("cash")
    if paid < total:
        message = f"payments add up to {paid / 100:.2f}, less than the total {total / 100:.2f}; they must cover it"
    elif paid > total and not change_allowed:
        message = (
            f"payments add up to {paid / 100:.2f}, more than the total {total / 100:.2f}; they must be equal "
            "(change is given on sales only)"
        )
    elif non_cash > total:
        message = (
            f"payments other than cash add up to {non_cash / 100:.2f}, more than the total {total / 100:.2f}; "
            "only cash may go over the total (the change)"
        )
    else:
        return []
    return [FieldProblem(("payments",), message)]
