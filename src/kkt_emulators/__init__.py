"""The outside world of a fiscal adapter, emulated: the KKT with its fiscal drive, its ATOL Web Requests
server and its Shtrih-M native protocol, the OFD and the ERP endpoint.

This package never imports ``kkt_adapter``: it is an independent oracle of the fiscal contracts, usable by any
project's test suite.

Everything a user needs is importable from here (``from kkt_emulators import MockOFDServer, EmulatedKKT``). The
names are loaded on first use, so that ``import kkt_emulators`` (done by the pytest plugin in every test run)
costs nothing: the servers' web stack is imported only when a server is.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from kkt_clock import Clock, ManualClock, SystemClock
    from kkt_emulators.atol import MockAtolServer
    from kkt_emulators.device import (
        DOC_CORRECTION,
        DOC_RECEIPT,
        DOC_REGISTRATION,
        DOC_SHIFT_CLOSING,
        DOC_SHIFT_OPENING,
        CorrectionTask,
        DeviceError,
        DeviceNotFound,
        DeviceOffline,
        DeviceStatus,
        EmulatedKKT,
        FiscalDocument,
        FNArchiveFull,
        FNBlocked,
        FNExpired,
        FNOfdTimeout,
        FNStatus,
        InvalidTask,
        PaperOut,
        ReceiptTask,
        Registration,
        ShiftAlreadyOpen,
        ShiftExpired,
        ShiftNotOpen,
        ShiftReport,
        TaskItem,
    )
    from kkt_emulators.odoo import MockOdooServer
    from kkt_emulators.ofd import MockOFDServer
    from kkt_emulators.shtrih import MockShtrihServer

__all__ = [
    "DOC_CORRECTION",
    "DOC_RECEIPT",
    "DOC_REGISTRATION",
    "DOC_SHIFT_CLOSING",
    "DOC_SHIFT_OPENING",
    "Clock",
    "CorrectionTask",
    "DeviceError",
    "DeviceNotFound",
    "DeviceOffline",
    "DeviceStatus",
    "EmulatedKKT",
    "FNArchiveFull",
    "FNBlocked",
    "FNExpired",
    "FNOfdTimeout",
    "FNStatus",
    "FiscalDocument",
    "InvalidTask",
    "ManualClock",
    "MockAtolServer",
    "MockOFDServer",
    "MockOdooServer",
    "MockShtrihServer",
    "PaperOut",
    "ReceiptTask",
    "Registration",
    "ShiftAlreadyOpen",
    "ShiftExpired",
    "ShiftNotOpen",
    "ShiftReport",
    "SystemClock",
    "TaskItem",
]

# The module each public name is loaded from: the device's names (most of them) from ``kkt_emulators.device``.
_ELSEWHERE = {
    "Clock": "kkt_clock",
    "ManualClock": "kkt_clock",
    "SystemClock": "kkt_clock",
    "MockAtolServer": "kkt_emulators.atol",
    "MockOFDServer": "kkt_emulators.ofd",
    "MockOdooServer": "kkt_emulators.odoo",
    "MockShtrihServer": "kkt_emulators.shtrih",
}


def __getattr__(name: str) -> object:
    if name not in __all__:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(_ELSEWHERE.get(name, "kkt_emulators.device")), name)
    globals()[name] = value  # loaded once: later lookups do not come here
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
