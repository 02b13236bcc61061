"""Errors the emulated KKT raises. Every one means: nothing was printed, no FD number was used.

::

    DeviceError                 code "device_error"
    ├── PaperOut                code "paper_out"
    ├── DeviceOffline           code "offline"
    ├── ShiftExpired            code "shift_expired"   (open shift older than 24 h; ATOL error 68)
    ├── InvalidTask             code "invalid_task"    (the task itself is wrong: retrying it cannot help)
    ├── ShiftAlreadyOpen        code "shift_open"      (open_shift while a shift is open)
    ├── ShiftNotOpen            code "shift_closed"    (close_shift or x_report with no open shift)
    └── FNBlocked               code "fn_blocked"      (the fiscal drive refuses new documents)
        ├── FNOfdTimeout        code "fn_ofd_timeout_30_days"  (first unsent document older than 30 days)
        ├── FNExpired           code "fn_expired"      (past the FN's validity date; ATOL error 120)
        └── FNArchiveFull       code "fn_archive_full" (no room for another document; ATOL error 121)

``reason`` is a human-readable text for the cashier (in Russian, as a real device shows it); ``code`` is the
stable machine name to branch on.

Apart from that tree, :class:`DeviceNotFound` (a ``FileNotFoundError``) says that a directory holds no device when
one was asked to be opened, not created: it is not a print refused, there is no device to refuse anything.
"""

from __future__ import annotations

from pathlib import Path


class DeviceError(Exception):
    """Base of the device's errors: ``code`` (stable), ``reason`` (for the cashier), ``printed`` (always False)."""

    code: str = "device_error"

    def __init__(self, reason: str, *, printed: bool = False) -> None:
        super().__init__(reason)
        self.reason = reason
        self.printed = printed

    def __repr__(self) -> str:
        return f"{type(self).__name__}(code={self.code!r}, reason={self.reason!r})"


class PaperOut(DeviceError):
    """The printer has no paper."""

    code = "paper_out"


class DeviceOffline(DeviceError):
    """The device does not answer (cable, power)."""

    code = "offline"


class ShiftExpired(DeviceError):
    """The open shift is older than 24 hours: close it (Z report) before printing receipts."""

    code = "shift_expired"


class InvalidTask(DeviceError):
    """The task cannot be printed as given: sums do not balance, a VAT code is unknown, a name is too long, ..."""

    code = "invalid_task"


class ShiftAlreadyOpen(DeviceError):
    """A shift is already open."""

    code = "shift_open"


class ShiftNotOpen(DeviceError):
    """There is no open shift to close."""

    code = "shift_closed"


class FNBlocked(DeviceError):
    """The fiscal drive refuses new documents; the subclass says why, and whether anything but time can lift it."""

    code = "fn_blocked"


class FNOfdTimeout(FNBlocked):
    """The first document not acknowledged by the OFD is older than 30 days; lifted once the OFD acknowledges it."""

    code = "fn_ofd_timeout_30_days"


class FNExpired(FNBlocked):
    """The FN is past its validity date: replace it. Only the open shift's closing is still taken."""

    code = "fn_expired"


class FNArchiveFull(FNBlocked):
    """The FN's archive has no room for another document: replace it."""

    code = "fn_archive_full"


class DeviceNotFound(FileNotFoundError):
    """No registered device in ``state_dir``, and the caller asked to open an existing one only (``create=False``)."""

    def __init__(self, state_dir: Path) -> None:
        super().__init__(f"no emulated KKT in {state_dir} (no registered fiscal drive there)")
        self.state_dir = state_dir
