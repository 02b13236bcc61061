"""The adapter seen from outside: health, buffer status, the heartbeat's payload and the metrics' gauges.

:class:`StatusBoard` reads only through the small ports of :mod:`kkt_adapter.status.ports`. SQLite reads run in a
thread on their own read connection (never on the event loop, never behind the writer's lock), and the device is
read from its last known state while it prints.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

from kkt_adapter.buffer.queries import BufferCounts
from kkt_adapter.domain.device import DeviceState
from kkt_adapter.status.health import DeviceHealth, HealthInputs, age_since, judge, network_status
from kkt_adapter.status.ports import (
    BufferReads,
    DeliveryView,
    DeviceEntry,
    DeviceStatus,
    DeviceView,
    FnExchangeView,
    HeartbeatView,
    Storage,
    TaskView,
)
from kkt_clock import Clock

#: How long health waits for its write probe before it answers from the last write's outcome.
WRITE_PROBE_WAIT_S = 1.0
#: A wall clock this far behind the newest time the buffer has seen is reported (NTP steps stay far below it).
CLOCK_BACK_WARN_S = 60.0

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Limits:
    """The settings status judges by."""

    adapter_id: str
    version: str
    capacity: int
    max_size: int
    alert_threshold: float
    warn_days: int
    production: bool
    shift_policy: str = "auto"
    #: The store's time zone: a device date-time without an offset is read in it.
    timezone: str = "Europe/Moscow"
    #: What ``kkt_adapter_info`` says of the adapter: its mode, and the store and till it serves.
    mode: str = "mock"
    store: str = ""
    till: str = ""


@dataclass(frozen=True)
class BufferView:
    counts: BufferCounts
    oldest_age_s: float | None
    #: How far the wall clock is behind the newest time the buffer has seen (0 when it is not).
    clock_behind_s: float = 0.0
    #: When the oldest unsynced receipt was stored (``None`` when there is none).
    oldest_at: float | None = None


@dataclass
class StatusBoard:
    """Answers the status endpoints, the heartbeat and the metrics from the ports it is given."""

    limits: Limits
    clock: Clock
    started_at: float
    buffer: BufferReads
    storage: Storage
    device: DeviceStatus
    delivery: DeliveryView
    tasks: TaskView
    heartbeat: HeartbeatView | None = None
    fn: FnExchangeView | None = None
    #: Every device (the first is the primary); health judges each of them, one device as a list of one.
    devices: Sequence[DeviceEntry] = ()
    #: Each device's FN exchange status, by device name.
    device_fn: Mapping[str, FnExchangeView] = field(default_factory=dict)
    #: Whether outputs name and list the devices (routing's decision: only when there is a choice of devices).
    labelled: bool = False
    _warned_clock: bool = False

    async def device_states(self) -> list[DeviceView]:
        """Every device's state (each without waiting behind its printer), in configured order."""
        return list(await asyncio.gather(*(entry.device_status() for entry in self.devices)))

    async def read_devices(self) -> tuple[DeviceView, list[DeviceView]]:
        """The primary's state and every device's, each device asked once (the primary is the first device)."""
        if not self.devices:
            return await self.device.device_status(), []
        states = await self.device_states()
        return states[0], states

    def known_devices(self) -> list[DeviceView]:
        """Every device's state as last seen, without asking any device (metrics: the periodic check keeps it
        fresh, ``KKT_DEVICE_CHECK_INTERVAL``)."""
        return [entry.last_known() for entry in self.devices]

    async def devices_view(self) -> dict[str, Any]:
        """``GET /v1/kkt/devices``: each device's role, state, faults, shift, FN and last document."""
        states = await self.device_states()
        return {
            "primary": self.devices[0].name if self.devices else None,
            "devices": [self._device_entry(entry, view) for entry, view in zip(self.devices, states, strict=True)],
        }

    def _device_entry(self, entry: DeviceEntry, view: DeviceView) -> dict[str, Any]:
        state, refusal = view.state, entry.last_refusal
        fn = self.fn_exchange(self.device_fn.get(entry.name))
        faults = [] if state is None else device_faults(state)
        if view.problem is not None and not faults:
            faults.append(refusal.code if refusal is not None else "error")
        return {
            "name": entry.name,
            "primary": entry.primary,
            "driver": entry.kind,
            "usable": view.usable,
            "problem": view.problem,
            "faults": faults,
            "shift": {
                "open": None if state is None else state.shift_open,
                "number": None if state is None else state.shift_number,
                "expired": None if state is None else state.shift_expired,
                "expires_at": None if state is None else state.shift_expires_at,
            },
            "fn": {
                "number": fn["fn_number"] or (None if state is None else state.fn_number),
                "unsent_count": fn["unsent_count"],
                "first_unsent_at": fn["first_unsent_at"],
                "warnings": [] if state is None else list(state.fn_warnings),
            },
            "last_document": {"fd_number": None if state is None else state.last_fd_number},
            "last_refusal": None
            if refusal is None
            else {"code": refusal.code, "reason": refusal.reason, "at": refusal.at},
            "skipped_until": entry.skipped_until,
            "checked_at": view.checked_at,
        }

    def read_buffer(self) -> BufferView:
        """Counts (O(1)) and the oldest unsynced receipt's age (by index); blocking, call it in a thread.

        The age is counted to the newest wall time the buffer has seen (its HLC high-water mark) when the clock is
        behind it: a clock set back must not make the 30-day watch look younger than it is.
        """
        oldest = self.buffer.oldest_unsynced_at()
        now = self.clock.time()
        seen = self.buffer.hlc_high_water().wall_ms / 1000
        behind = max(0.0, seen - now)
        if behind > CLOCK_BACK_WARN_S and not self._warned_clock:
            log.warning("the wall clock went back", extra={"behind_seconds": round(behind, 1)})
        self._warned_clock = behind > CLOCK_BACK_WARN_S
        age = None if oldest is None else max(0.0, max(now, seen) - oldest)
        return BufferView(self.buffer.counts(), age, behind, oldest)

    def network(self) -> str:
        return network_status(
            breaker_state=self.delivery.breaker_snapshot()["state"],
            sync_mode=self.delivery.sync_mode,
            last_exchange_ok=self.delivery.last_exchange_ok,
        )

    async def buffer_status(self) -> dict[str, Any]:
        """``GET /v1/kkt/buffer/status``."""
        view = await asyncio.to_thread(self.read_buffer)
        return self._buffer_status(view)

    def _buffer_status(self, view: BufferView) -> dict[str, Any]:
        counts, capacity = view.counts, self.limits.max_size
        percent = round(100.0 * counts.unsynced / capacity, 2)
        breaker_state = self.delivery.breaker_snapshot()["state"]
        return {
            "total_capacity": capacity,
            "current_queued": counts.unsynced,
            "percent_full": percent,
            "accepted": counts.accepted,
            "pending": counts.pending,
            "synced": counts.synced,
            "failed": counts.print_failed,
            "dlq_size": counts.dlq,
            "oldest_unsynced_age_seconds": view.oldest_age_s,
            "oldest_pending_age_seconds": view.oldest_age_s,
            "network_status": self.network(),
            "sync_mode": self.delivery.sync_mode,
            # The ERP's status widget reads these names (the same values as above).
            "buffer_percent": percent,
            "buffer_count": counts.unsynced,
            "cb_state": breaker_state,
        }

    async def database_ok(self) -> bool:
        """A real write through the writer when it answers in time, else the outcome of the last write."""
        try:
            return await asyncio.wait_for(asyncio.to_thread(self.storage.probe_write), WRITE_PROBE_WAIT_S)
        except TimeoutError:
            return self.storage.last_write_ok is not False

    async def health(self) -> dict[str, Any]:
        """``GET /v1/health``: the verdict, reasons and components."""
        (device, states), database_ok, view = await asyncio.gather(
            self.read_devices(), self.database_ok(), asyncio.to_thread(self.read_buffer)
        )
        limits = self.limits
        judged = [_judged(entry.name, one) for entry, one in zip(self.devices, states, strict=True)]
        breaker = self.delivery.breaker_snapshot()
        state = device.state
        fn = self.fn_exchange()
        verdict, problems = judge(
            HealthInputs(
                database_ok=database_ok,
                devices=tuple(judged or [_judged("", device)]),
                labelled=self.labelled,
                counts=view.counts,
                capacity=limits.capacity,
                max_size=limits.max_size,
                alert_threshold=limits.alert_threshold,
                oldest_unsynced_age_s=view.oldest_age_s,
                warn_days=limits.warn_days,
                breaker_state=breaker["state"],
                sync_mode=self.delivery.sync_mode,
                production=limits.production,
                last_exchange_ok=self.delivery.last_exchange_ok,
                task_failures=dict(self.tasks.failures),
                shift_policy=limits.shift_policy,
                shift_expires_in_s=None
                if state is None or state.shift_expires_at is None
                else state.shift_expires_at - self.clock.time(),
                clock_behind_s=view.clock_behind_s if view.clock_behind_s > CLOCK_BACK_WARN_S else 0.0,
                fn_first_unsent_age_s=fn["first_unsent_age_seconds"],
                fn_status_known=fn["fn_number"] is not None,
                fn_read_error=fn["error"],
                untracked=self.delivery.untracked,
                ofd_last_success_at=self.delivery.last_success_at,
                now=self.clock.time(),
            )
        )
        return {
            "status": verdict,
            "reasons": [problem.text for problem in problems],
            "problems": [problem.public() for problem in problems],
            "version": self.limits.version,
            "adapter_id": limits.adapter_id,
            "uptime_seconds": round(self.clock.time() - self.started_at, 3),
            "components": {
                "database": {
                    "status": "ok" if database_ok else "error",
                    "path": str(self.storage.path),
                    "last_error": self.storage.last_write_error,
                },
                "device": device_view(device),
                **self._listed(states),
                "buffer": {
                    "status": "full" if view.counts.unsynced >= limits.capacity else "ok",
                    "unsynced": view.counts.unsynced,
                    "capacity": limits.capacity,
                    "percent_full": round(100.0 * view.counts.unsynced / limits.max_size, 2),
                    "oldest_unsynced_age_seconds": view.oldest_age_s,
                },
                "circuit_breaker": breaker,
                "ofd": {
                    "status": self.network(),
                    "sync_mode": self.delivery.sync_mode,
                    "url": self.delivery.ofd_url,
                    "last_exchange_ok": self.delivery.last_exchange_ok,
                    "last_exchange_at": self.delivery.last_exchange_at,
                    "last_success_at": self.delivery.last_success_at,
                    "untracked": self.delivery.untracked,
                },
                "fn": fn,
                "heartbeat": self.heartbeat_status(),
                "tasks": self.tasks.status(),
            },
        }

    def _listed(self, states: list[DeviceView]) -> dict[str, Any]:
        """Health's and the heartbeat's ``devices``: each device by name when they are labelled, else no key."""
        listed = {
            entry.name: device_view(one) | {"primary": entry.primary, "driver": entry.kind}
            for entry, one in zip(self.devices, states, strict=True)
        }
        return {"devices": listed} if self.labelled else {}

    def heartbeat_status(self) -> dict[str, Any]:
        """``GET /v1/kkt/heartbeat/status``."""
        if self.heartbeat is None:
            return {"enabled": False, "state": "DISABLED", "reason": "KKT_ODOO_API_URL is not set"}
        return self.heartbeat.status()

    async def heartbeat_payload(self) -> dict[str, Any]:
        """What the ERP receives every beat (``timestamp`` and ``adapter_id`` are added by the heartbeat)."""
        (device, states), view = await asyncio.gather(self.read_devices(), asyncio.to_thread(self.read_buffer))
        status = self._buffer_status(view)
        breaker = self.delivery.breaker_snapshot()
        state = device.state
        return {
            "version": self.limits.version,
            "buffer_status": status,
            "circuit_breaker": {"state": breaker["state"], "failure_count": breaker["failure_count"]},
            "network_status": status["network_status"],
            "oldest_unsynced_age_seconds": status["oldest_unsynced_age_seconds"],
            "shift": {
                "open": None if state is None else state.shift_open,
                "number": None if state is None else state.shift_number,
                "expired": None if state is None else state.shift_expired,
            },
            "device": device_view(device),
            **self._listed(states),
            "fn": self.fn_exchange(),
        }

    def fn_exchange(self, fn: FnExchangeView | None = None) -> dict[str, Any]:
        """The FN's unsent documents as last read from the device (health, heartbeat), in both delivery modes: the
        primary's, or ``fn``'s."""
        fn = fn if fn is not None else self.fn
        status = None if fn is None else fn.status
        first_at = None if status is None else status.first_unsent_at
        return {
            "status": "unknown" if fn is None or status is None else "ok" if fn.error is None else "stale",
            "fn_number": None if status is None else status.fn_number,
            "unsent_count": None if status is None else status.unsent_count,
            "first_unsent_fd_number": None if status is None else status.first_unsent_fd_number,
            "first_unsent_at": first_at,
            "first_unsent_age_seconds": age_since(first_at, now=self.clock.time(), tz=ZoneInfo(self.limits.timezone)),
            "checked_at": None if fn is None else fn.checked_at,
            "error": None if fn is None else fn.error,
        }


def device_view(device: DeviceView) -> dict[str, Any]:
    """The device component of health and of the heartbeat."""
    state = device.state
    return {
        "status": "ok" if device.usable else "error",
        "problem": device.problem,
        "checked_at": device.checked_at,
        "online": None if state is None else state.online,
        "paper": None if state is None else state.paper,
        "shift_open": None if state is None else state.shift_open,
        "shift_number": None if state is None else state.shift_number,
        "shift_expired": None if state is None else state.shift_expired,
        "shift_expires_at": None if state is None else state.shift_expires_at,
        "fn_blocked": None if state is None else state.fn_blocked,
        "fn_warnings": [] if state is None else list(state.fn_warnings),
        "last_fd_number": None if state is None else state.last_fd_number,
        "fn_number": None if state is None else state.fn_number,
        "kkt_number": None if state is None else state.kkt_number,
    }


def _judged(name: str, device: DeviceView) -> DeviceHealth:
    """What health judges of one device."""
    state = device.state
    return DeviceHealth(
        name=name,
        usable=device.usable,
        problem=device.problem,
        shift_expired=state is not None and state.shift_expired,
        fn_warnings=() if state is None else state.fn_warnings,
        fault=None if device.usable else next(iter(device_faults(state)), "error") if state else "error",
    )


def device_faults(state: DeviceState) -> list[str]:
    """The device's faults as codes, from its state."""
    faults = []
    if not state.online:
        faults.append("offline")
    if not state.paper:
        faults.append("paper_out")
    if state.fn_blocked:
        faults.append("fn_blocked")
    if state.shift_expired:
        faults.append("shift_expired")
    return faults
