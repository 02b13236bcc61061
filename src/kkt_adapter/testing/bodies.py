"""Request bodies of the receipt API (``POST /v1/kkt/receipt`` and ``/v1/kkt/correction``) for tests and benchmarks.

Every function returns a fresh dict, exactly the JSON a POS would send. Money is in rubles as the API takes it: a
number (``100``) or a string with up to two decimals (``"89.90"``); it is put into the body as given, never
converted, so that a test controls the exact form it sends. With no arguments, :func:`sale` is the field's example,
the README's sale::

    {"pos_id": "POS-001", "type": "sale",
     "items": [{"name": "Test Product", "price": 100, "quantity": 1, "vat_rate": 20}],
     "payments": [{"type": "cash", "amount": 100}]}

Any other keyword argument of :func:`sale`, :func:`refund` or :func:`correction` is a top-level field of the body:
a new one (``taxation="usn_income"``, ``cashier={...}``) goes after the payments, a default one (``pos_id``,
``type``) is replaced where it stands.
"""

from __future__ import annotations

from typing import Any

#: Rubles as the API takes them: ``100``, ``12.45`` or ``"89.90"``.
Money = int | float | str


def rubles(kopecks: int) -> str:
    """``kopecks`` written as the API's rubles with two decimals: ``10050`` is ``"100.50"``."""
    return f"{kopecks // 100}.{kopecks % 100:02d}"


def item(
    name: str = "Test Product", price: Money = 100, quantity: int | str = 1, *, vat_rate: int | str = 20, **fields: Any
) -> dict[str, Any]:
    """One line of a receipt; ``fields`` adds its FFD 1.2 attributes (``payment_object``, ``mark_code``, ...)."""
    return {"name": name, "price": price, "quantity": quantity, "vat_rate": vat_rate, **fields}


def payment(amount: Money = 100, *, kind: str = "cash") -> dict[str, Any]:
    """One payment of ``amount`` rubles, in cash unless ``kind`` says otherwise (``"card"``, ...)."""
    return {"type": kind, "amount": amount}


def sale(
    total: Money = 100,
    *,
    name: str = "Test Product",
    paid_by: str = "cash",
    items: list[dict[str, Any]] | None = None,
    payments: list[dict[str, Any]] | None = None,
    **fields: Any,
) -> dict[str, Any]:
    """A sale of ``total`` rubles paid in one payment by ``paid_by``.

    Without ``items`` it is one line called ``name``, of quantity 1 at ``total``; with them, ``total`` is only what
    is paid (the caller keeps the two equal, or not, on purpose). ``payments`` replaces the one payment.
    """
    return {
        "pos_id": "POS-001",
        "type": "sale",
        "items": [item(name, total)] if items is None else items,
        "payments": [payment(total, kind=paid_by)] if payments is None else payments,
        **fields,
    }


def refund(original_receipt_id: str | None = None, total: Money = 100, **options: Any) -> dict[str, Any]:
    """A refund, as :func:`sale` takes its options, naming its sale by receipt id when one is given.

    A refund that names its sale by fiscal document number passes ``original_fd_number=...`` instead.
    """
    link = {} if original_receipt_id is None else {"original_receipt_id": original_receipt_id}
    return sale(total, **{"type": "refund", **link, **options})


def correction(
    total: Money = 100,
    *,
    correction_type: str = "self",
    basis_date: str = "2025-11-30",
    basis_number: str | None = None,
    name: str = "Test Product",
    paid_by: str = "cash",
    items: list[dict[str, Any]] | None = None,
    payments: list[dict[str, Any]] | None = None,
    **fields: Any,
) -> dict[str, Any]:
    """A correction of a sale of ``total`` rubles (a self-correction unless ``correction_type`` says otherwise).

    ``basis_number`` appears only when given; the lines and payments are built as :func:`sale` builds them.
    """
    basis = {"basis_date": basis_date} | ({} if basis_number is None else {"basis_number": basis_number})
    return {
        "pos_id": "POS-001",
        "type": "sale",
        "correction_type": correction_type,
        **basis,
        "items": [item(name, total)] if items is None else items,
        "payments": [payment(total, kind=paid_by)] if payments is None else payments,
        **fields,
    }
