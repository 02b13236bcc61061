"""The composition root: wires the adapter's parts from :class:`~kkt_adapter.config.Settings`, and nothing at
import time.

- :func:`build` (:mod:`~kkt_adapter.bootstrap.wiring`) opens the buffer and the devices and constructs every part
  complete, into an :class:`Adapter` (:mod:`~kkt_adapter.bootstrap.adapter`);
- :func:`open_devices` and :func:`start` (:mod:`~kkt_adapter.bootstrap.startup`) settle the devices before serving and
  hand the background work to the runtime;
- :func:`~kkt_adapter.bootstrap.preflight.check_device_fns` (:mod:`~kkt_adapter.bootstrap.preflight`), run by
  ``kkt-adapter serve`` before it listens, refuses a start where a device name reaches another FN under undecided
  receipts;
- the command line's device commands open their driver and unit here too (:func:`device_driver`,
  :func:`offline_device`, :func:`make_unit`, in :mod:`~kkt_adapter.bootstrap.devices`), so a device is chosen and
  wired in one place.
"""

from __future__ import annotations

from kkt_adapter.bootstrap.adapter import Adapter
from kkt_adapter.bootstrap.devices import device_driver, make_unit, offline_device
from kkt_adapter.bootstrap.startup import open_devices, start
from kkt_adapter.bootstrap.wiring import build
from kkt_adapter.devices.registry import make_driver

__all__ = [
    "Adapter",
    "build",
    "device_driver",
    "make_driver",
    "make_unit",
    "offline_device",
    "open_devices",
    "start",
]
