"""The emulated Shtrih-M KKT: its native protocol (v1 and v2 framings) on TCP and on a pseudo-terminal, in front of
the same emulated KKT and FN as the other emulators.

Modules, one idea each: :mod:`.frames` (the framings), :mod:`.fields` (binary fields), :mod:`.session` (the line:
handshake, packet numbers, the line's faults), :mod:`.machine` (commands, modes, the receipt in steps),
:mod:`.answers` (read-only answers), :mod:`.vat` (table-6 rows), :mod:`.errors`, :mod:`.faults`, :mod:`.server`.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from kkt_emulators.shtrih.faults import ShtrihFaults
    from kkt_emulators.shtrih.server import MockShtrihServer

__all__ = ["MockShtrihServer", "ShtrihFaults"]

_HOME = {"MockShtrihServer": "kkt_emulators.shtrih.server", "ShtrihFaults": "kkt_emulators.shtrih.faults"}


def __getattr__(name: str) -> object:
    # Loaded on first use, so that the command line can name the ``shtrih`` command without loading the device.
    if name not in _HOME:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(_HOME[name]), name)
    globals()[name] = value
    return value
