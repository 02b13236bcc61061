"""How the emulated KKT prints: one document at a time, each either durably journaled with its number or not at all.

Within a process a lock serialises prints; across processes (or several instances on one directory) an exclusive
``flock`` on ``device.lock`` does. A print checks its request against the device's state, waits the print delay, then
checks again and journals its documents in one ``BEGIN IMMEDIATE`` transaction, committed before the print returns.
A repeated idempotency key is answered from the journal before any check, so a retry never prints twice.
"""

from __future__ import annotations

import fcntl
import random
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from kkt_emulators.device.errors import InvalidTask
from kkt_emulators.device.models import FiscalDocument
from kkt_emulators.device.store import State, Store

LOCK_FILE = "device.lock"
DEFAULT_DELAY_MS = (200, 500)
MAX_KEY_LENGTH = 256

#: Refuses the request (raises a :class:`DeviceError`) or returns how many documents it will print.
Check = Callable[[sqlite3.Connection, State], int]
#: Numbers, journals and returns the requested document (and any it needs first), updating the state.
Build = Callable[[sqlite3.Connection, State], FiscalDocument]
#: One document of a batch: its key, its type, and how it is checked and built.
Step = tuple[str, int, Check, Build]


def check_key(key: object) -> None:
    """An idempotency key is a string of 1..256 characters."""
    if not isinstance(key, str) or not key or len(key) > MAX_KEY_LENGTH:
        raise InvalidTask(f"ключ идемпотентности должен быть строкой от 1 до {MAX_KEY_LENGTH} символов")


class Printer:
    """The device's print path over its store: locks, print delays, transactions; thread-safe and process-safe.

    ``delay_ms``: ``None`` waits a random 200–500 ms per printed document (drawn from ``rng``), ``0`` never waits.
    """

    def __init__(self, state_dir: Path, *, delay_ms: int | None, rng: random.Random) -> None:
        self._delay_ms = delay_ms
        self._rng = rng
        self._print_lock = threading.Lock()
        self._db_lock = threading.Lock()
        self._closed = False
        self._lock_file = open(state_dir / LOCK_FILE, "a+b")  # noqa: SIM115 - held for the instance's life
        try:
            with self.device_lock():
                self.store = Store(state_dir)
        except BaseException:
            self._lock_file.close()
            raise

    def close(self) -> None:
        """Release the database and the lock file; further calls fail. Closing twice is harmless."""
        with self._print_lock, self._db_lock:
            if self._closed:
                return
            self._closed = True
            self.store.close()
            self._lock_file.close()

    @contextmanager
    def device_lock(self) -> Iterator[None]:
        """The cross-process lock: one printer per directory."""
        fcntl.flock(self._lock_file.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(self._lock_file.fileno(), fcntl.LOCK_UN)

    @contextmanager
    def reading(self) -> Iterator[sqlite3.Connection]:
        """A consistent snapshot of the store, not waiting behind a print's delay."""
        with self._db_lock:
            self._ensure_open()
            with self.store.read() as conn:
                yield conn

    @contextmanager
    def writing(self) -> Iterator[sqlite3.Connection]:
        """A write transaction that prints nothing (faults, acknowledgements): it does not wait behind a print."""
        with self._db_lock:
            self._ensure_open()
            with self.store.write() as conn:
                yield conn

    def print_once(self, key: str | None, doc_type: int, check: Check, build: Build) -> FiscalDocument:
        """Print a document of ``doc_type``, once per ``key`` (None: no key, every call prints).

        A key already journaled returns its document, printing nothing, if it is of ``doc_type``; a key used by
        another kind of document is :class:`InvalidTask`. Otherwise ``check`` runs (before and after the print
        delay, the state may change meanwhile) and ``build`` journals the document in the same transaction.
        """
        if key is not None:
            check_key(key)
        with self._print_lock:
            self._ensure_open()
            with self.device_lock():
                if self._delay_ms != 0:
                    with self._db_lock, self.store.read() as conn:
                        found = self._replay(conn, key, doc_type)
                        if found is not None:
                            return found
                        count = check(conn, Store.load_state(conn))
                    self._wait(count)
                with self._db_lock, self.store.write() as conn:
                    found = self._replay(conn, key, doc_type)
                    if found is not None:
                        return found
                    state = Store.load_state(conn)
                    check(conn, state)
                    doc = build(conn, state)
                    Store.save_state(conn, state)
                    return doc

    @property
    def instant(self) -> bool:
        """Whether prints take no time (no print delay): only then does a batch share one transaction."""
        return self._delay_ms == 0

    def print_batch(
        self, steps: Sequence[tuple[str, int, Check, Build] | Exception]
    ) -> list[FiscalDocument | Exception]:
        """Print each ``(key, doc_type, check, build)`` as :meth:`print_once` would, without a delay, in one
        transaction with a savepoint per document: a refused (or failing) document rolls back alone and its
        exception takes its place in the result. An exception given as a step is returned as it is. If the commit
        fails, every document's place holds that error (nothing of the batch was journaled)."""
        outcomes: list[FiscalDocument | Exception] = []
        with self._print_lock:
            self._ensure_open()
            with self.device_lock():
                try:
                    with self._db_lock, self.store.write() as conn:
                        for step in steps:
                            outcomes.append(step if isinstance(step, Exception) else self._one_in_batch(conn, step))
                except Exception as exc:
                    return [step if isinstance(step, Exception) else exc for step in steps]
        return outcomes

    def _one_in_batch(
        self, conn: sqlite3.Connection, step: tuple[str, int, Check, Build]
    ) -> FiscalDocument | Exception:
        key, doc_type, check, build = step
        conn.execute("SAVEPOINT document")
        try:
            found = self._replay(conn, key, doc_type)
            if found is None:
                state = Store.load_state(conn)
                check(conn, state)
                found = build(conn, state)
                Store.save_state(conn, state)
        except Exception as exc:
            conn.execute("ROLLBACK TO document")
            conn.execute("RELEASE document")
            return exc
        conn.execute("RELEASE document")
        return found

    @staticmethod
    def _replay(conn: sqlite3.Connection, key: str | None, doc_type: int) -> FiscalDocument | None:
        if key is None:
            return None
        found = Store.find_by_key(conn, key)
        if found is not None and found.doc_type != doc_type:
            raise InvalidTask(
                f"ключ идемпотентности {key!r} уже использован документом № {found.fd_number} другого типа "
                f"({found.doc_type})"
            )
        return found

    def _ensure_open(self) -> None:
        if self._closed:
            raise RuntimeError("this EmulatedKKT is closed")

    def _wait(self, documents_count: int) -> None:
        if self._delay_ms == 0:
            return
        if self._delay_ms is None:
            seconds = sum(self._rng.uniform(*DEFAULT_DELAY_MS) for _ in range(documents_count)) / 1000
        else:
            seconds = self._delay_ms * documents_count / 1000
        time.sleep(seconds)
