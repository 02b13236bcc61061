"""Shtrih-M's error codes as the emulator answers them (the protocol's error table; FN errors 01h..20h are passed on
as the KKT's own)."""

from __future__ import annotations

from kkt_emulators.device.errors import (
    DeviceError,
    DeviceOffline,
    FNArchiveFull,
    FNBlocked,
    FNExpired,
    FNOfdTimeout,
    InvalidTask,
    PaperOut,
    ShiftAlreadyOpen,
    ShiftExpired,
    ShiftNotOpen,
)

UNKNOWN_COMMAND = 0x01  # FN: unknown command or format (also the KKT's answer to a command it lacks)
FN_FAILURE = 0x03
FN_LIFE_OVER = 0x05
FN_ARCHIVE_FULL = 0x06
FN_NO_DATA = 0x08  # FF0Ah: no document under that number
FN_RESOURCE_EXHAUSTED = 0x14
FN_OFD_30_DAYS = 0x15
FN_NOT_ANSWERING = 0x30
BAD_PARAMS = 0x33
PAYMENTS_SHORT = 0x45
RECEIPT_OPEN = 0x4A
SHIFT_OVER_24H = 0x4E
WRONG_PASSWORD = 0x4F
BUSY = 0x50  # still printing the previous command
RECEIPT_CLOSED = 0x55
WAITING_CONTINUE = 0x58  # waiting for B0h "continue printing"
WRONG_OPERATION = 0x5E
NO_PAPER = 0x6B
COVER_OPEN = 0x6C  # NOT CONFIRMED by a public source: the emulator's choice, docs/hardware.md
WRONG_MODE = 0x73
BAD_LENGTH = 0x7E


class ShtrihError(Exception):
    """A command refused with the protocol's error ``code``."""

    def __init__(self, code: int) -> None:
        super().__init__(f"error {code:02X}h")
        self.code = code


#: The emulated device's refusals as Shtrih-M error codes, the first class that matches winning (a 30-day block is
#: an FN block too).
_CODES: tuple[tuple[type[DeviceError] | tuple[type[DeviceError], ...], int], ...] = (
    (PaperOut, NO_PAPER),
    (DeviceOffline, FN_NOT_ANSWERING),
    (ShiftExpired, SHIFT_OVER_24H),
    ((ShiftAlreadyOpen, ShiftNotOpen), WRONG_MODE),
    (FNExpired, FN_LIFE_OVER),
    (FNArchiveFull, FN_ARCHIVE_FULL),
    (FNOfdTimeout, FN_OFD_30_DAYS),
    (FNBlocked, FN_RESOURCE_EXHAUSTED),
    (InvalidTask, BAD_PARAMS),
)


def device_error_code(exc: DeviceError) -> int:
    """The Shtrih-M error code for the emulated device's refusal (03h, FN failure, for any other)."""
    return next((code for kinds, code in _CODES if isinstance(exc, kinds)), FN_FAILURE)
