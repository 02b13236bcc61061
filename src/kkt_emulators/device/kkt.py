"""The emulated KKT with its fiscal drive: prints receipts and shift reports, numbers and signs every document, keeps
a journal with each request's idempotency key, and survives restarts, crashes and a second process.

Concurrency: one device prints one document at a time. Within a process a lock serialises prints; across
processes (or several instances on one directory) an exclusive ``flock`` on ``device.lock`` does. The FD number
is allocated and the journal row inserted in one ``BEGIN IMMEDIATE`` transaction, committed before a print returns,
so a document is either fully printed (in the journal, with its number) or not at all.
"""

from __future__ import annotations

import fcntl
import random
import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta, timezone, tzinfo
from pathlib import Path
from types import TracebackType
from typing import Literal

from kkt_clock import Clock, SystemClock
from kkt_emulators.device import documents
from kkt_emulators.device.errors import (
    DeviceNotFound,
    DeviceOffline,
    InvalidTask,
    PaperOut,
    ShiftAlreadyOpen,
    ShiftExpired,
    ShiftNotOpen,
)
from kkt_emulators.device.models import DeviceStatus, FiscalDocument, ReceiptTask, Registration
from kkt_emulators.device.store import DB_FILE, State, Store
from kkt_emulators.device.validation import validate_task

MOSCOW = timezone(timedelta(hours=3), "MSK")
SHIFT_MAX_SECONDS = 24 * 3600
DEFAULT_DELAY_MS = (200, 500)
LOCK_FILE = "device.lock"
MAX_KEY_LENGTH = 256

Fault = Literal["paper_out", "offline"]


class EmulatedKKT:
    """A KKT with its fiscal drive, persisted under ``state_dir``; thread-safe, and safe across processes.

    ``print_delay_ms``: ``None`` waits a random 200–500 ms per printed document, ``0`` never waits. ``clock`` gives
    document times and shift expiry; ``rng`` makes the registration and the delays reproducible; ``tz`` is the
    device's local time zone (default UTC+3). ``create=False`` opens a registered device only: a directory without
    one raises :class:`DeviceNotFound` and is left as it was, instead of getting a brand-new fiscal drive.
    """

    def __init__(
        self,
        state_dir: Path,
        *,
        print_delay_ms: int | None = None,
        clock: Clock | None = None,
        rng: random.Random | None = None,
        tz: tzinfo | None = None,
        create: bool = True,
    ) -> None:
        if print_delay_ms is not None and print_delay_ms < 0:
            raise ValueError(f"print_delay_ms must be None or >= 0, got {print_delay_ms}")
        self._delay_ms = print_delay_ms
        self._clock: Clock = clock if clock is not None else SystemClock()
        self._rng = rng if rng is not None else random.Random()
        self._tz: tzinfo = tz if tz is not None else MOSCOW
        self._print_lock = threading.Lock()
        self._db_lock = threading.Lock()
        self._closed = False
        state_dir = Path(state_dir)
        if not create and not (state_dir / DB_FILE).is_file():
            raise DeviceNotFound(state_dir)
        state_dir.mkdir(parents=True, exist_ok=True)
        self.state_dir = state_dir
        self._lock_file = open(state_dir / LOCK_FILE, "a+b")  # noqa: SIM115 - held for the instance's life
        try:
            with self._device_lock():
                self._store = Store(state_dir)
                try:
                    self.registration: Registration = self._load_or_register(rng, create=create)
                except BaseException:
                    self._store.close()
                    raise
        except BaseException:
            self._lock_file.close()
            raise

    # -- lifecycle -----------------------------------------------------------------------------------------------

    def close(self) -> None:
        """Release the database and the lock file; further calls fail. Closing twice is harmless."""
        with self._print_lock, self._db_lock:
            if self._closed:
                return
            self._closed = True
            self._store.close()
            self._lock_file.close()

    def __enter__(self) -> EmulatedKKT:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"EmulatedKKT({str(self.state_dir)!r}, fn={self.registration.fn_number})"

    # -- printing ------------------------------------------------------------------------------------------------

    def print_receipt(self, task: ReceiptTask, *, idempotency_key: str) -> FiscalDocument:
        """Print ``task`` once per ``idempotency_key``: a repeated key returns the first document, printing nothing.

        Opens a shift first if none is open. Raises :class:`PaperOut`, :class:`DeviceOffline`, :class:`InvalidTask`
        or :class:`ShiftExpired` with nothing printed. Returns after the document is durably in the journal.
        """
        if not isinstance(idempotency_key, str) or not idempotency_key or len(idempotency_key) > MAX_KEY_LENGTH:
            raise InvalidTask(f"ключ идемпотентности должен быть строкой от 1 до {MAX_KEY_LENGTH} символов")
        with self._printing():
            if self._delay_ms != 0:
                with self._db_lock, self._store.read() as conn:
                    found = Store.find_by_key(conn, idempotency_key)
                    if found is not None:
                        return found
                    state = Store.load_state(conn)
                    self._check_receipt(state, task)
                self._wait_print(1 if state.shift_open else 2)
            with self._db_lock, self._store.write() as conn:
                found = Store.find_by_key(conn, idempotency_key)
                if found is not None:
                    return found
                state = Store.load_state(conn)
                self._check_receipt(state, task)
                when = self._now(state)
                if not state.shift_open:
                    Store.insert_document(conn, self._open_shift_doc(state, when))
                state.last_fd += 1
                state.receipts_in_shift += 1
                state.docs_in_shift += 1
                doc = documents.receipt(
                    self.registration,
                    task,
                    fd_number=state.last_fd,
                    when=when,
                    shift=state.shift_number,
                    receipt_number=state.receipts_in_shift,
                    idempotency_key=idempotency_key,
                )
                Store.insert_document(conn, doc)
                Store.save_state(conn, state)
                return doc

    def open_shift(self) -> FiscalDocument:
        """Open a new shift (prints the shift opening report). :class:`ShiftAlreadyOpen` if one is open."""
        with self._printing():
            self._wait_print(1)
            with self._db_lock, self._store.write() as conn:
                state = Store.load_state(conn)
                self._check_faults(state)
                if state.shift_open:
                    raise ShiftAlreadyOpen(f"Смена {state.shift_number} уже открыта")
                doc = self._open_shift_doc(state, self._now(state))
                Store.insert_document(conn, doc)
                Store.save_state(conn, state)
                return doc

    def close_shift(self) -> FiscalDocument:
        """Close the open shift, expired or not (prints the Z report). :class:`ShiftNotOpen` if none is open."""
        with self._printing():
            self._wait_print(1)
            with self._db_lock, self._store.write() as conn:
                state = Store.load_state(conn)
                self._check_faults(state)
                if not state.shift_open:
                    raise ShiftNotOpen("Смена не открыта")
                state.last_fd += 1
                state.docs_in_shift += 1
                doc = documents.shift_closing(
                    self.registration,
                    fd_number=state.last_fd,
                    when=self._now(state),
                    shift=state.shift_number,
                    receipts=state.receipts_in_shift,
                    documents=state.docs_in_shift,
                )
                state.shift_open = False
                state.shift_opened_at = None
                state.receipts_in_shift = 0
                state.docs_in_shift = 0
                Store.insert_document(conn, doc)
                Store.save_state(conn, state)
                return doc

    # -- queries -------------------------------------------------------------------------------------------------

    def find_by_key(self, idempotency_key: str) -> FiscalDocument | None:
        """The document printed for ``idempotency_key``, or None if the device never printed it."""
        with self._reading() as conn:
            return Store.find_by_key(conn, idempotency_key)

    def find_by_number(self, fd_number: int) -> FiscalDocument | None:
        """The document numbered ``fd_number``, or None."""
        with self._reading() as conn:
            return Store.find_by_number(conn, fd_number)

    def journal(self, *, after_fd: int = 0, limit: int = 1000) -> list[FiscalDocument]:
        """Documents numbered above ``after_fd``, ascending, at most ``limit`` of them."""
        if limit < 0:
            raise ValueError("limit must not be negative")
        with self._reading() as conn:
            return Store.journal(conn, after_fd=after_fd, limit=limit)

    def status(self) -> DeviceStatus:
        """Faults, shift and counters as the device sees them now."""
        with self._reading() as conn:
            state = Store.load_state(conn)
        opened = state.shift_opened_at
        return DeviceStatus(
            online=not state.offline,
            paper=not state.paper_out,
            shift_open=state.shift_open,
            shift_number=state.shift_number,
            receipts_in_shift=state.receipts_in_shift,
            shift_opened_at=None if opened is None else datetime.fromtimestamp(int(opened), self._tz),
            shift_expired=self._expired(state),
            last_fd_number=state.last_fd,
            fn_number=self.registration.fn_number,
            reg_number=self.registration.reg_number,
        )

    # -- faults --------------------------------------------------------------------------------------------------

    def set_fault(self, fault: Fault, enabled: bool = True) -> None:
        """Switch a fault on or off; persisted, so every instance on this directory sees it at its next call."""
        if fault not in ("paper_out", "offline"):
            raise ValueError(f"unknown fault {fault!r}; known: paper_out, offline")
        with self._db_lock:
            self._ensure_open()
            with self._store.write() as conn:
                Store.set_faults(conn, **{fault: enabled})

    def clear_faults(self) -> None:
        """Switch every fault off."""
        with self._db_lock:
            self._ensure_open()
            with self._store.write() as conn:
                Store.set_faults(conn, paper_out=False, offline=False)

    # -- internals -----------------------------------------------------------------------------------------------

    def _load_or_register(self, rng: random.Random | None, *, create: bool) -> Registration:
        with self._store.write() as conn:
            reg = Store.load_registration(conn)
            if reg is not None:
                return reg
            if not create:
                raise DeviceNotFound(self.state_dir)
            reg = documents.new_registration(rng)
            now = self._clock.time()
            Store.save_registration(conn, reg, when=now)
            state = Store.load_state(conn)
            state.last_fd = 1
            doc = documents.registration_report(reg, fd_number=1, when=self._now(state))
            Store.insert_document(conn, doc)
            Store.save_state(conn, state)
            return reg

    def _ensure_open(self) -> None:
        if self._closed:
            raise RuntimeError("this EmulatedKKT is closed")

    @contextmanager
    def _device_lock(self) -> Iterator[None]:
        fcntl.flock(self._lock_file.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(self._lock_file.fileno(), fcntl.LOCK_UN)

    @contextmanager
    def _printing(self) -> Iterator[None]:
        with self._print_lock:
            self._ensure_open()
            with self._device_lock():
                yield

    @contextmanager
    def _reading(self) -> Iterator[sqlite3.Connection]:
        with self._db_lock:
            self._ensure_open()
            with self._store.read() as conn:
                yield conn

    def _wait_print(self, documents_count: int) -> None:
        if self._delay_ms == 0:
            return
        if self._delay_ms is None:
            seconds = sum(self._rng.uniform(*DEFAULT_DELAY_MS) for _ in range(documents_count)) / 1000
        else:
            seconds = self._delay_ms * documents_count / 1000
        time.sleep(seconds)

    def _now(self, state: State) -> datetime:
        """The document time: the clock, never before the last document's time (the FN refuses time going back)."""
        wall = max(self._clock.time(), state.last_doc_time)
        state.last_doc_time = wall
        return datetime.fromtimestamp(int(wall), self._tz)

    def _expired(self, state: State) -> bool:
        opened = state.shift_opened_at
        return state.shift_open and opened is not None and self._clock.time() - opened > SHIFT_MAX_SECONDS

    @staticmethod
    def _check_faults(state: State) -> None:
        if state.offline:
            raise DeviceOffline("ККТ не отвечает (нет связи с устройством)")
        if state.paper_out:
            raise PaperOut("В ККТ закончилась бумага")

    def _check_receipt(self, state: State, task: ReceiptTask) -> None:
        self._check_faults(state)
        validate_task(task)
        if self._expired(state):
            raise ShiftExpired(
                f"Смена {state.shift_number} открыта более 24 часов: закройте смену (Z-отчёт) и откройте новую"
            )

    def _open_shift_doc(self, state: State, when: datetime) -> FiscalDocument:
        state.last_fd += 1
        state.shift_number += 1
        state.shift_open = True
        state.shift_opened_at = self._clock.time()
        state.receipts_in_shift = 0
        state.docs_in_shift = 1
        return documents.shift_opening(self.registration, fd_number=state.last_fd, when=when, shift=state.shift_number)
