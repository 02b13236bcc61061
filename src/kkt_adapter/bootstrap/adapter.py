"""The wired adapter: the parts :func:`kkt_adapter.bootstrap.build` constructs, as the HTTP layer and the runtime
are given them."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from kkt_adapter.buffer import Buffer
from kkt_adapter.buffer.outbox import Outbox
from kkt_adapter.config import Settings
from kkt_adapter.delivery.fn_exchange import FnExchange
from kkt_adapter.delivery.ofd_client import OFDClient
from kkt_adapter.delivery.service import Delivery
from kkt_adapter.intake.devices import Devices
from kkt_adapter.runtime import Runtime
from kkt_adapter.service import AppService
from kkt_adapter.status.heartbeat import Heartbeat


@dataclass
class Adapter:
    """The adapter's parts, wired: the runtime is given the parts, the entry points only ``service``; ``devices`` has
    every device and routes the prints."""

    settings: Settings
    buffer: Buffer
    outbox: Outbox
    delivery: Delivery
    runtime: Runtime
    devices: Devices
    #: What the HTTP layer calls: the application service over the parts above.
    service: AppService
    #: Each device's FN exchange status, by device name.
    fn_exchanges: dict[str, FnExchange] = field(default_factory=dict)
    #: The heartbeat to the ERP (``KKT_ODOO_API_URL``), started by :func:`start`.
    heartbeat: Heartbeat | None = None
    #: The OFD client the sync worker sends with (closed when the runtime stops).
    ofd_client: OFDClient | None = None
    #: Stops the embedded mock OFD (mock mode without ``KKT_OFD_API_URL``).
    stop_embedded_ofd: Callable[[], None] | None = None

    def close(self) -> None:
        """Release the embedded mock OFD, the devices' threads, the devices and the buffer (after the runtime has
        stopped)."""
        if self.stop_embedded_ofd is not None:
            self.stop_embedded_ofd()
        for unit in self.devices.units:
            unit.close()
        for unit in self.devices.units:
            unit.driver.close()
        self.buffer.close()
