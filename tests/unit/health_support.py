"""What health is judged from, for an adapter where nothing is wrong: the tests of health's rules change one thing."""

from __future__ import annotations

from typing import Any

from kkt_adapter.buffer.queries import BufferCounts
from kkt_adapter.status.health import DeviceHealth, HealthInputs

NO_ROWS = BufferCounts(accepted=0, pending=0, synced=0, print_failed=0, dlq=0)


def inputs(*devices: DeviceHealth, **changes: Any) -> HealthInputs:
    """Health's inputs for a healthy adapter with ``devices`` (none: health's default), changed by ``changes``."""
    values: dict[str, Any] = {
        "database_ok": True,
        "counts": NO_ROWS,
        "capacity": 10_000,
        "max_size": 10_000,
        "alert_threshold": 0.8,
        "oldest_unsynced_age_s": None,
        "warn_days": 25,
        "breaker_state": "CLOSED",
        "sync_mode": "remote",
        "production": True,
        "last_exchange_ok": True,
        "devices": devices,
        "labelled": len(devices) > 1,
    }
    return HealthInputs(**(values | changes))
