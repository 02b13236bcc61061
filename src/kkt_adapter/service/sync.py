"""Phase 2 on demand: the sync worker's (or, in device mode, the device trackers') state, and a sync pass now."""

from __future__ import annotations

from typing import Any

from kkt_adapter.delivery.service import Delivery
from kkt_adapter.domain.errors import SyncDisabled


class Sync:
    """Reads and steps delivery as it is at the time of the call (the worker starts after the service is built)."""

    def __init__(self, delivery: Delivery) -> None:
        self._delivery = delivery

    async def sync_now(self) -> dict[str, Any]:
        """One pass now, claiming as the worker does; :class:`SyncDisabled` when the adapter sends nothing itself."""
        delivery = self._delivery
        if delivery.tracker is not None:
            raise SyncDisabled(
                "the KKT delivers its own documents (KKT_OFD_DELIVERY=device): the adapter sends nothing"
            )
        if delivery.worker is None:
            raise SyncDisabled("sync is off: set KKT_OFD_API_URL (or KKT_MODE=mock for the embedded mock OFD)")
        result = await delivery.worker.step()
        return result.to_dict() | {"circuit_breaker": delivery.breaker_snapshot()}

    def worker_status(self) -> dict[str, Any]:
        """The worker's state, last pass and next wake; in device mode, the trackers' (the primary's first)."""
        delivery = self._delivery
        if delivery.tracker is not None:
            answer = delivery.tracker.status() | {"sync_mode": "device", "circuit_breaker": delivery.breaker_snapshot()}
            # Each tracker under its device's label as well (trackers are labelled only when devices are).
            listed = {tracker.device: tracker.status() for tracker in delivery.trackers if tracker.device is not None}
            return answer | ({"devices": listed} if listed else {})
        if delivery.worker is None:
            return {
                "state": "disabled",
                "sync_mode": delivery.sync_mode,
                "circuit_breaker": delivery.breaker_snapshot(),
            }
        return delivery.worker.status() | {"sync_mode": delivery.sync_mode, "ofd_url": delivery.ofd_url}
