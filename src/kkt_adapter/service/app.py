"""The facade: one object the entry points are handed, with a part for each kind of request.

The composition root builds it (:func:`build_service`) from the core's parts; an entry point never reaches past it
into the buffer, the devices, the fiscalizers or delivery.
"""

from __future__ import annotations

from dataclasses import dataclass

from kkt_adapter.buffer import Buffer
from kkt_adapter.buffer.outbox import Outbox
from kkt_adapter.delivery.service import Delivery
from kkt_adapter.intake.devices import Devices
from kkt_adapter.service.dlq import DeadLetters
from kkt_adapter.service.fiscal_day import FiscalDay
from kkt_adapter.service.queries import Queries
from kkt_adapter.service.receipts import Receipts
from kkt_adapter.service.sync import Sync
from kkt_adapter.status.metrics import Metrics
from kkt_adapter.status.views import StatusBoard


@dataclass(frozen=True)
class AppService:
    """The adapter's application service: receipts, the fiscal day, queries, sync and the DLQ."""

    adapter_id: str
    #: The configured devices' names, the primary first.
    device_names: tuple[str, ...]
    receipts: Receipts
    fiscal_day: FiscalDay
    queries: Queries
    sync: Sync
    dlq: DeadLetters

    def knows_device(self, name: str) -> bool:
        """Whether ``name`` is a configured device."""
        return name in self.device_names


def build_service(
    *,
    adapter_id: str,
    devices: Devices,
    buffer: Buffer,
    outbox: Outbox,
    delivery: Delivery,
    status: StatusBoard,
    metrics: Metrics,
) -> AppService:
    """The service over the core's parts (called by the composition root only)."""
    return AppService(
        adapter_id=adapter_id,
        device_names=tuple(devices.names),
        receipts=Receipts(devices),
        fiscal_day=FiscalDay(devices, buffer),
        queries=Queries(buffer, status, metrics),
        sync=Sync(delivery),
        dlq=DeadLetters(buffer, outbox, delivery),
    )
