"""Receipts in the buffer: the accept decision, the print outcome, reads and O(1) counts.

Every method is one short transaction; callers run them off the event loop (they fsync).
"""

from __future__ import annotations

import json
import sqlite3
import uuid
from collections.abc import Sequence
from concurrent.futures import Future
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from kkt_adapter.buffer import documents
from kkt_adapter.buffer.connection import Database
from kkt_adapter.domain import hlc
from kkt_adapter.domain.device import DEFAULT_DEVICE, DOC_RECEIPT, JournalEntry
from kkt_adapter.domain.errors import STAYS_BOUND, FieldProblem, InvalidReceipt
from kkt_adapter.domain.fiscal import FiscalResult
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


@dataclass(frozen=True)
class BufferCounts:
    """Receipts by state (O(1): kept by triggers)."""

    accepted: int
    pending: int
    synced: int
    print_failed: int
    dlq: int

    @property
    def unsynced(self) -> int:
        """Receipts the OFD has not acknowledged: they occupy the buffer."""
        return self.accepted + self.pending + self.dlq


@dataclass(frozen=True)
class StoredReceipt:
    """One receipt row as the API shows it."""

    receipt_id: str
    idempotency_key: str
    state: ReceiptState
    pos_id: str
    operation: str
    total_kop: int
    created_at: float
    updated_at: float
    request: dict[str, Any]
    fiscal: FiscalResult | None
    response_json: str | None
    print_error: str | None
    hlc: hlc.HLCStamp | None
    hlc_server_ms: int | None
    attempts: int
    next_attempt_at: float
    last_error: str | None
    ofd_id: str | None
    ofd_server_time: str | None
    synced_at: float | None
    doc_type: int = DOC_RECEIPT
    original_receipt_id: str | None = None
    #: The device the document was printed on (or is bound to while its print is decided).
    device: str = DEFAULT_DEVICE

    @classmethod
    def from_row(cls, row: sqlite3.Row) -> StoredReceipt:
        fiscal = FiscalResult.from_dict(json.loads(row["fiscal_json"])) if row["fiscal_json"] else None
        stamp = hlc.HLCStamp(row["hlc_wall_ms"], row["hlc_logical"]) if row["hlc_wall_ms"] is not None else None
        return cls(
            receipt_id=row["receipt_id"],
            idempotency_key=row["idempotency_key"],
            state=ReceiptState(row["state"]),
            pos_id=row["pos_id"],
            operation=row["operation"],
            total_kop=row["total_kop"],
            created_at=row["created_at"],
            updated_at=row["updated_at"],
            request=json.loads(row["request_json"]),
            fiscal=fiscal,
            response_json=row["response_json"],
            print_error=row["print_error"],
            hlc=stamp,
            hlc_server_ms=row["hlc_server_ms"],
            attempts=row["attempts"],
            next_attempt_at=row["next_attempt_at"],
            last_error=row["last_error"],
            ofd_id=row["ofd_id"],
            ofd_server_time=row["ofd_server_time"],
            synced_at=row["synced_at"],
            doc_type=row["doc_type"],
            original_receipt_id=row["original_receipt_id"],
            device=row["device"],
        )

    @property
    def receipt(self) -> Receipt:
        """The receipt as it was requested."""
        return Receipt.from_canonical(self.request)


class Buffer:
    """The adapter's durable store of receipts."""

    def __init__(self, path: Path, *, clock: Clock) -> None:
        self.db = Database(path)
        self.clock = clock

    def close(self) -> None:
        self.db.close()

    # -- Phase 1: accept and print -------------------------------------------------------------------------------

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

    def complete_print(
        self,
        receipt_id: str,
        result: FiscalResult,
        *,
        preceding: Sequence[JournalEntry] = (),
        device: str | None = None,
    ) -> str:
        """Store the fiscal data, stamp the HLC and make the receipt ``pending``; return the response body."""
        return self.submit_complete_print(receipt_id, result, preceding=preceding, device=device).result()

    def submit_complete_print(
        self,
        receipt_id: str,
        result: FiscalResult,
        *,
        preceding: Sequence[JournalEntry] = (),
        device: str | None = None,
    ) -> Future[str]:
        """:meth:`complete_print`, group-committed: the future resolves once the fiscal data is durable.

        ``preceding`` are documents the device signed just before this one (a shift opening it caused): they are
        stored first and stamped earlier, so that they reach the OFD before it, in FD order. ``device`` is the device
        that printed it: a row bound to another device keeps its binding, and this document is kept as a journal
        document of its own (a document the device signed is never dropped).
        """
        now = self.clock.time()
        fiscal_json = json.dumps(result.to_dict(), ensure_ascii=False)

        def body(conn: sqlite3.Connection) -> str:
            row = conn.execute(
                "SELECT state, response_json, device FROM receipts WHERE receipt_id = ?", (receipt_id,)
            ).fetchone()
            if row is None:
                raise KeyError(receipt_id)
            if row["state"] not in (ReceiptState.ACCEPTED, ReceiptState.PRINT_FAILED):
                # Completed already (reconciled by another process): the stored answer is the truth.
                return str(row["response_json"])
            bound = str(row["device"])
            if device is not None and bound != device:
                entries = [*preceding, JournalEntry(result, None)]
                inserted, stamp = documents.insert_entries(conn, entries, now=now, stamp=_read_hlc(conn), device=device)
                _write_hlc(conn, stamp)
                return result.response_json(inserted[-1] if inserted else receipt_id, device)
            # From print_failed too: the device's journal says it printed, and the device is the truth.
            response = result.response_json(receipt_id, bound)
            _, stamp = documents.insert_entries(conn, preceding, now=now, stamp=_read_hlc(conn), device=bound)
            stamp = hlc.tick(stamp, int(now * 1000))
            _write_hlc(conn, stamp)
            documents.advance_mark(conn, result.fn_number, result.fiscal_doc_number)
            conn.execute(
                "UPDATE receipts SET state = 'pending', fd_number = ?, fn_number = ?, fiscal_json = ?,"
                " response_json = ?, printed_at = ?, updated_at = ?, hlc_wall_ms = ?, hlc_logical = ?,"
                # Due at once (0), not "now": a clock read before the commit could make a receipt stamped earlier
                # look due later than one stamped after it, and break the HLC order of sending.
                " next_attempt_at = 0 WHERE receipt_id = ?",
                (
                    result.fiscal_doc_number,
                    result.fn_number,
                    fiscal_json,
                    response,
                    now,
                    now,
                    stamp.wall_ms,
                    stamp.logical,
                    receipt_id,
                ),
            )
            return response

        return self.db.submit(body)

    def fail_print(self, receipt_id: str, *, code: str, reason: str) -> None:
        """Record that the device printed nothing; a replay of the key prints again."""
        args = (f"{code}: {reason}", self.clock.time(), receipt_id)
        self.db.run(
            lambda conn: conn.execute(
                "UPDATE receipts SET state = 'print_failed', print_error = ?, updated_at = ?"
                " WHERE receipt_id = ? AND state = 'accepted'",
                args,
            )
        )

    def in_flight(self, *, older_than: float | None = None, device: str | None = None) -> list[StoredReceipt]:
        """Receipts caught between ``accepted`` and a print outcome, optionally only those untouched since a time,
        and only those bound to one device."""
        limit = float("inf") if older_than is None else older_than
        query = "SELECT * FROM receipts WHERE state = 'accepted' AND updated_at < ?"
        args: tuple[object, ...] = (limit,)
        if device is not None:
            query, args = query + " AND device = ?", (*args, device)
        with self.db.read() as conn:
            rows = conn.execute(query + " ORDER BY seq", args).fetchall()
        return [StoredReceipt.from_row(row) for row in rows]

    def purge_synced(self, *, older_than: float, limit: int = 5000) -> int:
        """Delete up to ``limit`` synced receipts created before ``older_than``; unsynced ones are never touched.

        A receipt that once was a dead letter takes its DLQ history row with it.
        """
        with self.db.write() as conn:
            ids = [
                row[0]
                for row in conn.execute(
                    "SELECT receipt_id FROM receipts WHERE state = 'synced' AND created_at < ?"
                    " ORDER BY created_at LIMIT ?",
                    (older_than, limit),
                )
            ]
            conn.executemany("DELETE FROM dlq WHERE receipt_id = ?", [(i,) for i in ids])
            conn.executemany("DELETE FROM receipts WHERE receipt_id = ?", [(i,) for i in ids])
            return len(ids)

    def submit_store_entries(
        self, entries: Sequence[JournalEntry], *, pos_id: str = "", device: str = DEFAULT_DEVICE
    ) -> Future[list[str]]:
        """Keep documents from ``device``'s journal that the buffer lacks (pending, in FD order); their new ids."""
        now = self.clock.time()

        def body(conn: sqlite3.Connection) -> list[str]:
            inserted, stamp = documents.insert_entries(
                conn, entries, now=now, stamp=_read_hlc(conn), pos_id=pos_id, device=device
            )
            if inserted:
                _write_hlc(conn, stamp)
            return inserted

        return self.db.submit(body)

    def store_entries(
        self, entries: Sequence[JournalEntry], *, pos_id: str = "", device: str = DEFAULT_DEVICE
    ) -> list[str]:
        """:meth:`submit_store_entries`, waiting for the commit."""
        return self.submit_store_entries(entries, pos_id=pos_id, device=device).result()

    def record_event(self, kind: str, detail: str) -> None:
        """Write an application event (a restore from the device's journal) to the audit trail, stamped now."""
        at = self.clock.time()
        self.db.run(
            lambda conn: conn.execute("INSERT INTO events (at, kind, detail) VALUES (?, ?, ?)", (at, kind, detail))
        )

    # -- Reads ----------------------------------------------------------------------------------------------------

    def journal_marks(self) -> dict[str, int]:
        """Every FN's journal mark."""
        with self.db.read() as conn:
            return {row[0]: int(row[1]) for row in conn.execute("SELECT fn_number, last_fd FROM journal_marks")}

    def synced_fd_numbers(self, fn_number: str, *, from_fd: int) -> list[int]:
        """FD numbers of this FN's documents the OFD acknowledged, from ``from_fd`` on (for the FN's own count)."""
        with self.db.read() as conn:
            rows = conn.execute(
                "SELECT fd_number FROM receipts WHERE state = 'synced' AND fn_number = ? AND fd_number >= ?"
                " ORDER BY fd_number",
                (fn_number, from_fd),
            )
            return [int(row[0]) for row in rows]

    def fd_numbers_of(self, receipt_ids: Sequence[str]) -> list[int]:
        """The FD numbers of these documents (those that have one), ascending."""
        numbers: list[int] = []
        with self.db.read() as conn:
            for start in range(0, len(receipt_ids), 500):
                chunk = receipt_ids[start : start + 500]
                rows = conn.execute(
                    f"SELECT fd_number FROM receipts WHERE fd_number IS NOT NULL AND receipt_id IN"
                    f" ({','.join('?' * len(chunk))})",
                    chunk,
                )
                numbers.extend(int(row[0]) for row in rows)
        return sorted(numbers)

    def find(self, reference: str | int) -> StoredReceipt | None:
        """A document by its id, or by its FD number (an int, or a string of digits that is not an id)."""
        if isinstance(reference, str):
            found = self.get(reference)
            if found is not None or not reference.isdigit() or len(reference) > 10:
                return found  # an FD number is a uint32: ten digits at most
        with self.db.read() as conn:
            row = conn.execute(
                "SELECT * FROM receipts WHERE fd_number = ? ORDER BY seq DESC LIMIT 1", (int(reference),)
            ).fetchone()
        return StoredReceipt.from_row(row) if row else None

    def get(self, receipt_id: str) -> StoredReceipt | None:
        with self.db.read() as conn:
            row = conn.execute("SELECT * FROM receipts WHERE receipt_id = ?", (receipt_id,)).fetchone()
        return StoredReceipt.from_row(row) if row else None

    def get_by_key(self, key: str) -> StoredReceipt | None:
        with self.db.read() as conn:
            row = conn.execute("SELECT * FROM receipts WHERE idempotency_key = ?", (key,)).fetchone()
        return StoredReceipt.from_row(row) if row else None

    def counts(self) -> BufferCounts:
        with self.db.read() as conn:
            rows = dict(conn.execute("SELECT state, n FROM counters").fetchall())
        return BufferCounts(**{state.value: rows.get(state.value, 0) for state in ReceiptState})

    def oldest_unsynced_at(self) -> float | None:
        """Creation time of the oldest receipt the OFD has not acknowledged (O(log n) by index)."""
        with self.db.read() as conn:
            found = [
                conn.execute("SELECT MIN(created_at) FROM receipts WHERE state = ?", (state,)).fetchone()[0]
                for state in sorted(UNSYNCED)
            ]
        times = [t for t in found if t is not None]
        return min(times) if times else None

    def hlc_high_water(self) -> hlc.HLCStamp:
        with self.db.read() as conn:
            return _read_hlc(conn)

    def events(self, *, receipt_id: str | None = None, limit: int = 100) -> list[dict[str, Any]]:
        """The newest audit events, optionally of one receipt, oldest first."""
        query = "SELECT * FROM events"
        args: tuple[Any, ...] = ()
        if receipt_id is not None:
            query += " WHERE receipt_id = ?"
            args = (receipt_id,)
        query += " ORDER BY id DESC LIMIT ?"
        with self.db.read() as conn:
            rows = conn.execute(query, (*args, limit)).fetchall()
        return [dict(row) for row in reversed(rows)]


class Request(Protocol):
    """What is stored for a request: its canonical form and the hash that guards its key."""

    def canonical(self) -> dict[str, Any]: ...

    def body_hash(self) -> str: ...


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


def _read_hlc(conn: sqlite3.Connection) -> hlc.HLCStamp:
    row = conn.execute("SELECT value FROM meta WHERE key = 'hlc'").fetchone()
    if row is None:
        return hlc.ZERO
    wall, logical = (int(part) for part in str(row[0]).split(":"))
    return hlc.HLCStamp(wall, logical)


def _write_hlc(conn: sqlite3.Connection, stamp: hlc.HLCStamp) -> None:
    conn.execute(
        "INSERT INTO meta (key, value) VALUES ('hlc', ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        (f"{stamp.wall_ms}:{stamp.logical}",),
    )
