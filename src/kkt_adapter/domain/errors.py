"""The adapter's error tree. Every error the API can answer with is one of these; one table maps them to HTTP
(``kkt_adapter.api.errors``), and a test keeps this tree and that table in step.

AdapterError
├── InvalidReceipt              the request breaks a rule no single field shows (422), with field-named problems
├── IdempotencyConflict         the key was used with another body (422)
├── RequestInFlight             the key is being printed right now (409, Retry-After: 1)
├── BufferFull                  unsynced receipts reached capacity; nothing printed (503, Retry-After)
├── StorageUnavailable          the buffer's file refuses reads or writes; says if the KKT printed (503, Retry-After)
├── DeviceError                 the document was not printed, or it is not known yet whether it was (503)
│   ├── DeviceRefused           a definite refusal: the KKT's own answer, before printing; nothing printed (503)
│   │   ├── DeviceUnavailable   the KKT could not be reached; nothing was printed (503)
│   │   ├── DeviceRejectedReceipt  the KKT refused this receipt's content, and would again (422)
│   │   │   └── FieldRequired   the request must name a field the KKT cannot choose for it (422, the field named)
│   │   └── ShiftConflict       no shift to close, or one already open (409)
│   ├── NotInJournal            a driver error, then nothing under the key in the journal (yet); retry (503)
│   ├── OutcomeUnknown          the KKT cannot tell yet whether it printed; retry the same key (503)
│   └── NoDeviceCouldPrint      every device that could take it refused; each reason (503)
├── NotFound                    no such receipt / dead letter (404)
└── SyncDisabled                a sync was asked for but no OFD is configured (409)

May a sale move to another device? Only after a definite refusal (:class:`DeviceRefused`: the device said, in its own
answer, that it printed nothing), and only one another device may not repeat (:attr:`DeviceRefused.elsewhere`):
:func:`may_move`. Everything else keeps the key on its device: an unknown outcome, a journal that shows nothing yet,
a receipt interrupted before its outcome was recorded. The buffer keeps only a failed row's code, so the codes of the
failures that are not definite refusals are given here too (:data:`STAYS_BOUND`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar, TypeGuard

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


class DeviceError(AdapterError):
    """The device did not print the document, or cannot tell yet whether it did; ``code`` says which."""

    def __init__(self, code: str, reason: str) -> None:
        super().__init__(reason)
        self.code = code
        self.reason = reason
        #: The device that answered, when the adapter drives several (set by the router).
        self.device: str | None = None


class DeviceRefused(DeviceError):
    """A definite refusal: the KKT said, in its own answer and before printing, that it printed nothing (paper out,
    shift expired, FN expired, ...)."""

    #: Whether another device may print what this one refused: not a receipt's content (the next device would refuse
    #: it too), not the shift's state (asked of that device).
    elsewhere: ClassVar[bool] = True


class DeviceUnavailable(DeviceRefused):
    """The KKT is offline or not answering; nothing was printed."""


class DeviceRejectedReceipt(DeviceRefused):
    """The KKT refused this receipt's content (it would refuse it again): a client error, not a device fault."""

    elsewhere = False


class FieldRequired(DeviceRejectedReceipt):
    """The request left out a field the device needs and the adapter cannot choose for it (a KKT registered with
    several taxation systems and no ``taxation`` given or configured): ``field`` names it, ``allowed`` its choices."""

    def __init__(self, code: str, reason: str, *, field: str, allowed: tuple[str, ...]) -> None:
        super().__init__(code, reason)
        self.field = field
        self.allowed = allowed


class ShiftConflict(DeviceRefused):
    """The shift is not in the state the request needs: none open to close or report on, or one already open."""

    elsewhere = False


class NotInJournal(DeviceError):
    """The driver failed, and the device's journal shows nothing under the key: nothing printed as far as it tells,
    but a slow device may still be printing it, so the key stays bound to that device."""

    CODE = "device_error"

    def __init__(self, reason: str) -> None:
        super().__init__(self.CODE, reason)


class OutcomeUnknown(DeviceError):
    """The device cannot tell yet whether it printed (a timeout, a lost reply, a job still running): the receipt stays
    bound to that device until its journal tells; never moved to another device, never printed again blindly."""

    CODE = "unknown"

    def __init__(self, reason: str) -> None:
        super().__init__(self.CODE, reason)


class NoDeviceCouldPrint(DeviceError):
    """Every device that could take the sale refused it before printing; ``refusals`` by device name."""

    CODE = "no_device"

    def __init__(self, refusals: dict[str, DeviceRefused]) -> None:
        listed = "; ".join(f"{name}: {exc.reason} ({exc.code})" for name, exc in refusals.items())
        super().__init__(self.CODE, f"no device could print: {listed}")
        self.refusals = refusals


def may_move(error: BaseException) -> TypeGuard[DeviceRefused]:
    """Whether a request this error answered may be printed on another device: a definite refusal another device
    may not repeat."""
    return isinstance(error, DeviceRefused) and error.elsewhere


#: The codes of print failures that are not definite refusals: a row failed with one stays bound to its device (its
#: key may still be printing there), whatever device a resend names.
STAYS_BOUND: frozenset[str] = frozenset({INTERRUPTED, NotInJournal.CODE, OutcomeUnknown.CODE, NoDeviceCouldPrint.CODE})


class NotFound(AdapterError):
    """No such receipt or dead letter."""

    code = "not_found"


class SyncDisabled(AdapterError):
    """Sync was requested but no OFD is configured."""

    code = "sync_disabled"
