"""What the adapter knows, read for a client: one receipt, its audit trail, the latest receipts and a search, a
receipt's QR string, and the state views (buffer, health, heartbeat, devices, metrics).

Every SQLite read runs in a worker thread on that thread's read connection; the state views come from the status
board, which asks each device once per view.
"""

from __future__ import annotations

import asyncio
from typing import Any

from prometheus_client import generate_latest

from kkt_adapter.buffer import Buffer
from kkt_adapter.buffer.listing import MIN_PREFIX, latest
from kkt_adapter.domain.errors import NotFound
from kkt_adapter.service import views
from kkt_adapter.status.metrics import Metrics
from kkt_adapter.status.scrape import metrics_snapshot
from kkt_adapter.status.views import StatusBoard

__all__ = ["MIN_PREFIX", "Queries"]


class Queries:
    """Reads only: nothing here changes the buffer or asks a device to print."""

    def __init__(self, buffer: Buffer, status: StatusBoard, metrics: Metrics) -> None:
        self._buffer = buffer
        self._status = status
        self._metrics = metrics

    async def receipt(self, receipt_id: str) -> dict[str, Any]:
        """One receipt: state, fiscal data, print error, HLC, the delivery's progress; :class:`NotFound` if none."""
        stored = await asyncio.to_thread(self._buffer.get, receipt_id)
        if stored is None:
            raise NotFound(f"no receipt {receipt_id!r}")
        return views.receipt(stored)

    async def events(self, receipt_id: str, *, limit: int) -> dict[str, Any]:
        """The receipt's newest ``limit`` audit events, oldest first; :class:`NotFound` if there is no such receipt."""
        stored = await asyncio.to_thread(self._buffer.get, receipt_id)
        if stored is None:
            raise NotFound(f"no receipt {receipt_id!r}")
        events = await asyncio.to_thread(self._buffer.events, receipt_id=receipt_id, limit=limit)
        return {"receipt_id": receipt_id, "items": events}

    async def latest(self, *, limit: int, search: str | None = None, device: str | None = None) -> dict[str, Any]:
        """The newest ``limit`` documents, or those ``search`` finds (see :func:`~kkt_adapter.buffer.listing.latest`),
        of one ``device`` when it is named; a search of blanks only is no search."""
        query = None if search is None else search.strip() or None
        found = await asyncio.to_thread(latest, self._buffer.db, limit=limit, query=query, device=device)
        listed = {"items": [views.listed(stored) for stored in found], "count": len(found), "q": query}
        return listed | {"device": device}

    async def qr_data(self, receipt_id: str) -> str:
        """The receipt's FNS QR string; :class:`NotFound` for no receipt or a document without one (shift reports)."""
        stored = await asyncio.to_thread(self._buffer.get, receipt_id)
        if stored is None:
            raise NotFound(f"no receipt {receipt_id!r}")
        if stored.fiscal is None or not stored.fiscal.qr_code_data:
            raise NotFound(f"receipt {receipt_id!r} has no QR code (not printed, or a document without one)")
        return stored.fiscal.qr_code_data

    async def buffer_status(self) -> dict[str, Any]:
        """Occupancy and counts, the oldest unsynced receipt's age, the network's state."""
        return await self._status.buffer_status()

    async def health(self) -> dict[str, Any]:
        """``healthy``, ``degraded`` or ``unhealthy``, with each component's state and the reasons."""
        return await self._status.health()

    def heartbeat_status(self) -> dict[str, Any]:
        """The ERP heartbeat's state (disabled without ``KKT_ODOO_API_URL``)."""
        return self._status.heartbeat_status()

    async def devices(self) -> dict[str, Any]:
        """Every device: primary or not, usable, faults, shift, FN, last document, last refusal."""
        return await self._status.devices_view()

    async def metrics(self) -> bytes:
        """The Prometheus text exposition, with the scrape-time gauges read now."""
        self._metrics.latest = await metrics_snapshot(self._status)
        return await asyncio.to_thread(generate_latest, self._metrics.registry)
