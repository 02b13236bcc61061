"""Opening the buffer's SQLite file with the storage rules: WAL, synchronous=FULL (read back), busy timeout.

Writes go through :meth:`Database.write`, a ``BEGIN IMMEDIATE`` transaction, so that two processes on one file
serialize their writes instead of failing halfway.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from importlib import resources
from pathlib import Path

SCHEMA_VERSION = 1
_SYNCHRONOUS_FULL = 2


class StorageError(Exception):
    """The buffer's file cannot be used as the storage rules require."""


class Database:
    """One connection to the buffer file, shared by threads under a lock."""

    def __init__(self, path: Path, *, busy_timeout_ms: int = 10_000) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._lock = threading.RLock()
        self._conn = sqlite3.connect(
            path, isolation_level=None, check_same_thread=False, timeout=busy_timeout_ms / 1000
        )
        self._conn.row_factory = sqlite3.Row
        self._conn.execute(f"PRAGMA busy_timeout = {int(busy_timeout_ms)}")
        mode = self._conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
        if str(mode).lower() != "wal":
            raise StorageError(f"{path}: journal_mode is {mode}, WAL is required")
        self._conn.execute("PRAGMA synchronous = FULL")
        synchronous = self._conn.execute("PRAGMA synchronous").fetchone()[0]
        if synchronous != _SYNCHRONOUS_FULL:
            raise StorageError(f"{path}: synchronous is {synchronous}, FULL (2) is required")
        self._conn.execute("PRAGMA foreign_keys = ON")
        self._migrate()

    def _migrate(self) -> None:
        with self.write() as conn:
            version = conn.execute("PRAGMA user_version").fetchone()[0]
            if version > SCHEMA_VERSION:
                raise StorageError(
                    f"{self.path}: schema version {version} is newer than this adapter ({SCHEMA_VERSION})"
                )
            if version < SCHEMA_VERSION:
                script = resources.files("kkt_adapter.buffer").joinpath("schema.sql").read_text("utf-8")
                for statement in _split_sql(script):
                    conn.execute(statement)
                conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")

    @contextmanager
    def write(self) -> Iterator[sqlite3.Connection]:
        """A ``BEGIN IMMEDIATE`` transaction, committed (and fsynced) on exit, rolled back on error."""
        with self._lock:
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                yield self._conn
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
            self._conn.execute("COMMIT")

    @contextmanager
    def read(self) -> Iterator[sqlite3.Connection]:
        """The connection for reads (each statement sees a committed snapshot)."""
        with self._lock:
            yield self._conn

    def writable(self) -> bool:
        """Tell whether a write transaction can be started and committed now."""
        try:
            with self.write() as conn:
                conn.execute("UPDATE meta SET value = value WHERE key = 'probe'")
        except sqlite3.Error:
            return False
        return True

    def close(self) -> None:
        with self._lock:
            self._conn.close()


def _split_sql(script: str) -> list[str]:
    """Split a schema script into statements; triggers keep their inner semicolons."""
    statements: list[str] = []
    current: list[str] = []
    for line in script.splitlines():
        stripped = line.strip()
        if not stripped or stripped.startswith("--"):
            continue
        current.append(line)
        text = "\n".join(current)
        if sqlite3.complete_statement(text):
            statements.append(text)
            current = []
    return statements
