"""What the status side reads, as small ports: it never holds the runtime, the fiscalizer or the worker.

Each port is answered from state that the working parts keep up to date (the device's last known state, the
buffer's O(1) counters on a read connection of its own, the last write's outcome, the breaker's snapshot), so that
health, buffer status, metrics and the heartbeat answer at once, whatever the printer or the OFD are doing.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Protocol

from kkt_adapter.buffer.queries import BufferCounts
from kkt_adapter.domain.device import DeviceState, FNStatus
from kkt_adapter.domain.hlc import HLCStamp


class BufferReads(Protocol):
    """Counts and the oldest unsynced receipt (blocking SQLite reads: call them in a thread)."""

    def counts(self) -> BufferCounts: ...

    def oldest_unsynced_at(self) -> float | None: ...

    def hlc_high_water(self) -> HLCStamp: ...


class Storage(Protocol):
    """The buffer file: where it is and whether it takes writes."""

    path: Path
    last_write_ok: bool | None
    last_write_error: str | None

    def probe_write(self) -> bool: ...


class DeviceView(Protocol):
    """The device's last known state (``state`` is ``None`` before the first answer)."""

    @property
    def state(self) -> DeviceState | None: ...

    @property
    def checked_at(self) -> float | None: ...

    @property
    def problem(self) -> str | None: ...

    @property
    def usable(self) -> bool: ...


class DeviceStatus(Protocol):
    """Gives the device's state without waiting behind a print."""

    async def device_status(self) -> DeviceView: ...


class Refused(Protocol):
    """A device's last definite refusal."""

    @property
    def code(self) -> str: ...

    @property
    def reason(self) -> str: ...

    @property
    def at(self) -> float: ...


class DeviceEntry(Protocol):
    """One device (of one or several), as routing sees it: its name, role and driver, its last refusal, and its
    state."""

    @property
    def name(self) -> str: ...

    @property
    def primary(self) -> bool: ...

    @property
    def kind(self) -> str: ...

    @property
    def last_refusal(self) -> Refused | None: ...

    @property
    def skipped_until(self) -> float | None: ...

    async def device_status(self) -> DeviceView: ...

    def last_known(self) -> DeviceView: ...


class DeliveryView(Protocol):
    """Phase 2 as status sees it."""

    @property
    def sync_mode(self) -> str: ...

    @property
    def ofd_url(self) -> str | None: ...

    @property
    def last_exchange_ok(self) -> bool | None: ...

    @property
    def last_exchange_at(self) -> float | None: ...

    @property
    def last_success_at(self) -> float | None: ...

    @property
    def untracked(self) -> dict[str, int]: ...

    def breaker_snapshot(self) -> dict[str, Any]: ...


class FnExchangeView(Protocol):
    """The fiscal drive's OFD exchange as last read from the device (``status`` is ``None`` before the first answer),
    and why the last read failed."""

    @property
    def status(self) -> FNStatus | None: ...

    @property
    def checked_at(self) -> float | None: ...

    @property
    def error(self) -> str | None: ...


class HeartbeatView(Protocol):
    """The ERP heartbeat's state."""

    state: str

    def status(self) -> dict[str, Any]: ...


class TaskView(Protocol):
    """The supervised background tasks."""

    failures: dict[str, str]

    def status(self) -> dict[str, str]: ...
