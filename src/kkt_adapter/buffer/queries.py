"""Reading the buffer: receipt rows as the API shows them, O(1) counts by state, and lookups.

Every method reads through a read connection and writes nothing.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from kkt_adapter.buffer.connection import Database
from kkt_adapter.buffer.hlc_mark import read_hlc
from kkt_adapter.domain import hlc
from kkt_adapter.domain.device import DEFAULT_DEVICE, DOC_RECEIPT
from kkt_adapter.domain.fiscal import FiscalResult
from kkt_adapter.domain.receipt import Receipt
from kkt_adapter.domain.states import UNSYNCED, ReceiptState


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


class Reads:
    """The reads of :class:`~kkt_adapter.buffer.store.Buffer`."""

    db: Database

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

    def refund_requests(self, receipt_id: str) -> list[dict[str, Any]]:
        """The stored requests (canonical forms) of the refunds that name the sale ``receipt_id`` and were not
        refused by the device."""
        with self.db.read() as conn:
            rows = conn.execute(
                "SELECT request_json FROM receipts WHERE original_receipt_id = ? AND state <> 'print_failed'",
                (receipt_id,),
            ).fetchall()
        return [json.loads(row[0]) for row in rows]

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
            return read_hlc(conn)

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
