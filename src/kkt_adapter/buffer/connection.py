"""Opening the buffer's SQLite file with the storage rules: WAL, synchronous=FULL (read back), busy timeout.

Writes are ``BEGIN IMMEDIATE`` transactions, so that two processes on one file serialize their writes instead of
failing halfway; the receipt path's short writes are group-committed (:meth:`Database.run`). A file that SQLite finds
damaged (``PRAGMA quick_check`` at open) is refused with a :class:`StorageError` that names the recovery command.
"""

from __future__ import annotations

import queue
import sqlite3
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import Future
from contextlib import contextmanager
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any, Generic, TypeVar

T = TypeVar("T")

SCHEMA_VERSION = 5
_SYNCHRONOUS_FULL = 2
#: SQLite's result codes for a file that is not (or no longer) a valid database.
_DAMAGED_CODES = frozenset({"SQLITE_CORRUPT", "SQLITE_NOTADB"})
#: How many of ``quick_check``'s problem lines a message quotes.
_PROBLEMS_SHOWN = 3
RECOVER_COMMAND = "kkt-adapter buffer recover"


class StorageError(Exception):
    """The buffer's file cannot be used as the storage rules require."""


#: What a failing buffer raises: SQLite's errors, the file system's, and the storage rules' own.
STORAGE_ERRORS: tuple[type[Exception], ...] = (sqlite3.Error, OSError, StorageError)


def damaged_message(path: Path, problem: str) -> str:
    """The message for a damaged buffer file: which file, what is wrong, and how to recover."""
    return (
        f"{path}: the buffer file is damaged ({problem}); the adapter will not start on it. Stop the adapter and run "
        f"`{RECOVER_COMMAND}`: it moves the file aside and rebuilds the buffer from the device's journal"
    )


def quick_check(conn: sqlite3.Connection, *, full: bool = False) -> list[str]:
    """SQLite's own check of the file (``quick_check``, or ``integrity_check`` with ``full``): its problems, if any."""
    pragma = "integrity_check" if full else "quick_check"
    rows = [str(row[0]) for row in conn.execute(f"PRAGMA {pragma}")]
    return [] if rows == ["ok"] else rows


class Database:
    """The buffer file: a write connection behind a lock, a read connection per reading thread, and group commit.

    :meth:`run` hands a short transaction body to a writer thread, which runs the bodies queued by concurrent
    callers in one ``BEGIN IMMEDIATE`` transaction (each in a savepoint, so one failing body rolls back alone) and
    commits once: one fsync for a batch instead of one per receipt. A body's result is returned only after the
    commit, so nothing is acknowledged before it is durable.
    """

    MAX_BATCH = 256

    def __init__(self, path: Path, *, busy_timeout_ms: int = 10_000) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._lock = threading.RLock()
        self._busy_timeout_ms = busy_timeout_ms
        self._conn = self._open()
        # WAL lets readers run beside the writer and beside each other: each thread reads on its own connection.
        self._readers = threading.local()
        self._read_conns: list[sqlite3.Connection] = []
        self._read_conns_lock = threading.Lock()
        #: The outcome of the latest write transaction (``None`` before any): status reads it, never the lock.
        self.last_write_error: str | None = None
        self.last_write_ok: bool | None = None
        self._queue: queue.SimpleQueue[_Job[Any] | None] = queue.SimpleQueue()
        self._submit_lock = threading.Lock()
        self._closed = False
        self._writer = threading.Thread(target=self._write_loop, name="buffer-writer", daemon=True)
        self._writer.start()

    def _open(self) -> sqlite3.Connection:
        """Connect, check the file and migrate it; a damaged file raises :class:`StorageError` naming the remedy."""
        try:
            self._conn = self._connect(self._busy_timeout_ms)
        except sqlite3.DatabaseError as exc:
            raise self._open_error(exc) from exc
        try:
            problems = quick_check(self._conn)
            if problems:
                shown = "; ".join(problems[:_PROBLEMS_SHOWN])
                more = f" and {len(problems) - _PROBLEMS_SHOWN} more" if len(problems) > _PROBLEMS_SHOWN else ""
                raise StorageError(damaged_message(self.path, f"PRAGMA quick_check: {shown}{more}"))
            self._migrate()
        except BaseException as exc:
            self._conn.close()
            if isinstance(exc, sqlite3.DatabaseError):
                raise self._open_error(exc) from exc
            raise
        return self._conn

    def _open_error(self, exc: sqlite3.DatabaseError) -> StorageError:
        if getattr(exc, "sqlite_errorname", None) in _DAMAGED_CODES:
            return StorageError(damaged_message(self.path, str(exc)))
        return StorageError(f"{self.path}: cannot open the buffer file: {exc}")

    def _connect(self, busy_timeout_ms: int) -> sqlite3.Connection:
        conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False, timeout=busy_timeout_ms / 1000)
        conn.row_factory = sqlite3.Row
        conn.execute(f"PRAGMA busy_timeout = {int(busy_timeout_ms)}")
        mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
        if str(mode).lower() != "wal":
            raise StorageError(f"{self.path}: journal_mode is {mode}, WAL is required")
        conn.execute("PRAGMA synchronous = FULL")
        synchronous = conn.execute("PRAGMA synchronous").fetchone()[0]
        if synchronous != _SYNCHRONOUS_FULL:
            raise StorageError(f"{self.path}: synchronous is {synchronous}, FULL (2) is required")
        conn.execute("PRAGMA foreign_keys = ON")
        return conn

    def _migrate(self) -> None:
        """Bring the file to :data:`SCHEMA_VERSION`, one migration per transaction; refuse a newer file.

        The version is read again inside each transaction, so two processes opening one old file at once apply each
        migration once.
        """
        while True:
            with self.write() as conn:
                version = conn.execute("PRAGMA user_version").fetchone()[0]
                if version > SCHEMA_VERSION:
                    raise StorageError(
                        f"{self.path}: written by a newer kkt-adapter (buffer schema version {version}; this release "
                        f"reads up to {SCHEMA_VERSION}): run that release again, or the newer one, with this file"
                    )
                if version == SCHEMA_VERSION:
                    return
                migration = resources.files("kkt_adapter.buffer.migrations").joinpath(f"v{version + 1}.sql")
                for statement in _split_sql(migration.read_text("utf-8")):
                    conn.execute(statement)
                conn.execute(f"PRAGMA user_version = {version + 1}")

    @contextmanager
    def write(self) -> Iterator[sqlite3.Connection]:
        """A ``BEGIN IMMEDIATE`` transaction of its own, committed (and fsynced) on exit, rolled back on error."""
        with self._lock:
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                yield self._conn
                self._conn.execute("COMMIT")
            except BaseException:
                # Also after a failed COMMIT (disk full, I/O error), so the connection never stays in a transaction.
                if self._conn.in_transaction:
                    self._conn.execute("ROLLBACK")
                raise

    def submit(self, body: Callable[[sqlite3.Connection], T]) -> Future[T]:
        """Queue a transaction body for the writer thread; the future resolves after its batch is committed."""
        job: _Job[T] = _Job(body, Future())
        with self._submit_lock:
            if self._closed:
                raise StorageError(f"{self.path}: the buffer is closed")
            self._queue.put(job)
        return job.future

    def run(self, body: Callable[[sqlite3.Connection], T]) -> T:
        """Run a transaction body with group commit and return its result once it is durable."""
        return self.submit(body).result()

    def _write_loop(self) -> None:
        while True:
            first = self._queue.get()
            if first is None:
                return
            batch: list[_Job[Any]] = [first]
            stop = False
            while len(batch) < self.MAX_BATCH:
                try:
                    job = self._queue.get_nowait()
                except queue.Empty:
                    break
                if job is None:
                    stop = True
                    break
                batch.append(job)
            self._commit(batch)
            if stop:
                return

    def _commit(self, batch: list[_Job[Any]]) -> None:
        # A job whose caller gave up (a cancelled future) is not run, and nothing is delivered to it.
        batch = [job for job in batch if job.future.set_running_or_notify_cancel()]
        if not batch:
            return
        outcomes: list[tuple[bool, Any]] = []
        try:
            with self.write() as conn:
                for job in batch:
                    conn.execute("SAVEPOINT job")
                    try:
                        outcomes.append((True, job.body(conn)))
                    except Exception as exc:
                        conn.execute("ROLLBACK TO job")
                        outcomes.append((False, exc))
                    conn.execute("RELEASE job")
        except Exception as exc:
            self._record_write(exc)
            for job in batch:
                job.future.set_exception(exc)
            return
        self._record_write(None)
        for job, (ok, value) in zip(batch, outcomes, strict=True):
            if ok:
                job.future.set_result(value)
            else:
                job.future.set_exception(value)

    def _record_write(self, error: BaseException | None) -> None:
        self.last_write_ok = error is None
        self.last_write_error = None if error is None else f"{type(error).__name__}: {error}"

    @contextmanager
    def read(self) -> Iterator[sqlite3.Connection]:
        """This thread's read connection: it sees committed data and shares no lock with the writer or other readers.

        Reads outside a transaction each see the latest commit; a multi-statement read that must see one snapshot
        opens its own ``BEGIN`` on the connection it gets here.
        """
        conn: sqlite3.Connection | None = getattr(self._readers, "conn", None)
        if conn is None:
            with self._read_conns_lock:
                if self._closed:
                    raise StorageError(f"{self.path}: the buffer is closed")
                conn = self._connect(self._busy_timeout_ms)
                self._read_conns.append(conn)
            self._readers.conn = conn
        yield conn

    def probe_write(self) -> bool:
        """Write and commit a counter through the writer (a real write, fsynced), then read it back on a connection
        of its own; ``False`` (and :attr:`last_write_error` says why) if the file refuses either."""

        def body(conn: sqlite3.Connection) -> int:
            row = conn.execute(
                "INSERT INTO meta (key, value) VALUES ('probe', '1')"
                " ON CONFLICT (key) DO UPDATE SET value = CAST(value AS INTEGER) + 1 RETURNING value"
            ).fetchone()
            return int(row[0])

        try:
            written = self.run(body)
            with self.read() as conn:
                row = conn.execute("SELECT value FROM meta WHERE key = 'probe'").fetchone()
            # Another process may have probed since: the value read back is at least the one written.
            if row is None or int(row[0]) < written:
                raise StorageError(f"{self.path}: wrote probe {written}, read back {None if row is None else row[0]}")
        except STORAGE_ERRORS as exc:
            self._record_write(exc)
            return False
        return True

    def close(self) -> None:
        """Commit what is queued, stop the writer, and close both connections; later submissions raise."""
        with self._submit_lock:
            self._closed = True
            self._queue.put(None)
        self._writer.join(timeout=30)
        with self._lock:
            self._conn.close()
        with self._read_conns_lock:
            for conn in self._read_conns:
                conn.close()
            self._read_conns.clear()


@dataclass(frozen=True)
class _Job(Generic[T]):
    body: Callable[[sqlite3.Connection], T]
    future: Future[T]


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
