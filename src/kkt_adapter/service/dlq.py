"""Dead letters: the documents the OFD did not take (or that ran out of attempts), and sending one again."""

from __future__ import annotations

import asyncio
from typing import Any

from kkt_adapter.buffer import Buffer
from kkt_adapter.buffer.outbox import Outbox
from kkt_adapter.delivery.service import Delivery
from kkt_adapter.domain.errors import NotFound
from kkt_adapter.domain.states import ReceiptState


class DeadLetters:
    """The DLQ's page of rows with their reasons, and requeue (which wakes the worker)."""

    def __init__(self, buffer: Buffer, outbox: Outbox, delivery: Delivery) -> None:
        self._buffer = buffer
        self._outbox = outbox
        self._delivery = delivery

    async def page(self, *, limit: int, offset: int) -> dict[str, Any]:
        """``limit`` dead letters from ``offset``, oldest first, and how many there are (an O(1) counter)."""
        items, counts = await asyncio.gather(
            asyncio.to_thread(self._outbox.dead_letters, limit=limit, offset=offset),
            asyncio.to_thread(self._buffer.counts),
        )
        return {"items": items, "count": counts.dlq}

    async def requeue(self, receipt_id: str) -> dict[str, Any]:
        """Move the dead letter back to pending with fresh attempts; :class:`NotFound` if it is not in the DLQ."""
        if not await asyncio.to_thread(self._outbox.requeue, receipt_id):
            raise NotFound(f"no receipt {receipt_id!r} in the DLQ")
        self._delivery.wake()
        return {"receipt_id": receipt_id, "state": ReceiptState.PENDING.value}
