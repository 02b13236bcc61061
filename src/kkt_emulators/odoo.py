"""The mock ERP (Odoo) heartbeat endpoint: records each adapter's beats, tells intervals and missed beats.

HTTP contract (see ``docs/emulators.md``)::

    POST /api/v1/kkt/heartbeat    any JSON object → 200 {"status": "ok", "message": "Heartbeat received"} or 503
    GET  /health                  {"status": "ok"}
    admin routes under /_test/    reset, stats, heartbeats, adapters?cadence_s=30, faults, and one per fault

Only successful heartbeats are recorded. Per ``adapter_id`` the server keeps the first and last time seen (on its
clock), the intervals between consecutive beats (the last ``intervals_kept``), and counts missed beats for a cadence
the caller names: an interval of ``d`` seconds at cadence ``c`` misses ``round(d / c) - 1`` beats.
"""

from __future__ import annotations

import threading
from collections import deque
from datetime import UTC, datetime
from typing import Any, ClassVar

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.types import ASGIApp

from kkt_clock import Clock
from kkt_emulators.emulator import EmulatorServer
from kkt_emulators.faults import FaultProgram
from kkt_emulators.ledger import Journal
from kkt_emulators.web import (
    RequestCounters,
    admin_routes,
    error_response,
    guarded_endpoint,
    json_response,
)

HEARTBEAT_PATH = "/api/v1/kkt/heartbeat"
HEALTH_PATH = "/health"
ADMIN_PREFIX = "/_test"

DEFAULT_JOURNAL_SIZE = 10_000
DEFAULT_INTERVALS_KEPT = 1_000
UNKNOWN_ADAPTER = "unknown"


def _iso(wall: float) -> str:
    return datetime.fromtimestamp(wall, tz=UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def missed_in(interval_s: float, cadence_s: float) -> int:
    """Beats missed in one gap of ``interval_s`` seconds between beats expected every ``cadence_s`` seconds."""
    if cadence_s <= 0:
        raise ValueError("cadence must be positive")
    return max(0, round(interval_s / cadence_s) - 1)


class AdapterBeats:
    """One adapter's heartbeat record."""

    def __init__(self, *, wall: float, monotonic: float, intervals_kept: int) -> None:
        self.beats = 1
        self.first_seen = wall
        self.last_seen = wall
        self.last_monotonic = monotonic
        self.intervals: deque[float] = deque(maxlen=intervals_kept)

    def beat(self, *, wall: float, monotonic: float) -> None:
        """Record one more beat."""
        self.beats += 1
        self.intervals.append(monotonic - self.last_monotonic)
        self.last_monotonic = monotonic
        self.last_seen = wall

    def as_dict(self, *, now_monotonic: float, cadence_s: float | None) -> dict[str, Any]:
        """JSON-ready record; with a cadence, the missed beats between beats and since the last one."""
        since_last = now_monotonic - self.last_monotonic
        record: dict[str, Any] = {
            "beats": self.beats,
            "first_seen": _iso(self.first_seen),
            "last_seen": _iso(self.last_seen),
            "seconds_since_last": since_last,
            "intervals_s": list(self.intervals),
        }
        if cadence_s is not None:
            between = sum(missed_in(interval, cadence_s) for interval in self.intervals)
            trailing = missed_in(since_last, cadence_s)
            record.update(
                cadence_s=cadence_s,
                missed_between=between,
                missed_since_last=trailing,
                missed_beats=between + trailing,
            )
        return record


class HeartbeatCore(RequestCounters):
    """The mock ERP's state without HTTP: counters, the bounded journal, per-adapter records; thread-safe."""

    def __init__(
        self, *, clock: Clock, journal_size: int = DEFAULT_JOURNAL_SIZE, intervals_kept: int = DEFAULT_INTERVALS_KEPT
    ) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._journal_size = journal_size
        self._intervals_kept = intervals_kept
        self.reset()

    def reset(self) -> None:
        """Forget every heartbeat and counter."""
        with self._lock:
            self._journal = Journal(self._journal_size)
            self._adapters: dict[str, AdapterBeats] = {}
            self._reset_counters()

    def record(self, body: dict[str, Any]) -> None:
        """Record one successful heartbeat."""
        adapter_id = str(body.get("adapter_id") or UNKNOWN_ADAPTER)
        wall, monotonic = self._clock.time(), self._clock.monotonic()
        with self._lock:
            self._journal.append(body)
            beats = self._adapters.get(adapter_id)
            if beats is None:
                self._adapters[adapter_id] = AdapterBeats(
                    wall=wall, monotonic=monotonic, intervals_kept=self._intervals_kept
                )
            else:
                beats.beat(wall=wall, monotonic=monotonic)

    def received(self, limit: int | None = None) -> list[dict[str, Any]]:
        """The successful heartbeats' bodies, oldest first (the last ``journal_size``)."""
        with self._lock:
            return self._journal.last(limit)

    def adapters(self, cadence_s: float | None = None) -> dict[str, dict[str, Any]]:
        """Per ``adapter_id``: beats, first and last seen, intervals, and missed beats when given a cadence."""
        now = self._clock.monotonic()
        with self._lock:
            return {
                adapter_id: beats.as_dict(now_monotonic=now, cadence_s=cadence_s)
                for adapter_id, beats in self._adapters.items()
            }

    def stats(self) -> dict[str, Any]:
        """Counters, as JSON-ready values."""
        with self._lock:
            return {
                "calls": self._calls,
                "received": self._journal.total,
                "faulted": self._faulted,
                "rejected": self._rejected,
                "lost_replies": self._lost,
                "adapters": len(self._adapters),
                "journal": self._journal.as_dict(),
            }


def create_odoo_app(core: HeartbeatCore, faults: FaultProgram) -> ASGIApp:
    """The mock ERP's ASGI app over ``core`` and ``faults``."""

    def process(request: Request, body: dict[str, Any]) -> Response:
        core.record(body)
        return json_response({"status": "ok", "message": "Heartbeat received"})

    heartbeat = guarded_endpoint(core, faults, process)

    async def health(request: Request) -> Response:
        return json_response({"status": "ok"})

    async def adapters(request: Request) -> Response:
        raw = request.query_params.get("cadence_s")
        try:
            cadence = float(raw) if raw is not None else None
            return json_response(core.adapters(cadence))
        except ValueError as exc:
            return error_response(400, f"cadence_s must be a positive number: {exc}")

    routes = [
        Route(HEARTBEAT_PATH, heartbeat, methods=["POST"]),
        Route(HEALTH_PATH, health, methods=["GET"]),
        Route(f"{ADMIN_PREFIX}/adapters", adapters, methods=["GET"]),
        *admin_routes(ADMIN_PREFIX, core, faults, journal="heartbeats"),
    ]
    return Starlette(routes=routes)


class MockOdooServer(EmulatorServer[HeartbeatCore]):
    """The mock ERP heartbeat endpoint, served from a background thread, with the same fault programs as the OFD."""

    name: ClassVar[str] = "mock Odoo"

    def __init__(
        self,
        port: int = 8069,
        *,
        host: str = "127.0.0.1",
        clock: Clock | None = None,
        journal_size: int = DEFAULT_JOURNAL_SIZE,
        intervals_kept: int = DEFAULT_INTERVALS_KEPT,
    ) -> None:
        super().__init__(host=host, port=port, clock=clock)
        self.core = HeartbeatCore(clock=self.clock, journal_size=journal_size, intervals_kept=intervals_kept)

    def _build_app(self) -> ASGIApp:
        return create_odoo_app(self.core, self.faults)

    def get_received_heartbeats(self) -> list[dict[str, Any]]:
        """The bodies of the successful heartbeats, oldest first (the last ``journal_size``)."""
        return self.core.received()

    def get_adapters(self, cadence_s: float | None = None) -> dict[str, dict[str, Any]]:
        """Per ``adapter_id``: beats, first/last seen, intervals, and missed beats for ``cadence_s`` if given."""
        return self.core.adapters(cadence_s)

    def get_adapter(self, adapter_id: str, cadence_s: float | None = None) -> dict[str, Any] | None:
        """One adapter's record (see :meth:`get_adapters`), or ``None`` if it never beat."""
        return self.core.adapters(cadence_s).get(adapter_id)

    def missed_beats(self, adapter_id: str, cadence_s: float) -> int:
        """Beats ``adapter_id`` missed at ``cadence_s``: between its beats and since its last one (0 if unseen)."""
        record = self.get_adapter(adapter_id, cadence_s)
        return int(record["missed_beats"]) if record is not None else 0
