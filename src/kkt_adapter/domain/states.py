"""A receipt's states in the buffer, and which of them occupy it.

``accepted → pending → synced`` is the normal life; ``accepted → print_failed`` when the device printed nothing (a
replay with the same key prints it: ``print_failed → accepted``); ``pending → dlq → pending`` when the OFD refused it
and someone requeued it. The buffer's schema (``buffer/migrations/v1.sql``) checks the same names.
"""

from __future__ import annotations

from enum import StrEnum


class ReceiptState(StrEnum):
    """Where a receipt is between the till and the OFD."""

    ACCEPTED = "accepted"
    """Stored with its key; the device is printing it (or a crash left it: reconciliation settles it)."""
    PENDING = "pending"
    """Printed and signed by the device; waiting for the OFD."""
    SYNCED = "synced"
    """Acknowledged by the OFD."""
    PRINT_FAILED = "print_failed"
    """The device refused it before printing; nothing was signed."""
    DLQ = "dlq"
    """The OFD refused it, or it ran out of attempts; waits for a person to requeue it."""

    @property
    def unsynced(self) -> bool:
        """Whether a receipt in this state occupies the buffer (the OFD has not acknowledged a signed document)."""
        return self in UNSYNCED


UNSYNCED = frozenset({ReceiptState.ACCEPTED, ReceiptState.PENDING, ReceiptState.DLQ})
