"""The accept decision: one transaction decides what a request's key calls for, and stores a fresh receipt.

A key seen before is answered from its row (:class:`Replay`, :class:`InFlight`, :class:`Conflict`,
:class:`BoundElsewhere`), or printed again after a failed print (:class:`Retry`); a new key is stored as ``accepted``
(:class:`Fresh`) unless the buffer is full (:class:`Full`). A refund that names its sale is checked in the same
transaction.
"""

from __future__ import annotations

import json
import sqlite3
import uuid
from concurrent.futures import Future
from dataclasses import dataclass
from typing import Any, Protocol

from kkt_adapter.buffer.connection import Database
from kkt_adapter.domain.device import DEFAULT_DEVICE, DOC_RECEIPT
from kkt_adapter.domain.errors import STAYS_BOUND, FieldProblem, InvalidReceipt
from kkt_adapter.domain.receipt import Receipt
from kkt_adapter.domain.refunds import refund_problems
from kkt_adapter.domain.states import UNSYNCED, ReceiptState
from kkt_clock import Clock


@dataclass(frozen=True)
class Fresh:
    """A new receipt row was stored as ``accepted``; print it."""

    receipt_id: str


@dataclass(frozen=True)
class Retry:
    """The key's earlier print failed; the row is ``accepted`` again; print it."""

    receipt_id: str


@dataclass(frozen=True)
class Replay:
    """The key was printed already: answer with the stored response."""

    receipt_id: str
    response_json: str


@dataclass(frozen=True)
class InFlight:
    """The key is being printed right now (by this or another process)."""

    receipt_id: str
    since: float
    #: The device the key is bound to (its print is being decided there).
    device: str = DEFAULT_DEVICE


@dataclass(frozen=True)
class BoundElsewhere:
    """The key's earlier print failed without the device saying so itself (a start-up reconciliation or a take-over
    found nothing in its journal, or an error left its journal silent): another process may still be printing it
    there, so it is printed there again (idempotent by key), never on another device."""

    receipt_id: str
    device: str


@dataclass(frozen=True)
class Conflict:
    """The key was used with a different body."""

    receipt_id: str


@dataclass(frozen=True)
class Full:
    """Unsynced receipts reached capacity."""

    unsynced: int
    capacity: int


AcceptDecision = Fresh | Retry | Replay | InFlight | BoundElsewhere | Conflict | Full


class Request(Protocol):
    """What is stored for a request: its canonical form and the hash that guards its key."""

    def canonical(self) -> dict[str, Any]: ...

    def body_hash(self) -> str: ...


class Accepting:
    """The accept transaction of :class:`~kkt_adapter.buffer.store.Buffer`."""

    db: Database
    clock: Clock

    def begin_accept(
        self,
        *,
        key: str,
        receipt: Receipt,
        capacity: int,
        request: Request | None = None,
        doc_type: int = DOC_RECEIPT,
        device: str = DEFAULT_DEVICE,
    ) -> AcceptDecision:
        """Decide what to do with a request in one transaction; a fresh one is stored as ``accepted``."""
        return self.submit_begin_accept(
            key=key, receipt=receipt, capacity=capacity, request=request, doc_type=doc_type, device=device
        ).result()

    def submit_begin_accept(
        self,
        *,
        key: str,
        receipt: Receipt,
        capacity: int,
        request: Request | None = None,
        doc_type: int = DOC_RECEIPT,
        device: str = DEFAULT_DEVICE,
    ) -> Future[AcceptDecision]:
        """:meth:`begin_accept`, group-committed: the future resolves once the decision is durable.

        ``receipt`` is what is printed; ``request`` (a correction, say) is what was asked, if it is more than the
        receipt: its canonical form is stored and its hash guards the key. A refund that names its sale is checked
        against that sale and its earlier refunds in the same transaction, so two refunds cannot both take the last
        of a line; a failing check raises :class:`InvalidReceipt` and stores nothing.

        ``device`` is where it is to be printed: a fresh row, and a row whose earlier print was refused (nothing was
        printed anywhere), are bound to it; a row being printed stays bound to its own device (:class:`InFlight`
        names it).
        """
        asked: Request = request if request is not None else receipt
        body_hash = asked.body_hash()
        now = self.clock.time()
        request_json = json.dumps(asked.canonical(), ensure_ascii=False)

        def body(conn: sqlite3.Connection) -> AcceptDecision:
            row = conn.execute(
                "SELECT receipt_id, body_hash, state, response_json, updated_at, device, print_error FROM receipts"
                " WHERE idempotency_key = ?",
                (key,),
            ).fetchone()
            if row is not None:
                # An empty hash marks a document restored from the device's journal: its body is unknown, and the
                # client's resend of the key gets the document the device signed.
                if row["body_hash"] not in (body_hash, ""):
                    return Conflict(row["receipt_id"])
                if row["state"] == ReceiptState.ACCEPTED:
                    return InFlight(row["receipt_id"], row["updated_at"], row["device"])
                if row["state"] != ReceiptState.PRINT_FAILED:
                    return Replay(row["receipt_id"], row["response_json"])
                # ``print_error`` is ``code: reason``; a failure that was no definite refusal keeps the key there.
                if row["device"] != device and str(row["print_error"] or "").partition(":")[0] in STAYS_BOUND:
                    return BoundElsewhere(row["receipt_id"], row["device"])
            unsynced = _unsynced(conn)
            if unsynced >= capacity:
                return Full(unsynced, capacity)
            original_id = _check_refund(conn, receipt, None if row is None else row["receipt_id"])
            if row is not None:
                conn.execute(
                    "UPDATE receipts SET state = 'accepted', print_error = NULL, updated_at = ?, device = ?"
                    " WHERE receipt_id = ?",
                    (now, device, row["receipt_id"]),
                )
                return Retry(row["receipt_id"])
            receipt_id = str(uuid.uuid4())
            conn.execute(
                "INSERT INTO receipts (receipt_id, idempotency_key, body_hash, pos_id, operation, total_kop,"
                " request_json, state, created_at, updated_at, doc_type, original_receipt_id, device)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, 'accepted', ?, ?, ?, ?, ?)",
                (
                    receipt_id,
                    key,
                    body_hash,
                    receipt.pos_id,
                    receipt.operation,
                    receipt.total_kop,
                    request_json,
                    now,
                    now,
                    doc_type,
                    original_id,
                    device,
                ),
            )
            return Fresh(receipt_id)

        return self.db.submit(body)


def _check_refund(conn: sqlite3.Connection, receipt: Receipt, own_id: str | None) -> str | None:
    """The id of the sale a refund names, after checking the refund against it and its earlier refunds."""
    if receipt.operation != "refund":
        return None
    value: str | int
    if receipt.original_receipt_id is not None:
        field, where, value = "original_receipt_id", "receipt_id = ?", receipt.original_receipt_id
    elif receipt.original_fd_number is not None:
        field, where, value = "original_fd_number", "fd_number = ?", receipt.original_fd_number
    else:
        return None  # a sale made before the adapter: nothing to tie the refund to
    found = conn.execute(
        f"SELECT receipt_id, operation, doc_type, state, request_json, fn_number FROM receipts WHERE {where}"
        " ORDER BY seq DESC",
        (value,),
    ).fetchall()
    sales = [row for row in found if row["doc_type"] == DOC_RECEIPT and row["operation"] == "sale"] or found
    if len({row["fn_number"] for row in sales}) > 1:
        raise InvalidReceipt(
            [
                FieldProblem(
                    (field,),
                    f"FD number {value!r} names sales on several fiscal drives (several devices, or a replaced FN): "
                    "name the sale by original_receipt_id",
                )
            ]
        )
    sale = sales[0] if sales else None
    if sale is None:
        raise InvalidReceipt([FieldProblem((field,), f"no receipt {value!r} in the buffer: name a printed sale")])
    if sale["doc_type"] != DOC_RECEIPT or sale["operation"] != "sale":
        raise InvalidReceipt([FieldProblem((field,), f"receipt {value!r} is not a sale; only a sale can be refunded")])
    if sale["state"] in (ReceiptState.ACCEPTED, ReceiptState.PRINT_FAILED):
        raise InvalidReceipt([FieldProblem((field,), f"sale {value!r} was not printed; there is nothing to refund")])
    earlier = [
        Receipt.from_canonical(json.loads(row[0]))
        for row in conn.execute(
            "SELECT request_json FROM receipts WHERE original_receipt_id = ? AND state <> 'print_failed'"
            " AND receipt_id IS NOT ?",
            (sale["receipt_id"], own_id),
        )
    ]
    problems = refund_problems(Receipt.from_canonical(json.loads(sale["request_json"])), earlier, receipt)
    if problems:
        raise InvalidReceipt(problems)
    return str(sale["receipt_id"])


def _unsynced(conn: sqlite3.Connection) -> int:
    placeholders = ",".join("?" * len(UNSYNCED))
    return int(
        conn.execute(
            f"SELECT COALESCE(SUM(n), 0) FROM counters WHERE state IN ({placeholders})", sorted(UNSYNCED)
        ).fetchone()[0]
    )
