"""The devices: the one port through which the adapter prints (:mod:`.protocol`), the registry that builds a driver
from its settings (:mod:`.registry`, called by the composition root only), one lane per device (:mod:`.lane`: its
thread, queue and print batches, with the device's last known state, :mod:`.monitor`, and its journal follower,
:mod:`.journal`), finding a KKT (:mod:`.detect`), and one sub-package per driver: :mod:`.emulated` (the emulated
KKT of ``kkt_emulators``), :mod:`.atol` (ATOL Web Requests) and :mod:`.shtrih` (Shtrih-M's native protocol over
TCP or a serial line). A new driver goes into a sub-package of its own beside them and is named in the registry.

Devices import the domain and nothing of Phase 1, Phase 2 or status: the intake, delivery and status code reach a
device through its lane; what a print's completion stores is the caller's (a callable the lane is handed).
"""

from __future__ import annotations

from kkt_adapter.devices.protocol import DeviceState, FiscalDriver, PrintJob

__all__ = ["DeviceState", "FiscalDriver", "PrintJob"]
