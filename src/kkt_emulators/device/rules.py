"""What the emulated KKT prints for each request and in which order it refuses: a repeated key first (the journal
answers, see :mod:`kkt_emulators.device.printer`), then faults, the task, the FN, the shift.

:class:`DeviceTime` is the device's clock as its documents see it; :class:`Rules` gives each request its check and
its build (:data:`~kkt_emulators.device.printer.Check`, :data:`~kkt_emulators.device.printer.Build`), which the
printer runs. What each document changes in the device's state is :mod:`kkt_emulators.device.day`'s.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, tzinfo
from functools import partial

from kkt_clock import Clock
from kkt_emulators.device import day, documents, fn, reports
from kkt_emulators.device.errors import DeviceOffline, PaperOut, ShiftAlreadyOpen, ShiftExpired, ShiftNotOpen
from kkt_emulators.device.models import CorrectionTask, FiscalDocument, ReceiptTask, Registration
from kkt_emulators.device.printer import Build, Check
from kkt_emulators.device.store import State, Store
from kkt_emulators.device.validation import check_cashier, validate_correction, validate_task


@dataclass(frozen=True)
class DeviceTime:
    """The device's clock in its time zone: document times that never go back, and the shift's 24 hours."""

    clock: Clock
    tz: tzinfo

    def local(self, wall: float) -> datetime:
        return datetime.fromtimestamp(wall, self.tz)

    def doc_time(self, state: State) -> float:
        """The next document's time: the clock, never before the last document's (an FN refuses time going back)."""
        return max(self.clock.time(), state.last_doc_time)

    def now(self, state: State) -> datetime:
        """The next document's time, taken: the state remembers it as the last document's."""
        wall = self.doc_time(state)
        state.last_doc_time = wall
        return self.local(int(wall))

    def expired(self, state: State) -> bool:
        opened = state.shift_opened_at
        return state.shift_open and opened is not None and self.clock.time() - opened > reports.SHIFT_MAX_SECONDS


def check_faults(state: State) -> None:
    """Refuse anything printed while a fault is on: no connection first, then no paper."""
    if state.offline:
        raise DeviceOffline("ККТ не отвечает (нет связи с устройством)")
    if state.paper_out:
        raise PaperOut("В ККТ закончилась бумага")


class Rules:
    """The check and the build of each document a registered device prints, for its FN's ``life``."""

    def __init__(self, registration: Registration, life: fn.FNLife, time: DeviceTime) -> None:
        self._registration = registration
        self._life = life
        self._time = time

    def receipt(self, task: ReceiptTask, idempotency_key: str) -> tuple[Check, Build]:
        def validate(state: State) -> None:
            validate_task(task, registered_taxation=self._registration.taxation)

        make = partial(documents.receipt, self._registration, task, idempotency_key=idempotency_key)
        return self._settlement(validate, make)

    def correction(self, task: CorrectionTask, idempotency_key: str) -> tuple[Check, Build]:
        def validate(state: State) -> None:
            today = self._time.local(self._time.doc_time(state)).date()
            validate_correction(task, registered_taxation=self._registration.taxation, today=today)

        make = partial(documents.correction, self._registration, task, idempotency_key=idempotency_key)
        return self._settlement(validate, make)

    def open_shift(self, idempotency_key: str | None, cashier: documents.Cashier = (None, None)) -> tuple[Check, Build]:
        """The shift opening report, under ``cashier`` when named: refused while a shift is open."""

        def check(conn: sqlite3.Connection, state: State) -> int:
            check_faults(state)
            check_cashier(*cashier)
            if state.shift_open:
                raise ShiftAlreadyOpen(f"Смена {state.shift_number} уже открыта")
            self._check_fn(conn, state, needed=1)
            return 1

        def build(conn: sqlite3.Connection, state: State) -> FiscalDocument:
            when, opened_at = self._time.now(state), self._time.clock.time()
            return day.open_shift(
                conn, state, self._registration, when=when, opened_at=opened_at, key=idempotency_key, cashier=cashier
            )

        return check, build

    def close_shift(
        self, idempotency_key: str | None, cashier: documents.Cashier = (None, None)
    ) -> tuple[Check, Build]:
        """The Z report, with the FN's unsent documents and warnings, under ``cashier`` when named: refused with no
        open shift."""

        def check(conn: sqlite3.Connection, state: State) -> int:
            check_faults(state)
            check_cashier(*cashier)
            if not state.shift_open:
                raise ShiftNotOpen("Смена не открыта")
            self._check_fn(conn, state, needed=1, closing=True)
            return 1

        def build(conn: sqlite3.Connection, state: State) -> FiscalDocument:
            when = self._time.now(state)
            unsent = Store.unsent(conn)
            raised = fn.warnings(
                self._life, today=when.date(), documents=state.last_fd, unsent=unsent, now=self._time.clock.time()
            )
            first = None if unsent.first_at is None else self._time.local(unsent.first_at).strftime("%Y-%m-%dT%H:%M:%S")
            return day.close_shift(
                conn,
                state,
                self._registration,
                when=when,
                first_unsent=first,
                unsent=unsent.count,
                fn_flags=fn.flags(raised),
                key=idempotency_key,
                cashier=cashier,
            )

        return check, build

    def _settlement(self, validate: Callable[[State], None], make: day.MakeSettlement) -> tuple[Check, Build]:
        """How a receipt or a correction prints: the checks, in the device's order, then :func:`day.settle`."""

        def check(conn: sqlite3.Connection, state: State) -> int:
            check_faults(state)
            validate(state)
            needed = 1 if state.shift_open else 2
            self._check_fn(conn, state, needed=needed)
            if self._time.expired(state):
                raise ShiftExpired(
                    f"Смена {state.shift_number} открыта более 24 часов: закройте смену (Z-отчёт) и откройте новую"
                )
            return needed

        def build(conn: sqlite3.Connection, state: State) -> FiscalDocument:
            when, opened_at = self._time.now(state), self._time.clock.time()
            return day.settle(conn, state, self._registration, make, when=when, opened_at=opened_at)

        return check, build

    def _check_fn(self, conn: sqlite3.Connection, state: State, *, needed: int, closing: bool = False) -> None:
        """Raise the FN's refusal of ``needed`` new documents, if it refuses them (see :mod:`.fn`)."""
        error = fn.refusal(
            self._life,
            today=self._time.local(self._time.doc_time(state)).date(),
            documents=state.last_fd,
            needed=needed,
            unsent=Store.unsent(conn),
            now=self._time.clock.time(),
            tz=self._time.tz,
            closing=closing,
        )
        if error is not None:
            raise error
