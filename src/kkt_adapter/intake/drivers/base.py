"""The :class:`FiscalDriver` port. Calls block (a device prints one document at a time); the API runs them in a
worker thread, never on the event loop.

A driver raises :class:`~kkt_adapter.domain.errors.DeviceRefused` (or ``DeviceUnavailable``) only when it knows
nothing was printed. Any other exception means "outcome unknown": the caller asks the device's journal by key.
"""

from __future__ import annotations

from typing import Protocol

from kkt_adapter.domain.device import DeviceState
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

    def close(self) -> None:
        """Release the device."""
        ...
