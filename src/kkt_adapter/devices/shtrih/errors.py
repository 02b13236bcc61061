"""Shtrih-M's error codes as the adapter's device errors (pure).

Every code a command answers with is a definite refusal of that command: the KKT said so in its own answer. Whether
a whole receipt printed is decided by the driver from the FN (a close may end in 6Bh with the receipt already in the
FN), never from a code alone. Codes from the protocol's error table (Shtrih KKT protocol v1.17, "Коды ошибок").
"""

from __future__ import annotations

from typing import Final

from kkt_adapter.domain.errors import (
    DeviceRefused,
    DeviceRejectedReceipt,
    DeviceUnavailable,
    OutcomeUnknown,
    ShiftConflict,
)

CODES: Final[dict[int, str]] = {
    0x01: "fn_unknown_command",
    0x02: "fn_state_error",
    0x03: "fn_fault",
    0x04: "fn_crypto_fault",
    0x05: "fn_expired",
    0x06: "fn_archive_full",
    0x07: "fn_datetime_error",
    0x09: "invalid_parameter",
    0x10: "tlv_too_large",
    0x12: "fn_crypto_exhausted",
    0x14: "fn_resource_exhausted",
    0x15: "fn_ofd_timeout_30_days",
    0x16: "shift_expired",
    0x17: "fn_time_mismatch",
    0x2F: "fn_exchange_error",
    0x30: "fn_not_answering",
    0x33: "invalid_parameter",
    0x37: "not_supported",
    0x45: "not_fully_paid",
    0x46: "not_enough_cash",
    0x4A: "receipt_open",
    0x4E: "shift_expired",
    0x4F: "wrong_password",
    0x50: "busy",
    0x55: "receipt_closed",
    0x58: "waiting_continue_print",
    0x5E: "invalid_operation",
    0x6B: "paper_out",
    0x6C: "cover_open",
    0x72: "wrong_submode",
    0x73: "wrong_mode",
    0x7E: "invalid_length",
}
#: The request itself is wrong: the next device would refuse it too.
CONTENT_CODES: Final = frozenset({0x09, 0x10, 0x33, 0x45, 0x46, 0x5E, 0x7E})
PAPER_OUT, BUSY, WRONG_MODE, WAITING_CONTINUE = 0x6B, 0x50, 0x73, 0x58


class ShtrihOutcomeUnknown(OutcomeUnknown):
    """The KKT took a printing command and neither its answer nor its FN tells yet what became of it."""


def refusal(code: int, command: int) -> DeviceRefused:
    """The adapter's error for ``code`` answered to ``command`` (nothing printed by that command)."""
    name = CODES.get(code, f"shtrih_error_{code:02x}")
    reason = f"Shtrih-M error {code:02X}h ({name}) to command {command:X}h"
    if code == 0x30:
        return DeviceUnavailable(name, reason)
    if code in CONTENT_CODES:
        return DeviceRejectedReceipt(name, reason)
    return DeviceRefused(name, reason)


def shift_conflict(is_open: bool) -> ShiftConflict:
    """The shift is already open (to open) or not open (to close)."""
    if is_open:
        return ShiftConflict("shift_already_open", "a shift is already open on the Shtrih-M KKT")
    return ShiftConflict("shift_not_open", "no shift is open on the Shtrih-M KKT")


def unavailable(reason: str) -> DeviceUnavailable:
    """The KKT could not be reached; nothing was printed."""
    return DeviceUnavailable("offline", f"Shtrih-M KKT unreachable: {reason}")
