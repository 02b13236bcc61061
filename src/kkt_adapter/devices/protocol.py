"""The :class:`FiscalDriver` port. Calls block (a device prints one document at a time); the API runs them in a
worker thread, never on the event loop.

A driver raises :class:`~kkt_adapter.domain.errors.DeviceRefused` (or ``DeviceUnavailable``) only when it knows
nothing was printed. Any other exception means "outcome unknown": the caller asks the device's journal by key.

A driver may also print a batch of receipts in one go (:class:`BatchPrinter`, e.g. one journal transaction for the
batch). The receipt path calls :func:`print_batch`, which uses the driver's batch call when it has one and prints the
jobs one by one otherwise, so a driver that implements only :class:`FiscalDriver` fits unchanged.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from kkt_adapter.domain.correction import Correction
from kkt_adapter.domain.device import DeviceState, FNStatus, JournalEntry, ShiftReport
from kkt_adapter.domain.fiscal import FiscalResult
from kkt_adapter.domain.receipt import Cashier, Receipt

__all__ = ["BatchPrinter", "DeviceState", "FiscalDriver", "PrintJob", "batch_limit", "print_batch"]


class FiscalDriver(Protocol):
    """A KKT as the adapter sees it."""

    def print_receipt(self, receipt: Receipt, *, idempotency_key: str) -> FiscalResult:
        """Print and return the fiscal data; the device records ``idempotency_key`` in its journal.

        Required of every driver: a key already printed returns that document and prints nothing (the emulated
        KKT does this from its journal; ATOL's web server refuses a repeated request uuid). Reconciliation and the
        take-over of abandoned keys rely on it, so that no document is ever printed twice.
        """
        ...

    def find_by_key(self, idempotency_key: str) -> FiscalResult | None:
        """The document printed for this key, from the device's journal, or ``None``."""
        ...

    def state(self) -> DeviceState:
        """The device's state now."""
        ...

    def print_correction(self, correction: Correction, *, idempotency_key: str) -> FiscalResult:
        """Print a correction receipt (document type 31), idempotently by key like :meth:`print_receipt`."""
        ...

    def open_shift(self, *, idempotency_key: str, cashier: Cashier | None = None) -> FiscalResult:
        """Open a shift (the shift opening report) under ``cashier`` (tag 1021; ``None``: the configured default);
        a repeated key returns the first report. Refuses with ``DeviceRefused`` code ``shift_already_open`` when one
        is open."""
        ...

    def close_shift(self, *, idempotency_key: str, cashier: Cashier | None = None) -> tuple[FiscalResult, ShiftReport]:
        """Close the open shift (the Z report, under ``cashier`` as :meth:`open_shift`) and return it with the shift's
        totals as they stood; a repeated key returns the first report. Refuses with ``DeviceRefused`` code
        ``shift_not_open`` when none is open."""
        ...

    def shift_report(self) -> ShiftReport:
        """The current shift's state and counters, read without printing (totals where the device gives them)."""
        ...

    def print_x_report(self) -> ShiftReport:
        """Print the X report on the device (not a fiscal document) and return the open shift's counters and totals
        as the device counts them. Refuses with ``ShiftConflict`` code ``shift_not_open`` when no shift is open."""
        ...

    def fn_status(self) -> FNStatus:
        """The fiscal drive's life and OFD exchange."""
        ...

    def journal(self, *, after_fd: int, limit: int) -> list[JournalEntry]:
        """Documents numbered above ``after_fd`` in FD order, at most ``limit``, with the keys recorded with them."""
        ...

    def acknowledge(self, fd_numbers: Sequence[int]) -> None:
        """The OFD acknowledged these documents (a real KKT's FN learns it from the OFD itself: a no-op there)."""
        ...

    def close(self) -> None:
        """Release the device."""
        ...


@dataclass(frozen=True)
class PrintJob:
    """One receipt (or correction) of a batch, with the idempotency key the device records with it."""

    request: Receipt | Correction
    idempotency_key: str


class BatchPrinter(Protocol):
    """A driver that prints several jobs in one call (optional: :func:`print_batch` falls back to one by one)."""

    #: How many jobs one :meth:`print_batch` call takes (1: the driver gains nothing from batches).
    max_batch: int

    def print_batch(self, jobs: Sequence[PrintJob]) -> list[FiscalResult | Exception]:
        """Print each job once per key, as :meth:`FiscalDriver.print_receipt` would, and return each job's outcome in
        order: its fiscal result, or the exception that job alone raised (a refusal prints nothing of that job and
        does not stop the others). Returns only after every printed document is durably in the device's journal."""
        ...


def batch_limit(driver: FiscalDriver) -> int:
    """How many jobs :func:`print_batch` hands ``driver`` at once: its ``max_batch``, or 1 without a batch call."""
    if not callable(getattr(driver, "print_batch", None)):
        return 1
    return max(1, int(getattr(driver, "max_batch", 1)))


def print_batch(driver: FiscalDriver, jobs: Sequence[PrintJob]) -> list[FiscalResult | Exception]:
    """Print ``jobs`` with the driver's batch call if it has one, else one by one; each job's result or exception."""
    batch = getattr(driver, "print_batch", None)
    if callable(batch) and len(jobs) > 1:
        outcomes: list[FiscalResult | Exception] = batch(jobs)
        if len(outcomes) != len(jobs):
            raise RuntimeError(f"the driver returned {len(outcomes)} outcomes for {len(jobs)} jobs")
        return outcomes
    return [print_one(driver, job) for job in jobs]


def print_one(driver: FiscalDriver, job: PrintJob) -> FiscalResult | Exception:
    """One job through the driver's own method for its kind; its exception is returned, not raised."""
    try:
        if isinstance(job.request, Correction):
            return driver.print_correction(job.request, idempotency_key=job.idempotency_key)
        return driver.print_receipt(job.request, idempotency_key=job.idempotency_key)
    except Exception as exc:
        return exc
