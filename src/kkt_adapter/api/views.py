"""JSON views of the adapter's state for the API, the heartbeat and the metrics (read at one moment)."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

from kkt_adapter import __version__
from kkt_adapter.bootstrap import Adapter
from kkt_adapter.buffer import BufferCounts, StoredReceipt
from kkt_adapter.domain.money import rubles
from kkt_adapter.drivers.base import DeviceState
from kkt_adapter.health import HealthInputs, assess, network_status


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
            "hlc_server_ms": stored.hlc_server_ms,
            "synced_at": stored.synced_at,
        },
    }


@dataclass(frozen=True)
class BufferView:
    counts: BufferCounts
    oldest_age_s: float | None


def read_buffer(adapter: Adapter) -> BufferView:
    """Counts (O(1)) and the oldest unsynced receipt's age (by index)."""
    oldest = adapter.buffer.oldest_unsynced_at()
    age = None if oldest is None else max(0.0, adapter.clock.time() - oldest)
    return BufferView(adapter.buffer.counts(), age)


def network(adapter: Adapter) -> str:
    return network_status(
        breaker_state=adapter.breaker.state.value,
        sync_mode=adapter.sync_mode,
        last_exchange_ok=adapter.last_exchange_ok,
    )


def buffer_status(adapter: Adapter) -> dict[str, Any]:
    """``GET /v1/kkt/buffer/status``."""
    view = read_buffer(adapter)
    counts, capacity = view.counts, adapter.settings.buffer_max_size
    return {
        "total_capacity": capacity,
        "current_queued": counts.unsynced,
        "percent_full": round(100.0 * counts.unsynced / capacity, 2),
        "accepted": counts.accepted,
        "pending": counts.pending,
        "synced": counts.synced,
        "failed": counts.print_failed,
        "dlq_size": counts.dlq,
        "oldest_unsynced_age_seconds": view.oldest_age_s,
        "oldest_pending_age_seconds": view.oldest_age_s,
        "network_status": network(adapter),
        "sync_mode": adapter.sync_mode,
    }


def device_view(device: DeviceState) -> dict[str, Any]:
    return {
        "status": "ok" if device.usable else "error",
        "problem": device.problem,
        "online": device.online,
        "paper": device.paper,
        "shift_open": device.shift_open,
        "shift_number": device.shift_number,
        "shift_expired": device.shift_expired,
        "last_fd_number": device.last_fd_number,
        "fn_number": device.fn_number,
        "kkt_number": device.kkt_number,
    }


async def health(adapter: Adapter) -> dict[str, Any]:
    """``GET /v1/health``: the verdict, reasons and components."""
    device = await adapter.fiscalizer.device_state()
    database_ok = await asyncio.to_thread(adapter.buffer.db.writable)
    view = await asyncio.to_thread(read_buffer, adapter)
    settings = adapter.settings
    verdict, reasons = assess(
        HealthInputs(
            database_ok=database_ok,
            device=device,
            counts=view.counts,
            capacity=settings.buffer_capacity,
            max_size=settings.buffer_max_size,
            alert_threshold=settings.buffer_alert_threshold,
            oldest_unsynced_age_s=view.oldest_age_s,
            warn_days=settings.ofd_warn_days,
            breaker_state=adapter.breaker.state.value,
            sync_mode=adapter.sync_mode,
            production=settings.mode == "production",
            last_exchange_ok=adapter.last_exchange_ok,
        )
    )
    net = network(adapter)
    return {
        "status": verdict,
        "reasons": reasons,
        "version": __version__,
        "adapter_id": settings.adapter_id,
        "uptime_seconds": round(adapter.clock.time() - adapter.started_at, 3),
        "components": {
            "database": {"status": "ok" if database_ok else "error", "path": str(adapter.buffer.db.path)},
            "device": device_view(device),
            "buffer": {
                "status": "full" if view.counts.unsynced >= settings.buffer_capacity else "ok",
                "unsynced": view.counts.unsynced,
                "capacity": settings.buffer_capacity,
                "percent_full": round(100.0 * view.counts.unsynced / settings.buffer_max_size, 2),
                "oldest_unsynced_age_seconds": view.oldest_age_s,
            },
            "circuit_breaker": adapter.breaker.snapshot(),
            "ofd": {
                "status": net,
                "sync_mode": adapter.sync_mode,
                "url": adapter.ofd_url,
                "last_exchange_ok": adapter.last_exchange_ok,
                "last_exchange_at": None if adapter.worker is None else adapter.worker.last_exchange_at,
            },
            "heartbeat": heartbeat_status(adapter),
        },
    }


def heartbeat_status(adapter: Adapter) -> dict[str, Any]:
    """``GET /v1/kkt/heartbeat/status``."""
    if adapter.heartbeat is None:
        return {"enabled": False, "state": "DISABLED", "reason": "KKT_ODOO_API_URL is not set"}
    return adapter.heartbeat.status()


async def heartbeat_payload(adapter: Adapter) -> dict[str, Any]:
    """What the ERP receives every beat (``timestamp`` and ``adapter_id`` are added by the heartbeat)."""
    device = await adapter.fiscalizer.device_state()
    status = await asyncio.to_thread(buffer_status, adapter)
    breaker = adapter.breaker.snapshot()
    return {
        "version": __version__,
        "buffer_status": status,
        "circuit_breaker": {"state": breaker["state"], "failure_count": breaker["failure_count"]},
        "network_status": status["network_status"],
        "oldest_unsynced_age_seconds": status["oldest_unsynced_age_seconds"],
        "shift": {
            "open": device.shift_open,
            "number": device.shift_number,
            "expired": device.shift_expired,
        },
        "device": device_view(device),
    }


async def metrics_snapshot(adapter: Adapter) -> dict[str, Any]:
    """The scrape-time gauges' values."""
    device = await adapter.fiscalizer.device_state()
    view = await asyncio.to_thread(read_buffer, adapter)
    counts = view.counts
    return {
        "counts": {
            "accepted": counts.accepted,
            "pending": counts.pending,
            "synced": counts.synced,
            "print_failed": counts.print_failed,
            "dlq": counts.dlq,
        },
        "capacity": adapter.settings.buffer_capacity,
        "occupancy": counts.unsynced / adapter.settings.buffer_max_size,
        "oldest_unsynced_age_seconds": view.oldest_age_s,
        "breaker_state": adapter.breaker.state.value,
        "heartbeat_state": "UNKNOWN" if adapter.heartbeat is None else adapter.heartbeat.state,
        "device_ok": device.usable,
    }
