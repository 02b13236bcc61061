"""The durable local buffer: one SQLite file with receipts, dead letters, events and the HLC high-water mark."""

from __future__ import annotations

from kkt_adapter.buffer.queries import BufferCounts, StoredReceipt
from kkt_adapter.buffer.store import Buffer

__all__ = ["Buffer", "BufferCounts", "StoredReceipt"]
