"""JSON views of the adapter's state for the API (pure functions of what the parts report)."""

from __future__ import annotations

from typing import Any

from kkt_adapter import __version__
from kkt_adapter.bootstrap import Adapter
from kkt_adapter.buffer import StoredReceipt
from kkt_adapter.domain.money import rubles
from kkt_adapter.drivers.base import DeviceState


def receipt(stored: StoredReceipt) -> dict[str, Any]:
    """One receipt as ``GET /v1/kkt/receipt/{id}`` shows it."""
    return {
        "receipt_id": stored.receipt_id,
        "state": stored.state,
        "pos_id": stored.pos_id,
        "type": stored.operation,
        "total": str(rubles(stored.total_kop)),
        "created_at": stored.created_at,
        "fiscal_doc": stored.fiscal.response_fiscal_doc() | {"total": str(rubles(stored.fiscal.total_kop))}
        if stored.fiscal
        else None,
        "print_error": stored.print_error,
        "hlc": stored.hlc.encode() if stored.hlc else None,
        "sync": {
            "attempts": stored.attempts,
            "next_attempt_at": stored.next_attempt_at if stored.state == "pending" else None,
            "last_error": stored.last_error,
            "ofd_id": stored.ofd_id,
            "ofd_server_time": stored.ofd_server_time,
            "synced_at": stored.synced_at,
        },
    }


def buffer_status(adapter: Adapter) -> dict[str, Any]:
    """Occupancy and counts (O(1): counters kept by triggers, oldest by index)."""
    counts = adapter.buffer.counts()
    capacity = adapter.settings.buffer_max_size
    oldest = adapter.buffer.oldest_unsynced_at()
    return {
        "total_capacity": capacity,
        "current_queued": counts.unsynced,
        "percent_full": round(100.0 * counts.unsynced / capacity, 2),
        "accepted": counts.accepted,
        "pending": counts.pending,
        "synced": counts.synced,
        "failed": counts.print_failed,
        "dlq_size": counts.dlq,
        "oldest_unsynced_age_seconds": None if oldest is None else max(0.0, adapter.clock.time() - oldest),
        "network_status": "offline" if adapter.settings.ofd_api_url is None else "unknown",
    }


def health(adapter: Adapter, device: DeviceState) -> dict[str, Any]:
    """Health with reasons: ``unhealthy`` when the adapter cannot take a sale."""
    reasons: list[str] = []
    database_ok = adapter.buffer.db.writable()
    if not database_ok:
        reasons.append("database not writable")
    if device.problem:
        reasons.append(f"device: {device.problem}")
    counts = adapter.buffer.counts()
    full = counts.unsynced >= adapter.settings.buffer_capacity
    if full:
        reasons.append("buffer full")
    return {
        "status": "unhealthy" if reasons else "healthy",
        "reasons": reasons,
        "version": __version__,
        "components": {
            "database": {"status": "ok" if database_ok else "error", "path": str(adapter.buffer.db.path)},
            "device": {
                "status": "ok" if device.usable else "error",
                "problem": device.problem,
                "online": device.online,
                "paper": device.paper,
                "shift_open": device.shift_open,
                "shift_number": device.shift_number,
                "last_fd_number": device.last_fd_number,
                "fn_number": device.fn_number,
                "kkt_number": device.kkt_number,
            },
            "buffer": {
                "status": "full" if full else "ok",
                "unsynced": counts.unsynced,
                "capacity": adapter.settings.buffer_capacity,
            },
        },
    }
