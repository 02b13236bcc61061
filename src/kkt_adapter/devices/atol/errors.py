"""ATOL's error codes as the adapter's device errors (pure), and the errors the ATOL driver and its transport raise.

A job that ended ``error`` printed nothing (a ``blocked`` job is never an error until the server resolved it by the
FN's document counter), so every code maps to a :class:`~kkt_adapter.domain.errors.DeviceRefused` carrying the
device's own text. Anything that leaves the outcome unknown is :class:`AtolOutcomeUnknown`, which is *not* a
``DeviceRefused``: the adapter then asks :meth:`AtolDriver.find_by_key`, and never prints again blindly.
"""

from __future__ import annotations

from typing import Final, Literal

from kkt_adapter.domain.errors import DeviceRefused, DeviceRejectedReceipt, DeviceUnavailable, ShiftConflict

#: No connection, port busy, port unavailable, connection lost (1–4), and "no connection" of newer drivers (241).
CONNECTION_CODES: Final = frozenset({1, 2, 3, 4, 241})
INTERRUPTED = 502
CANCELED = 503

#: The adapter's error code by ATOL's, for the codes that matter (docs/hardware.md has the table with its sources).
CODES: Final[dict[int, str]] = {
    8: "missing_parameter",
    11: "not_supported",
    13: "invalid_parameter",
    16: "invalid_sum",
    17: "invalid_quantity",
    44: "paper_out",
    45: "cover_open",
    46: "printer_fault",
    47: "printer_fault",
    55: "busy",
    52: "noncash_payments_too_much",
    60: "invalid_payment_type",
    66: "not_fully_paid",
    68: "shift_expired",
    73: "shift_not_open",
    83: "shift_already_open",
    115: "fn_exchange_error",
    116: "fn_format_error",
    117: "fn_state_error",
    118: "fn_fault",
    119: "fn_crypto_fault",
    120: "fn_expired",
    121: "fn_archive_full",
    137: "fn_ofd_timeout_30_days",
    139: "fn_unsent_documents",
    140: "fn_ofd_timeout_30_days",
    141: "shift_expired",
    CANCELED: "canceled",
}

#: Codes that say the request itself is wrong: it would be refused again (the API answers 422).
CONTENT_CODES: Final = frozenset({8, 11, 13, 16, 17, 52, 60, 66})
#: Codes that say the shift is not in the state the task needs (the API answers 409).
SHIFT_CODES: Final = frozenset({73, 83})

Stage = Literal["post", "job"]


def device_error(code: int, description: str) -> DeviceRefused:
    """The adapter's error for an ATOL error code, with the device's text and its code for the operator."""
    reason = f"{description} (ATOL error {code})" if description else f"ATOL error {code}"
    if code in CONNECTION_CODES:
        return DeviceUnavailable("offline", reason)
    name = CODES.get(code, f"atol_error_{code}")
    if code in SHIFT_CODES:
        return ShiftConflict(name, reason)
    if code in CONTENT_CODES:
        return DeviceRejectedReceipt(name, reason)
    return DeviceRefused(name, reason)


class AtolOutcomeUnknown(Exception):
    """The print's outcome is unknown (no answer in time, a reply lost, a job still ``blocked``): the caller resolves
    it by the request's key (:meth:`~kkt_adapter.devices.atol.driver.AtolDriver.find_by_key`), never by
    sending again under a new id."""


class TransportError(Exception):
    """Base of the transport's errors."""


class ServerUnreachable(TransportError):
    """The request never reached the server (connection refused, DNS, TLS, the server answered 503): nothing was
    queued."""


class ReplyLost(TransportError):
    """The request was sent but its answer did not arrive (connection dropped, read timeout): it may have been
    executed."""


class RequestRefused(TransportError):
    """The server answered the request with an HTTP error: nothing was queued. ``code``/``description`` are the
    body's ``error`` when it has one."""

    def __init__(self, status: int, code: int | None, description: str) -> None:
        super().__init__(f"HTTP {status}: {description}" if description else f"HTTP {status}")
        self.status = status
        self.code = code
        self.description = description


class ProtocolError(TransportError):
    """The server answered something this driver cannot read (not JSON, a wrong shape)."""
