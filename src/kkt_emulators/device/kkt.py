"""The emulated KKT with its fiscal drive: prints receipts, corrections and shift reports, numbers and signs every
document, keeps a journal with each request's idempotency key, counts each shift, follows the FN's life and its OFD
exchange, and survives restarts, crashes and a second process.

How a print is serialised and made durable is :mod:`kkt_emulators.device.printer`'s; what each request prints and
in which order it refuses, :mod:`kkt_emulators.device.rules`'; what each document changes in the device's state,
:mod:`kkt_emulators.device.day`'s; the FN's rules, :mod:`kkt_emulators.device.fn`'s; the tags,
:mod:`kkt_emulators.device.documents`'. This module is the device as its users see it: it registers a new device,
and prints, answers queries and switches faults over those parts.
"""

from __future__ import annotations

import random
import sqlite3
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta, timezone, tzinfo
from pathlib import Path
from types import TracebackType
from typing import Literal

from kkt_clock import Clock, SystemClock
from kkt_emulators.device import documents, fn, reports
from kkt_emulators.device.errors import DeviceNotFound, InvalidTask, ShiftNotOpen
from kkt_emulators.device.models import (
    DOC_CORRECTION,
    DOC_RECEIPT,
    DOC_SHIFT_CLOSING,
    DOC_SHIFT_OPENING,
    CorrectionTask,
    DeviceStatus,
    FiscalDocument,
    FNStatus,
    ReceiptTask,
    Registration,
    ShiftReport,
)
from kkt_emulators.device.printer import Printer, Step, check_key
from kkt_emulators.device.rules import DeviceTime, Rules, check_faults
from kkt_emulators.device.store import DB_FILE, State, Store
from kkt_emulators.device.validation import check_registration_options

MOSCOW = timezone(timedelta(hours=3), "MSK")
SHIFT_MAX_SECONDS = reports.SHIFT_MAX_SECONDS

Fault = Literal["paper_out", "offline"]


class EmulatedKKT:
    """A KKT with its fiscal drive, persisted under ``state_dir``; thread-safe, and safe across processes.

    ``print_delay_ms``: ``None`` waits a random 200–500 ms per printed document, ``0`` never waits. ``clock`` gives
    document times, shift expiry and the FN's ages; ``rng`` makes the registration and the delays reproducible; ``tz``
    is the device's local time zone (default UTC+3). ``create=False`` opens a registered device only: a directory
    without one raises :class:`DeviceNotFound` and is left as it was, instead of getting a brand-new fiscal drive.

    Registration only (ignored when the directory already holds a device, whose values are stored): ``taxation``, the
    1055 bitmask of the systems registered (default 1, OSN); ``fn_life_months``, the FN's validity in calendar months
    from the registration date (default 15); ``fn_archive_capacity``, how many documents the FN holds.
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
        taxation: int = 1,
        fn_life_months: int = fn.DEFAULT_LIFE_MONTHS,
        fn_archive_capacity: int = fn.DEFAULT_ARCHIVE_CAPACITY,
    ) -> None:
        if print_delay_ms is not None and print_delay_ms < 0:
            raise ValueError(f"print_delay_ms must be None or >= 0, got {print_delay_ms}")
        check_registration_options(
            taxation=taxation, fn_life_months=fn_life_months, fn_archive_capacity=fn_archive_capacity
        )
        self._clock: Clock = clock if clock is not None else SystemClock()
        self._tz: tzinfo = tz if tz is not None else MOSCOW
        self._time = DeviceTime(self._clock, self._tz)
        state_dir = Path(state_dir)
        if not create and not (state_dir / DB_FILE).is_file():
            raise DeviceNotFound(state_dir)
        state_dir.mkdir(parents=True, exist_ok=True)
        self.state_dir = state_dir
        self._printer = Printer(state_dir, delay_ms=print_delay_ms, rng=rng if rng is not None else random.Random())
        try:
            with self._printer.device_lock(), self._printer.store.write() as conn:
                life = fn.FNLife(
                    valid_until=fn.add_months(self._time.local(self._clock.time()).date(), fn_life_months),
                    capacity=fn_archive_capacity,
                )
                self.registration: Registration = self._load_or_register(
                    conn, rng, create=create, taxation=taxation, life=life
                )
                stored = Store.load_fn_life(conn)
            if stored is None:
                raise RuntimeError(f"the fiscal drive in {state_dir} has a registration but no stored life")
            self._life = stored
            self._rules = Rules(self.registration, stored, self._time)
        except BaseException:
            self._printer.close()
            raise

    # -- lifecycle -----------------------------------------------------------------------------------------------

    def close(self) -> None:
        """Release the database and the lock file; further calls fail. Closing twice is harmless."""
        self._printer.close()

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

        Opens a shift first if none is open. Raises :class:`PaperOut`, :class:`DeviceOffline`, :class:`InvalidTask`,
        an :class:`FNBlocked` or :class:`ShiftExpired` with nothing printed. Returns after the document is durably in
        the journal.
        """
        check_key(idempotency_key)
        return self._printer.print_once(idempotency_key, DOC_RECEIPT, *self._rules.receipt(task, idempotency_key))

    @property
    def instant(self) -> bool:
        """Whether prints take no time (no print delay): only then does :meth:`print_batch` share a transaction."""
        return self._printer.instant

    def print_batch(self, jobs: Sequence[tuple[ReceiptTask | CorrectionTask, str]]) -> list[FiscalDocument | Exception]:
        """Print each ``(task, idempotency_key)`` as :meth:`print_receipt` (or :meth:`print_correction`) would, in
        one journal transaction with a savepoint per document: a job that is refused prints nothing and the others
        print. Returns each job's document or its exception, in order, after the one commit. With a print delay the
        jobs print one by one (each waits its own delay)."""
        if not self._printer.instant:
            return [self._print_one(task, key) for task, key in jobs]
        steps: list[Step | Exception] = []
        for task, key in jobs:
            try:
                check_key(key)
            except InvalidTask as exc:
                steps.append(exc)
                continue
            if isinstance(task, CorrectionTask):
                steps.append((key, DOC_CORRECTION, *self._rules.correction(task, key)))
            else:
                steps.append((key, DOC_RECEIPT, *self._rules.receipt(task, key)))
        return self._printer.print_batch(steps)

    def _print_one(self, task: ReceiptTask | CorrectionTask, key: str) -> FiscalDocument | Exception:
        try:
            if isinstance(task, CorrectionTask):
                return self.print_correction(task, idempotency_key=key)
            return self.print_receipt(task, idempotency_key=key)
        except Exception as exc:
            return exc

    def print_correction(self, task: CorrectionTask, *, idempotency_key: str) -> FiscalDocument:
        """Print a correction receipt (type 31) once per ``idempotency_key``, as :meth:`print_receipt` prints.

        It opens a shift if none is open, takes the next FD number and the next receipt number in the shift, and
        counts in the shift's totals like a receipt. Its basis date (1178) may not be after the document's date.
        """
        check_key(idempotency_key)
        steps = self._rules.correction(task, idempotency_key)
        return self._printer.print_once(idempotency_key, DOC_CORRECTION, *steps)

    def open_shift(
        self, *, idempotency_key: str | None = None, cashier_name: str | None = None, cashier_inn: str | None = None
    ) -> FiscalDocument:
        """Open a new shift (prints the shift opening report). :class:`ShiftAlreadyOpen` if one is open.

        With ``idempotency_key``, a repeated key returns the first opening report and prints nothing. A named cashier
        (1021, and 1203 with an INN) goes on the report, as FFD 1.2 has it; :class:`InvalidTask` if it is malformed.
        """
        steps = self._rules.open_shift(idempotency_key, (cashier_name, cashier_inn))
        return self._printer.print_once(idempotency_key, DOC_SHIFT_OPENING, *steps)

    def close_shift(
        self, *, idempotency_key: str | None = None, cashier_name: str | None = None, cashier_inn: str | None = None
    ) -> FiscalDocument:
        """Close the open shift, expired or not (prints the Z report). :class:`ShiftNotOpen` if none is open.

        With ``idempotency_key``, a repeated key returns the first Z report and prints nothing. The shift's counters
        and totals stay readable with :meth:`shift_totals`. A named cashier goes on the report, as at the opening.
        """
        steps = self._rules.close_shift(idempotency_key, (cashier_name, cashier_inn))
        return self._printer.print_once(idempotency_key, DOC_SHIFT_CLOSING, *steps)

    # -- the OFD exchange ----------------------------------------------------------------------------------------

    def acknowledge(self, fd_numbers: Iterable[int]) -> int:
        """Mark these documents acknowledged by the OFD; how many were unsent until now.

        Unknown numbers and documents acknowledged already are ignored, so a repeated call changes nothing. Once the
        old documents are acknowledged, an FN blocked by the 30-day rule prints again.
        """
        numbers = list(fd_numbers)
        for number in numbers:
            if isinstance(number, bool) or not isinstance(number, int):
                raise TypeError(f"FD numbers are integers, got {number!r}")
        with self._printer.writing() as conn:
            return Store.acknowledge(conn, numbers, when=self._clock.time())

    def unsent_documents(self, *, limit: int = 100) -> list[FiscalDocument]:
        """The documents the OFD has not acknowledged yet, in FD order (what the FN sends next), at most ``limit``."""
        with self._printer.reading() as conn:
            return Store.unsent_documents(conn, limit=limit)

    def fn_status(self) -> FNStatus:
        """The fiscal drive's validity, archive, unsent documents, warnings, and why it refuses documents now."""
        with self._printer.reading() as conn:
            state = Store.load_state(conn)
            unsent = Store.unsent(conn)
        now = self._clock.time()
        today = self._time.local(max(now, state.last_doc_time)).date()
        blocked = fn.refusal(
            self._life, today=today, documents=state.last_fd, needed=1, unsent=unsent, now=now, tz=self._tz
        )
        return FNStatus(
            fn_number=self.registration.fn_number,
            validity_date=self._life.valid_until,
            ffd_version=self.registration.ffd_version,
            documents_count=state.last_fd,
            unsent_count=unsent.count,
            first_unsent_fd_number=unsent.first_fd,
            first_unsent_at=None if unsent.first_at is None else self._time.local(unsent.first_at),
            warnings=fn.warnings(self._life, today=today, documents=state.last_fd, unsent=unsent, now=now),
            blocked=None if blocked is None else blocked.code,
        )

    # -- queries -------------------------------------------------------------------------------------------------

    def find_by_key(self, idempotency_key: str) -> FiscalDocument | None:
        """The document printed for ``idempotency_key``, or None if the device never printed it."""
        with self._printer.reading() as conn:
            return Store.find_by_key(conn, idempotency_key)

    def find_by_number(self, fd_number: int) -> FiscalDocument | None:
        """The document numbered ``fd_number``, or None."""
        with self._printer.reading() as conn:
            return Store.find_by_number(conn, fd_number)

    def journal(self, *, after_fd: int = 0, limit: int = 1000) -> list[FiscalDocument]:
        """Documents numbered above ``after_fd``, ascending, at most ``limit`` of them."""
        if limit < 0:
            raise ValueError("limit must not be negative")
        with self._printer.reading() as conn:
            return Store.journal(conn, after_fd=after_fd, limit=limit)

    def status(self) -> DeviceStatus:
        """Faults, shift and counters as the device sees them now."""
        with self._printer.reading() as conn:
            state = Store.load_state(conn)
        opened = state.shift_opened_at
        return DeviceStatus(
            online=not state.offline,
            paper=not state.paper_out,
            shift_open=state.shift_open,
            shift_number=state.shift_number,
            receipts_in_shift=state.receipts_in_shift,
            shift_opened_at=None if opened is None else self._time.local(int(opened)),
            shift_expired=self._time.expired(state),
            last_fd_number=state.last_fd,
            fn_number=self.registration.fn_number,
            reg_number=self.registration.reg_number,
            shift_expires_at=None if opened is None else self._time.local(int(opened) + SHIFT_MAX_SECONDS),
        )

    def local_now(self) -> datetime:
        """The device's clock now, in its time zone, to the second (what its display shows)."""
        return self._time.local(int(self._clock.time()))

    def x_report(self) -> ShiftReport:
        """The open shift's counters and totals (the X report): no fiscal document, no FD number, nothing stored.

        Raises :class:`ShiftNotOpen` with no open shift, and :class:`DeviceOffline` or :class:`PaperOut` with a fault
        on (the X report is printed for the cashier). An expired shift still reports.
        """
        with self._printer.reading() as conn:
            state = Store.load_state(conn)
            check_faults(state)
            if not state.shift_open:
                raise ShiftNotOpen("Смена не открыта: X-отчёт снимается в открытой смене")
            report = self._shift_report(conn, state, state.shift_number)
        assert report is not None, "an open shift always has its counters"
        return report

    def shift_totals(self, shift_number: int) -> ShiftReport | None:
        """The counters and totals of any shift of this FN, open or closed, or None for a shift never opened.

        After :meth:`close_shift`, ``shift_totals(z.shift_number)`` gives what the Z report closed.
        """
        with self._printer.reading() as conn:
            return self._shift_report(conn, Store.load_state(conn), shift_number)

    # -- faults --------------------------------------------------------------------------------------------------

    def set_fault(self, fault: Fault, enabled: bool = True) -> None:
        """Switch a fault on or off; persisted, so every instance on this directory sees it at its next call."""
        if fault not in ("paper_out", "offline"):
            raise ValueError(f"unknown fault {fault!r}; known: paper_out, offline")
        with self._printer.writing() as conn:
            Store.set_faults(conn, **{fault: enabled})

    def clear_faults(self) -> None:
        """Switch every fault off."""
        with self._printer.writing() as conn:
            Store.set_faults(conn, paper_out=False, offline=False)

    # -- internals -----------------------------------------------------------------------------------------------

    def _load_or_register(
        self, conn: sqlite3.Connection, rng: random.Random | None, *, create: bool, taxation: int, life: fn.FNLife
    ) -> Registration:
        """The stored registration, or a new one (with the FN's ``life`` and the registration report, FD 1)."""
        reg = Store.load_registration(conn)
        if reg is not None:
            return reg
        if not create:
            raise DeviceNotFound(self.state_dir)
        reg = documents.new_registration(rng, taxation=taxation)
        now = self._clock.time()
        Store.save_registration(conn, reg, when=now)
        Store.save_fn_life(conn, life, registered_at=now)
        state = Store.load_state(conn)
        state.last_fd = 1
        doc = documents.registration_report(reg, fd_number=1, when=self._time.now(state))
        Store.insert_document(conn, doc)
        Store.save_state(conn, state)
        return reg

    def _shift_report(self, conn: sqlite3.Connection, state: State, shift_number: int) -> ShiftReport | None:
        row = Store.load_shift(conn, shift_number)
        if row is None:
            return None
        is_open = state.shift_open and state.shift_number == shift_number
        return reports.shift_report(row, is_open=is_open, now=self._clock.time(), tz=self._tz)
