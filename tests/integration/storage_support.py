"""Storage faults for the integration tests: the buffer's writer refuses every write (SQLite's authorizer) and is
let go again, between its transactions."""

from __future__ import annotations

import sqlite3

from kkt_adapter.buffer.connection import Database

WRITES = (sqlite3.SQLITE_INSERT, sqlite3.SQLITE_UPDATE, sqlite3.SQLITE_DELETE)


def deny_writes(db: Database) -> None:
    def authorize(action: int, *_: object) -> int:
        return sqlite3.SQLITE_DENY if action in WRITES else sqlite3.SQLITE_OK

    with db._lock:  # between the writer's transactions
        db._conn.set_authorizer(authorize)


def allow_writes(db: Database) -> None:
    with db._lock:
        db._conn.set_authorizer(None)
