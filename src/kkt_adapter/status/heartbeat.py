"""The heartbeat: the adapter's state to the ERP every ``KKT_HEARTBEAT_INTERVAL`` seconds.

Hysteresis keeps one lost beat from flapping the ERP's view: two successes in a row make the link ``ONLINE``,
three failures in a row make it ``OFFLINE``; before that it is ``UNKNOWN``. The heartbeat runs as its own task with
its own HTTP client and a timeout below the interval, so a slow or dead ERP never slows receipts.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

import httpx

from kkt_clock import Clock

log = logging.getLogger(__name__)

HEARTBEAT_PATH = "/api/v1/kkt/heartbeat"
ONLINE_AFTER = 2
OFFLINE_AFTER = 3


def wait_before_next(interval: float, spent: float) -> float:
    """How long to sleep after a beat that took ``spent`` seconds, so that beats start every ``interval``."""
    return min(interval, max(0.0, interval - spent))


class Heartbeat:
    """Posts the adapter's state to the ERP and tracks whether the ERP hears it."""

    def __init__(
        self,
        base_url: str,
        *,
        adapter_id: str,
        interval: float,
        clock: Clock,
        payload: Callable[[], Awaitable[dict[str, Any]]],
        timeout: float | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.url = base_url.rstrip("/") + HEARTBEAT_PATH
        self.adapter_id = adapter_id
        self.interval = interval
        self.clock = clock
        self.payload = payload
        self._http = httpx.AsyncClient(timeout=timeout or min(5.0, max(0.05, interval * 0.8)), transport=transport)
        self._stop = asyncio.Event()
        self.state = "UNKNOWN"
        self.consecutive_successes = 0
        self.consecutive_failures = 0
        self.sent = 0
        self.failed = 0
        self.last_attempt_at: float | None = None
        self.last_success_at: float | None = None
        self.last_error: str | None = None

    async def beat(self) -> bool:
        """Send one heartbeat; ``True`` when the ERP answered 2xx."""
        body = await self.payload()
        body.update(
            {
                "timestamp": datetime.fromtimestamp(self.clock.time(), UTC).isoformat(),
                "adapter_id": self.adapter_id,
            }
        )
        self.last_attempt_at = self.clock.time()
        try:
            response = await self._http.post(self.url, json=body)
            ok = 200 <= response.status_code < 300
            error = None if ok else f"HTTP {response.status_code}"
        except httpx.HTTPError as exc:
            ok, error = False, f"{type(exc).__name__}: {exc}"
        self._count(ok, error)
        return ok

    def _count(self, ok: bool, error: str | None) -> None:
        if ok:
            self.sent += 1
            self.consecutive_successes += 1
            self.consecutive_failures = 0
            self.last_success_at = self.last_attempt_at
            self.last_error = None
            if self.consecutive_successes >= ONLINE_AFTER and self.state != "ONLINE":
                log.info("ERP heartbeat online")
                self.state = "ONLINE"
        else:
            self.failed += 1
            self.consecutive_failures += 1
            self.consecutive_successes = 0
            self.last_error = error
            if self.consecutive_failures >= OFFLINE_AFTER and self.state != "OFFLINE":
                log.warning("ERP heartbeat offline", extra={"error": error})
                self.state = "OFFLINE"

    async def run(self) -> None:
        """Beat every interval until :meth:`stop`."""
        while not self._stop.is_set():
            started = self.clock.monotonic()
            try:
                await self.beat()
            except Exception:
                log.exception("heartbeat failed to build or send")
                self._count(False, "internal error")
            wait = wait_before_next(self.interval, self.clock.monotonic() - started)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stop.wait(), wait)

    def stop(self) -> None:
        self._stop.set()

    async def aclose(self) -> None:
        await self._http.aclose()

    def status(self) -> dict[str, Any]:
        """For ``GET /v1/kkt/heartbeat/status``."""
        return {
            "enabled": True,
            "state": self.state,
            "url": self.url,
            "adapter_id": self.adapter_id,
            "interval_seconds": self.interval,
            "sent": self.sent,
            "failed": self.failed,
            "consecutive_successes": self.consecutive_successes,
            "consecutive_failures": self.consecutive_failures,
            "last_attempt_at": self.last_attempt_at,
            "last_success_at": self.last_success_at,
            "last_error": self.last_error,
        }
