"""Receipts in the buffer: the accept decision, the print outcome, reads and O(1) counts.

Every method is one short transaction; callers run them off the event loop (they fsync).
"""

from __future__ import annotations

import json
import sqlite3
import uuid
from concurrent.futures import Future
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kkt_adapter.buffer.connection import Database
from kkt_adapter.domain import hlc
from kkt_adapter.domain.fiscal import FiscalResult
from kkt_adapter.domain.receipt import Receipt
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


@dataclass(frozen=True)
class Conflict:
    """The key was used with a different body."""

    receipt_id: str


@dataclass(frozen=True)
class Full:
    """Unsynced receipts reached capacity."""

    unsynced: int
    capacity: int


AcceptDecision = Fresh | Retry | Replay | InFlight | Conflict | Full


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

    def begin_accept(self, *, key: str, receipt: Receipt, capacity: int) -> AcceptDecision:
        """Decide what to do with a request in one transaction; a fresh one is stored as ``accepted``."""
        return self.submit_begin_accept(key=key, receipt=receipt, capacity=capacity).result()

    def submit_begin_accept(self, *, key: str, receipt: Receipt, capacity: int) -> Future[AcceptDecision]:
        """:meth:`begin_accept`, group-committed: the future resolves once the decision is durable."""
        body_hash = receipt.body_hash()
        now = self.clock.time()
        request_json = json.dumps(receipt.canonical(), ensure_ascii=False)

        def body(conn: sqlite3.Connection) -> AcceptDecision:
            row = conn.execute(
                "SELECT receipt_id, body_hash, state, response_json, updated_at FROM receipts"
                " WHERE idempotency_key = ?",
                (key,),
            ).fetchone()
            if row is not None:
                if row["body_hash"] != body_hash:
                    return Conflict(row["receipt_id"])
                if row["state"] == ReceiptState.ACCEPTED:
                    return InFlight(row["receipt_id"], row["updated_at"])
                if row["state"] != ReceiptState.PRINT_FAILED:
                    return Replay(row["receipt_id"], row["response_json"])
            unsynced = _unsynced(conn)
            if unsynced >= capacity:
                return Full(unsynced, capacity)
            if row is not None:
                conn.execute(
                    "UPDATE receipts SET state = 'accepted', print_error = NULL, updated_at = ? WHERE receipt_id = ?",
                    (now, row["receipt_id"]),
                )
                return Retry(row["receipt_id"])
            receipt_id = str(uuid.uuid4())
            conn.execute(
                "INSERT INTO receipts (receipt_id, idempotency_key, body_hash, pos_id, operation, total_kop,"
                " request_json, state, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, 'accepted', ?, ?)",
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
                ),
            )
            return Fresh(receipt_id)

        return self.db.submit(body)

    def complete_print(self, receipt_id: str, result: FiscalResult) -> str:
        """Store the fiscal data, stamp the HLC and make the receipt ``pending``; return the response body."""
        return self.submit_complete_print(receipt_id, result).result()

    def submit_complete_print(self, receipt_id: str, result: FiscalResult) -> Future[str]:
        """:meth:`complete_print`, group-committed: the future resolves once the fiscal data is durable."""
        response = result.response_json(receipt_id)
        now = self.clock.time()
        fiscal_json = json.dumps(result.to_dict(), ensure_ascii=False)

        def body(conn: sqlite3.Connection) -> str:
            row = conn.execute(
                "SELECT state, response_json FROM receipts WHERE receipt_id = ?", (receipt_id,)
            ).fetchone()
            if row is None:
                raise KeyError(receipt_id)
            if row["state"] not in (ReceiptState.ACCEPTED, ReceiptState.PRINT_FAILED):
                # Completed already (reconciled by another process): the stored answer is the truth.
                return str(row["response_json"])
            # From print_failed too: the device's journal says it printed, and the device is the truth.
            stamp = hlc.tick(_read_hlc(conn), int(now * 1000))
            _write_hlc(conn, stamp)
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

    def in_flight(self, *, older_than: float | None = None) -> list[StoredReceipt]:
        """Receipts caught between ``accepted`` and a print outcome, optionally only those untouched since a time."""
        limit = float("inf") if older_than is None else older_than
        with self.db.read() as conn:
            rows = conn.execute(
                "SELECT * FROM receipts WHERE state = 'accepted' AND updated_at < ? ORDER BY seq", (limit,)
            ).fetchall()
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

    # -- Reads ----------------------------------------------------------------------------------------------------

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
