"""The adapter's error tree. Every error the API can answer with is one of these; one table maps them to HTTP
(``kkt_adapter.api.errors``), and a test keeps this tree and that table in step.

AdapterError
├── InvalidReceipt              the request breaks a rule no single field shows (422), with field-named problems
├── IdempotencyConflict         the key was used with another body (422)
├── RequestInFlight             the key is being printed right now (409, Retry-After: 1)
├── BufferFull                  unsynced receipts reached capacity; nothing printed (503, Retry-After)
├── StorageUnavailable          the buffer's file refuses reads or writes; says if the KKT printed (503, Retry-After)
├── DeviceRefused               the KKT refused the document; nothing was printed (503)
│   ├── DeviceUnavailable       the KKT could not be reached; nothing was printed (503)
│   │   ├── OutcomeUnknown      the KKT cannot tell yet whether it printed; retry the same key (503)
│   │   └── NoDeviceCouldPrint  every device that could take it refused; each reason (503)
│   ├── DeviceRejectedReceipt   the KKT refused this receipt's content, and would again (422)
│   └── ShiftConflict           no shift to close, or one already open (409)
├── NotFound                    no such receipt / dead letter (404)
└── SyncDisabled                a sync was asked for but no OFD is configured (409)
"""

from __future__ import annotations

from dataclasses import dataclass

#: The code of a print failure recorded without the device's answer: the adapter stopped (or the buffer failed)
#: before the outcome was recorded, and the journal showed nothing under the key.
INTERRUPTED = "interrupted"


class AdapterError(Exception):
    """Base of every error the adapter reports to its clients."""

    code = "adapter_error"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class FieldProblem:
    """One problem with one field of a request: where it is and what is allowed."""

    loc: tuple[str | int, ...]
    message: str


class InvalidReceipt(AdapterError):
    """The receipt request breaks a rule that a field alone cannot show (sums that do not balance)."""

    code = "invalid_receipt"

    def __init__(self, problems: list[FieldProblem]) -> None:
        super().__init__("; ".join(".".join(map(str, p.loc)) + ": " + p.message for p in problems))
        self.problems = problems


class IdempotencyConflict(AdapterError):
    """The Idempotency-Key was already used for a different request body."""

    code = "idempotency_conflict"


class RequestInFlight(AdapterError):
    """Another process is printing the request with this key right now."""

    code = "request_in_flight"


class BufferFull(AdapterError):
    """The buffer holds as many unsynced receipts as it may; nothing was printed."""

    code = "buffer_full"

    def __init__(self, message: str, *, retry_after_s: int) -> None:
        super().__init__(message)
        self.retry_after_s = retry_after_s


class StorageUnavailable(AdapterError):
    """The buffer's file refused a read or a write (disk full, I/O error, a read-only or damaged file).

    ``printed`` tells whether the KKT had already signed the document: then the client's resend of the same key
    returns it once storage is back, and nothing is printed again.
    """

    code = "storage_unavailable"

    def __init__(self, message: str, *, retry_after_s: int, printed: bool = False) -> None:
        super().__init__(message)
        self.retry_after_s = retry_after_s
        self.printed = printed


class DeviceRefused(AdapterError):
    """The KKT refused to print (paper out, shift expired, ...); nothing was printed."""

    def __init__(self, code: str, reason: str) -> None:
        super().__init__(reason)
        self.code = code
        self.reason = reason
        #: The device that refused, when the adapter drives several (set by the router).
        self.device: str | None = None


class DeviceUnavailable(DeviceRefused):
    """The KKT is offline or not answering; nothing was printed."""


class OutcomeUnknown(DeviceUnavailable):
    """The device cannot tell yet whether it printed (a timeout, a lost reply, a job still running): the receipt stays
    bound to that device until its journal tells; never moved to another device, never printed again blindly."""

    def __init__(self, reason: str) -> None:
        super().__init__("unknown", reason)


class NoDeviceCouldPrint(DeviceUnavailable):
    """Every device that could take the sale refused it before printing; ``refusals`` by device name."""

    def __init__(self, refusals: dict[str, DeviceRefused]) -> None:
        listed = "; ".join(f"{name}: {exc.reason} ({exc.code})" for name, exc in refusals.items())
        super().__init__("no_device", f"no device could print: {listed}")
        self.refusals = refusals


class DeviceRejectedReceipt(DeviceRefused):
    """The KKT refused this receipt's content (it would refuse it again): a client error, not a device fault."""


class ShiftConflict(DeviceRefused):
    """The shift is not in the state the request needs: none open to close or report on, or one already open."""


class NotFound(AdapterError):
    """No such receipt or dead letter."""

    code = "not_found"


class SyncDisabled(AdapterError):
    """Sync was requested but no OFD is configured."""

    code = "sync_disabled"
