"""The fiscal drive's memory: one SQLite file (``fn.sqlite3``) under the device's state directory.

WAL, ``synchronous=FULL`` (checked after setting), ``busy_timeout``, every write under ``BEGIN IMMEDIATE``: a
committed document survives a crash or a power cut, and two processes on one directory never number a document
twice. Tables: ``registration`` (with the FN's life) and ``device_state`` (one row each), ``documents`` (the journal,
FD number as the primary key, the request's idempotency key UNIQUE, each document's time and OFD acknowledgement),
``shifts`` and ``shift_totals`` (per-shift counters and running totals). The schema is versioned and migrated at
open (:mod:`kkt_emulators.device.migrations`). Not thread-safe by itself: the device serialises access.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from kkt_emulators.device.fn import FNLife, Unsent
from kkt_emulators.device.migrations import migrate
from kkt_emulators.device.models import DOC_CORRECTION, DOC_RECEIPT, FiscalDocument, Registration

DB_FILE = "fn.sqlite3"
BUSY_TIMEOUT_MS = 30_000


@dataclass
class State:
    """The one-row ``device_state``: counters, the open shift and the persisted faults."""

    last_fd: int
    last_doc_time: float
    shift_number: int
    shift_open: bool
    shift_opened_at: float | None
    receipts_in_shift: int
    docs_in_shift: int
    paper_out: bool
    offline: bool


@dataclass(frozen=True)
class ShiftRow:
    """One shift's stored counters: opening and closing times (Unix), receipts, documents, totals by operation.

    ``totals`` maps the operation (1054) to ``(count, total, cash, electronic, prepaid, credit, provision)``.
    """

    shift_number: int
    opened_at: float
    closed_at: float | None
    receipts: int
    documents: int
    totals: dict[int, tuple[int, int, int, int, int, int, int]]


_STATE_COLUMNS = (
    "last_fd, last_doc_time, shift_number, shift_open, shift_opened_at, receipts_in_shift, docs_in_shift, "
    "paper_out, offline"
)


class Store:
    """One connection to the FN's SQLite file, opened once; schema applied once, at open."""

    def __init__(self, state_dir: Path) -> None:
        self.path = state_dir / DB_FILE
        self._conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False, timeout=30.0)
        conn = self._conn
        conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
        if str(mode).lower() != "wal":
            raise RuntimeError(f"cannot switch {self.path.name} to WAL (journal_mode={mode})")
        conn.execute("PRAGMA synchronous = FULL")
        if conn.execute("PRAGMA synchronous").fetchone()[0] != 2:
            raise RuntimeError(f"cannot set synchronous=FULL on {self.path.name}")
        try:
            with self.write():
                migrate(conn, name=self.path.name)
        except BaseException:
            conn.close()
            raise

    def close(self) -> None:
        """Close the connection."""
        self._conn.close()

    def write(self) -> AbstractContextManager[sqlite3.Connection]:
        """A write transaction (``BEGIN IMMEDIATE``): committed, and fsynced, when the block ends without error."""
        return self._transaction("BEGIN IMMEDIATE")

    def read(self) -> AbstractContextManager[sqlite3.Connection]:
        """A read transaction: one consistent snapshot for several queries."""
        return self._transaction("BEGIN")

    @contextmanager
    def _transaction(self, begin: str) -> Iterator[sqlite3.Connection]:
        """``begin`` ... ``COMMIT``, rolled back on any error, a failed ``COMMIT`` included.

        A ``COMMIT`` that fails (busy, disk full, I/O error) can leave the transaction open; left so, the connection
        would refuse every later ``BEGIN`` and hold its lock. SQLite may also have rolled back by itself, hence the
        ``in_transaction`` check.
        """
        conn = self._conn
        conn.execute(begin)
        try:
            yield conn
            conn.execute("COMMIT")
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise

    # -- registration --------------------------------------------------------------------------------------------

    @staticmethod
    def load_registration(conn: sqlite3.Connection) -> Registration | None:
        """The stored registration, or None on a fresh drive."""
        row = conn.execute(
            "SELECT inn, org_name, kkt_serial, reg_number, fn_number, ffd_version, taxation, address, fn_secret "
            "FROM registration WHERE id = 1"
        ).fetchone()
        if row is None:
            return None
        return Registration(
            inn=row[0],
            org_name=row[1],
            kkt_serial=row[2],
            reg_number=row[3],
            fn_number=row[4],
            ffd_version=row[5],
            taxation=row[6],
            address=row[7],
            fn_secret=bytes(row[8]),
        )

    @staticmethod
    def save_registration(conn: sqlite3.Connection, reg: Registration, *, when: float) -> None:
        """Store the registration and the initial state (no document yet)."""
        conn.execute(
            "INSERT INTO registration (id, inn, org_name, kkt_serial, reg_number, fn_number, ffd_version, taxation, "
            "address, fn_secret) VALUES (1, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                reg.inn,
                reg.org_name,
                reg.kkt_serial,
                reg.reg_number,
                reg.fn_number,
                reg.ffd_version,
                reg.taxation,
                reg.address,
                reg.fn_secret,
            ),
        )
        conn.execute("INSERT INTO device_state (id, last_fd, last_doc_time) VALUES (1, 0, ?)", (when,))

    @staticmethod
    def save_fn_life(conn: sqlite3.Connection, life: FNLife, *, registered_at: float) -> None:
        """Store the FN's life, fixed at registration: its validity date and archive capacity."""
        conn.execute(
            "UPDATE registration SET registered_at = ?, fn_valid_until = ?, fn_capacity = ? WHERE id = 1",
            (registered_at, life.valid_until.isoformat(), life.capacity),
        )

    @staticmethod
    def load_fn_life(conn: sqlite3.Connection) -> FNLife | None:
        """The FN's life, or None if the registration (or its life) was never stored."""
        row = conn.execute("SELECT fn_valid_until, fn_capacity FROM registration WHERE id = 1").fetchone()
        if row is None or row[0] is None or row[1] is None:
            return None
        return FNLife(valid_until=date.fromisoformat(row[0]), capacity=int(row[1]))

    # -- state ---------------------------------------------------------------------------------------------------

    @staticmethod
    def load_state(conn: sqlite3.Connection) -> State:
        """The device's counters, shift and faults."""
        row = conn.execute(f"SELECT {_STATE_COLUMNS} FROM device_state WHERE id = 1").fetchone()
        if row is None:
            raise RuntimeError("the fiscal drive has no state row: it was never registered")
        return State(
            last_fd=row[0],
            last_doc_time=row[1],
            shift_number=row[2],
            shift_open=bool(row[3]),
            shift_opened_at=row[4],
            receipts_in_shift=row[5],
            docs_in_shift=row[6],
            paper_out=bool(row[7]),
            offline=bool(row[8]),
        )

    @staticmethod
    def save_state(conn: sqlite3.Connection, state: State) -> None:
        """Write the counters, shift and faults back."""
        conn.execute(
            "UPDATE device_state SET last_fd = ?, last_doc_time = ?, shift_number = ?, shift_open = ?, "
            "shift_opened_at = ?, receipts_in_shift = ?, docs_in_shift = ?, paper_out = ?, offline = ? WHERE id = 1",
            (
                state.last_fd,
                state.last_doc_time,
                state.shift_number,
                int(state.shift_open),
                state.shift_opened_at,
                state.receipts_in_shift,
                state.docs_in_shift,
                int(state.paper_out),
                int(state.offline),
            ),
        )

    @staticmethod
    def set_faults(conn: sqlite3.Connection, **faults: bool) -> None:
        """Switch persisted faults (``paper_out``, ``offline``) on or off."""
        for name, enabled in faults.items():
            if name not in ("paper_out", "offline"):
                raise ValueError(f"unknown fault {name!r}")
            conn.execute(f"UPDATE device_state SET {name} = ? WHERE id = 1", (int(enabled),))

    # -- journal -------------------------------------------------------------------------------------------------

    @staticmethod
    def insert_document(conn: sqlite3.Connection, doc: FiscalDocument) -> None:
        """Add a document to the journal, unsent (fails if its FD number or key is already there)."""
        conn.execute(
            "INSERT INTO documents (fd_number, doc_type, idempotency_key, body, issued_at) VALUES (?, ?, ?, ?, ?)",
            (
                doc.fd_number,
                doc.doc_type,
                doc.idempotency_key,
                json.dumps(doc.to_dict(), ensure_ascii=False),
                doc.fiscal_datetime.timestamp(),
            ),
        )

    # -- the OFD exchange ----------------------------------------------------------------------------------------

    @staticmethod
    def unsent(conn: sqlite3.Connection) -> Unsent:
        """How many documents the OFD has not acknowledged (a counter kept by triggers), and the first of them."""
        count = conn.execute("SELECT count FROM unsent_documents WHERE id = 1").fetchone()[0]
        first = conn.execute(
            "SELECT fd_number, issued_at FROM documents WHERE acknowledged_at IS NULL ORDER BY fd_number LIMIT 1"
        ).fetchone()
        if first is None:
            return Unsent(count=0, first_fd=None, first_at=None)
        return Unsent(count=count, first_fd=first[0], first_at=first[1])

    @staticmethod
    def acknowledge(conn: sqlite3.Connection, fd_numbers: list[int], *, when: float) -> int:
        """Mark these documents acknowledged by the OFD at ``when``; how many were unsent until now."""
        cursor = conn.executemany(
            "UPDATE documents SET acknowledged_at = ? WHERE fd_number = ? AND acknowledged_at IS NULL",
            [(when, number) for number in fd_numbers],
        )
        return cursor.rowcount

    # -- shifts --------------------------------------------------------------------------------------------------

    @staticmethod
    def shift_opened(conn: sqlite3.Connection, shift_number: int, *, opened_at: float) -> None:
        """Start a shift's counters: its opening report is its first document."""
        conn.execute(
            "INSERT INTO shifts (shift_number, opened_at, documents) VALUES (?, ?, 1)", (shift_number, opened_at)
        )

    @staticmethod
    def count_in_shift(conn: sqlite3.Connection, doc: FiscalDocument) -> None:
        """Count a receipt or a correction in its shift: one more receipt and document, and its sums in the totals."""
        if doc.doc_type not in (DOC_RECEIPT, DOC_CORRECTION):
            raise ValueError(f"only receipts and corrections are counted this way, not type {doc.doc_type}")
        conn.execute(
            "UPDATE shifts SET receipts = receipts + 1, documents = documents + 1 WHERE shift_number = ?",
            (doc.shift_number,),
        )
        tags = doc.tags
        conn.execute(
            "INSERT INTO shift_totals (shift_number, operation, count, total, cash, electronic, prepaid, credit, "
            "provision) VALUES (?, ?, 1, ?, ?, ?, ?, ?, ?) ON CONFLICT (shift_number, operation) DO UPDATE SET "
            "count = count + 1, total = total + excluded.total, cash = cash + excluded.cash, "
            "electronic = electronic + excluded.electronic, prepaid = prepaid + excluded.prepaid, "
            "credit = credit + excluded.credit, provision = provision + excluded.provision",
            (
                doc.shift_number,
                doc.operation,
                doc.total_kop,
                tags["1031"],
                tags["1081"],
                tags["1215"],
                tags["1216"],
                tags["1217"],
            ),
        )

    @staticmethod
    def shift_closed(conn: sqlite3.Connection, shift_number: int, *, closed_at: float) -> None:
        """End a shift's counters: its Z report is its last document."""
        conn.execute(
            "UPDATE shifts SET documents = documents + 1, closed_at = ? WHERE shift_number = ?",
            (closed_at, shift_number),
        )

    @staticmethod
    def load_shift(conn: sqlite3.Connection, shift_number: int) -> ShiftRow | None:
        """A shift's counters and totals, or None for a shift this FN never opened."""
        row = conn.execute(
            "SELECT opened_at, closed_at, receipts, documents FROM shifts WHERE shift_number = ?", (shift_number,)
        ).fetchone()
        if row is None:
            return None
        totals = {
            r[0]: (r[1], r[2], r[3], r[4], r[5], r[6], r[7])
            for r in conn.execute(
                "SELECT operation, count, total, cash, electronic, prepaid, credit, provision FROM shift_totals "
                "WHERE shift_number = ? ORDER BY operation",
                (shift_number,),
            )
        }
        return ShiftRow(shift_number, row[0], row[1], row[2], row[3], totals)

    @staticmethod
    def _decode(row: tuple[Any, ...] | None) -> FiscalDocument | None:
        return None if row is None else FiscalDocument.from_dict(json.loads(row[0]))

    @classmethod
    def find_by_key(cls, conn: sqlite3.Connection, key: str) -> FiscalDocument | None:
        """The document printed for this idempotency key, if any."""
        return cls._decode(conn.execute("SELECT body FROM documents WHERE idempotency_key = ?", (key,)).fetchone())

    @classmethod
    def find_by_number(cls, conn: sqlite3.Connection, fd_number: int) -> FiscalDocument | None:
        """The document with this FD number, if any."""
        return cls._decode(conn.execute("SELECT body FROM documents WHERE fd_number = ?", (fd_number,)).fetchone())

    @staticmethod
    def unsent_documents(conn: sqlite3.Connection, *, limit: int) -> list[FiscalDocument]:
        """The documents the OFD has not acknowledged, in FD order, at most ``limit``."""
        rows = conn.execute(
            "SELECT body FROM documents WHERE acknowledged_at IS NULL ORDER BY fd_number LIMIT ?", (limit,)
        ).fetchall()
        return [FiscalDocument.from_dict(json.loads(row[0])) for row in rows]

    @staticmethod
    def journal(conn: sqlite3.Connection, *, after_fd: int, limit: int) -> list[FiscalDocument]:
        """Documents with FD numbers above ``after_fd``, ascending, at most ``limit``."""
        rows = conn.execute(
            "SELECT body FROM documents WHERE fd_number > ? ORDER BY fd_number LIMIT ?", (after_fd, limit)
        ).fetchall()
        return [FiscalDocument.from_dict(json.loads(row[0])) for row in rows]
