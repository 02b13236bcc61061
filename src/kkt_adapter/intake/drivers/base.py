"""The :class:`FiscalDriver` port. Calls block (a device prints one document at a time); the API runs them in a
worker thread, never on the event loop.

A driver raises :class:`~kkt_adapter.domain.errors.DeviceRefused` (or ``DeviceUnavailable``) only when it knows
nothing was printed. Any other exception means "outcome unknown": the caller asks the device's journal by key.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from kkt_adapter.domain.correction import Correction
from kkt_adapter.domain.device import DeviceState, FNStatus, JournalEntry, ShiftReport
from kkt_adapter.domain.fiscal import FiscalResult
from kkt_adapter.domain.receipt import Receipt

__all__ = ["DeviceState", "FiscalDriver"]


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

    def open_shift(self, *, idempotency_key: str) -> FiscalResult:
        """Open a shift (the shift opening report); a repeated key returns the first report. Refuses with
        ``DeviceRefused`` code ``shift_already_open`` when one is open."""
        ...

    def close_shift(self, *, idempotency_key: str) -> tuple[FiscalResult, ShiftReport]:
        """Close the open shift (the Z report) and return it with the shift's totals as they stood; a repeated key
        returns the first report. Refuses with ``DeviceRefused`` code ``shift_not_open`` when none is open."""
        ...

    def shift_report(self) -> ShiftReport:
        """The current shift's counters and totals (the X report: no document, nothing printed)."""
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
