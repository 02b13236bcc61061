"""Retention: synced receipts older than ``KKT_BUFFER_RETENTION_DAYS`` leave the buffer; unsynced ones never do."""

from __future__ import annotations

import logging

from kkt_adapter.buffer.store import Buffer

log = logging.getLogger(__name__)

DAY_S = 86_400


def purge_expired(buffer: Buffer, *, retention_days: int) -> int:
    """Delete synced receipts older than ``retention_days`` in small transactions; return how many went."""
    cutoff = buffer.clock.time() - retention_days * DAY_S
    removed = 0
    while batch := buffer.purge_synced(older_than=cutoff):
        removed += batch
    if removed:
        log.info("retention removed synced receipts", extra={"removed": removed})
    return removed
