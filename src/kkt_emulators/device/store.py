"""The fiscal drive's memory: one SQLite file (``fn.sqlite3``) under the device's state directory.

WAL, ``synchronous=FULL`` (checked after setting), ``busy_timeout``, every write under ``BEGIN IMMEDIATE``: a
committed document survives a crash or a power cut, and two processes on one directory never number a document
twice. Tables: ``registration`` and ``device_state`` (one row each), ``documents`` (the journal, FD number as the
primary key, the request's idempotency key UNIQUE). Not thread-safe by itself: the device serialises access.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kkt_emulators.device.models import FiscalDocument, Registration

DB_FILE = "fn.sqlite3"
SCHEMA_VERSION = 1
BUSY_TIMEOUT_MS = 30_000

SCHEMA = """
CREATE TABLE IF NOT EXISTS registration (
    id          INTEGER PRIMARY KEY CHECK (id = 1),
    inn         TEXT NOT NULL,
    org_name    TEXT NOT NULL,
    kkt_serial  TEXT NOT NULL,
    reg_number  TEXT NOT NULL,
    fn_number   TEXT NOT NULL,
    ffd_version TEXT NOT NULL,
    taxation    INTEGER NOT NULL,
    address     TEXT NOT NULL,
    fn_secret   BLOB NOT NULL
);
CREATE TABLE IF NOT EXISTS device_state (
    id                INTEGER PRIMARY KEY CHECK (id = 1),
    last_fd           INTEGER NOT NULL,
    last_doc_time     REAL NOT NULL,
    shift_number      INTEGER NOT NULL DEFAULT 0,
    shift_open        INTEGER NOT NULL DEFAULT 0,
    shift_opened_at   REAL,
    receipts_in_shift INTEGER NOT NULL DEFAULT 0,
    docs_in_shift     INTEGER NOT NULL DEFAULT 0,
    paper_out         INTEGER NOT NULL DEFAULT 0,
    offline           INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS documents (
    fd_number       INTEGER PRIMARY KEY,
    doc_type        INTEGER NOT NULL,
    idempotency_key TEXT UNIQUE,
    body            TEXT NOT NULL
);
"""


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
        with self.write():
            version = conn.execute("PRAGMA user_version").fetchone()[0]
            if version > SCHEMA_VERSION:
                raise RuntimeError(f"{self.path.name} has schema {version}, newer than this code ({SCHEMA_VERSION})")
            if version < SCHEMA_VERSION:
                for statement in SCHEMA.split(";"):
                    if statement.strip():
                        conn.execute(statement)
                conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")

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
        """Add a document to the journal (fails if its FD number or key is already there)."""
        conn.execute(
            "INSERT INTO documents (fd_number, doc_type, idempotency_key, body) VALUES (?, ?, ?, ?)",
            (doc.fd_number, doc.doc_type, doc.idempotency_key, json.dumps(doc.to_dict(), ensure_ascii=False)),
        )

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
    def journal(conn: sqlite3.Connection, *, after_fd: int, limit: int) -> list[FiscalDocument]:
        """Documents with FD numbers above ``after_fd``, ascending, at most ``limit``."""
        rows = conn.execute(
            "SELECT body FROM documents WHERE fd_number > ? ORDER BY fd_number LIMIT ?", (after_fd, limit)
        ).fetchall()
        return [FiscalDocument.from_dict(json.loads(row[0])) for row in rows]
