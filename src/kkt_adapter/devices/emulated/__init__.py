"""The emulated KKT (``KKT_DRIVER_TYPE=mock``): the device model of :mod:`kkt_emulators.device` behind the
:class:`~kkt_adapter.devices.protocol.FiscalDriver` port, in this process."""

from __future__ import annotations

from kkt_adapter.devices.emulated.driver import EmulatedDriver

__all__ = ["EmulatedDriver"]
