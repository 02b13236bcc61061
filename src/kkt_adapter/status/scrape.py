"""The values ``GET /metrics`` renders at scrape time, read from what status already keeps.

Nothing here asks a device anything: each device is reported as last seen (by its prints, health, and the periodic
check every ``KKT_DEVICE_CHECK_INTERVAL`` seconds, whose moment ``kkt_device_checked_timestamp_seconds`` gives), the
FN's exchange status comes from the cache its periodic job refreshes, and the buffer is read once, in a thread. So a
scrape costs the same whatever the devices and however often Prometheus comes, and never queues behind a print.
Moments are given as Unix timestamps so that alert rules compare them with ``time()`` (an age computed here would be
as old as the last scrape); ``0`` stands for "none" (no unsent document, no open shift, no answer yet), so that
every device has every series and a rule filters ``> 0``.
"""

from __future__ import annotations

import asyncio
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from kkt_adapter.status.ports import DeviceEntry, DeviceView, FnExchangeView
from kkt_adapter.status.views import StatusBoard, device_faults

#: A shift may stay open 24 hours (54-FZ): a device that gives the shift's end gives its start.
SHIFT_HOURS = 24
#: The sync modes in which the adapter itself talks to the OFD (and so has a last successful exchange).
TALKS_TO_OFD = ("embedded", "remote")


async def metrics_snapshot(board: StatusBoard) -> dict[str, Any]:
    """The scrape-time gauges' values."""
    states = board.known_devices()
    device = states[0] if states else await board.device.device_status()
    view = await asyncio.to_thread(board.read_buffer)
    counts = view.counts
    limits = board.limits
    tz = ZoneInfo(limits.timezone)
    heartbeat = None if board.heartbeat is None else board.heartbeat.status()
    return {
        "devices": [
            _device(entry, one, board.device_fn.get(entry.name), tz)
            for entry, one in zip(board.devices, states, strict=True)
        ],
        "counts": {
            "accepted": counts.accepted,
            "pending": counts.pending,
            "synced": counts.synced,
            "print_failed": counts.print_failed,
            "dlq": counts.dlq,
        },
        "capacity": limits.capacity,
        "occupancy": counts.unsynced / limits.max_size,
        "oldest_unsynced_age_seconds": view.oldest_age_s,
        "breaker_state": board.delivery.breaker_snapshot()["state"],
        "heartbeat_state": "UNKNOWN" if board.heartbeat is None else board.heartbeat.state,
        "device_ok": device.usable,
        "fn": board.fn_exchange(),
        "info": {"version": limits.version, "mode": limits.mode, "store": limits.store, "till": limits.till},
        "started_at": board.started_at,
        "buffer_oldest_unsynced_at": view.oldest_at or 0.0,
        "clock_behind_s": view.clock_behind_s,
        "ofd_last_success_at": (board.delivery.last_success_at or 0.0)
        if board.delivery.sync_mode in TALKS_TO_OFD
        else None,
        "heartbeat_last_ack_at": None if heartbeat is None else heartbeat.get("last_success_at") or 0.0,
    }


def _device(entry: DeviceEntry, view: DeviceView, fn: FnExchangeView | None, tz: ZoneInfo) -> dict[str, Any]:
    """One device's gauges: up, faults, FN warnings and moments, shift start, and what its info line names."""
    state = view.state
    status = None if fn is None else fn.status
    faults = set() if state is None else set(device_faults(state))
    refusal = entry.last_refusal
    if view.problem is not None and not faults:
        faults.add(refusal.code if refusal is not None else "error")
    opened = None
    if state is not None:
        opened = 0.0
        if state.shift_open and state.shift_expires_at is not None:
            opened = state.shift_expires_at - SHIFT_HOURS * 3600
    unsent_at = None
    if status is not None:
        unsent_at = 0.0 if not status.unsent_count else moment(status.first_unsent_at, tz) or 0.0
    return {
        "name": entry.name,
        "usable": view.usable,
        "unsent_count": None if status is None else status.unsent_count,
        "driver": entry.kind,
        "fn_number": (status.fn_number if status is not None else "") or (state.fn_number if state else ""),
        "registration_number": "" if state is None else state.kkt_number,
        "faults": sorted(faults),
        "fn_warnings": () if state is None else tuple(state.fn_warnings),
        "fn_valid_until": None if status is None else day_start(status.validity_date, tz),
        "fn_oldest_unsent_at": unsent_at,
        "shift_opened_at": opened,
        "checked_at": view.checked_at,
    }


def moment(text: str | None, tz: ZoneInfo) -> float | None:
    """A device's ISO date-time as a timestamp (read in ``tz`` when it has no offset), ``None`` when unreadable."""
    if not text:
        return None
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        return None
    return (parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=tz)).timestamp()


def day_start(text: str | None, tz: ZoneInfo) -> float | None:
    """The start of an ISO date in ``tz`` (the FN's validity date: the rules count the days left to it)."""
    if not text:
        return None
    try:
        day = date.fromisoformat(text[:10])
    except ValueError:
        return None
    return datetime(day.year, day.month, day.day, tzinfo=tz).timestamp()
