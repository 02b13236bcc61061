"""The composition root: build every part of the adapter from :class:`Settings`, and nothing at import time.

:func:`build` wires the parts; :meth:`Adapter.start` and :meth:`Adapter.stop` run the background work (the sync
worker, and in mock mode without ``KKT_OFD_API_URL`` an embedded mock OFD) inside the app's lifespan.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from kkt_adapter.buffer import Buffer
from kkt_adapter.buffer.outbox import Outbox
from kkt_adapter.config import ConfigError, Settings
from kkt_adapter.drivers.base import FiscalDriver
from kkt_adapter.fiscalizer import Fiscalizer
from kkt_adapter.heartbeat import Heartbeat
from kkt_adapter.metrics import Metrics
from kkt_adapter.sync.backoff import Backoff
from kkt_adapter.sync.breaker import CircuitBreaker, Transition
from kkt_adapter.sync.ofd_client import OFDClient
from kkt_adapter.sync.worker import SyncWorker
from kkt_clock import Clock, SystemClock

log = logging.getLogger(__name__)

RETENTION_PERIOD_S = 3600.0
MAINTENANCE_PERIOD_S = 60.0


@dataclass
class Adapter:
    """The running adapter's parts, wired together."""

    settings: Settings
    clock: Clock
    buffer: Buffer
    outbox: Outbox
    driver: FiscalDriver
    fiscalizer: Fiscalizer
    breaker: CircuitBreaker
    started_at: float
    worker: SyncWorker | None = None
    ofd_url: str | None = None
    embedded_ofd: Any = None
    metrics: Metrics = field(default_factory=Metrics)
    heartbeat: Heartbeat | None = None
    _tasks: list[asyncio.Task[None]] = field(default_factory=list)
    _stopping: asyncio.Event = field(default_factory=asyncio.Event)
    _client: OFDClient | None = None

    @property
    def last_exchange_ok(self) -> bool | None:
        """Whether the last exchange with the OFD got an answer (``None`` before any)."""
        return None if self.worker is None else self.worker.last_exchange_ok

    @property
    def sync_mode(self) -> str:
        """``off`` (disabled or no OFD), ``embedded`` (mock OFD in-process) or ``remote``."""
        if self.worker is None:
            return "off"
        return "embedded" if self.embedded_ofd is not None else "remote"

    async def start(self) -> None:
        """Start the background work: the heartbeat, the embedded mock OFD (if any), then the sync worker."""
        settings = self.settings
        if settings.odoo_api_url is not None:
            from kkt_adapter.api.views import heartbeat_payload

            async def payload() -> dict[str, Any]:
                return await heartbeat_payload(self)

            self.heartbeat = Heartbeat(
                str(settings.odoo_api_url),
                adapter_id=settings.adapter_id,
                interval=settings.heartbeat_interval,
                clock=self.clock,
                payload=payload,
            )
            self._tasks.append(asyncio.create_task(self.heartbeat.run(), name="heartbeat"))
        self._tasks.append(asyncio.create_task(self._maintenance(), name="maintenance"))
        if not settings.sync_enabled:
            return
        url = None if settings.ofd_api_url is None else str(settings.ofd_api_url)
        if url is None and settings.mode == "mock":
            from kkt_emulators.ofd import MockOFDServer

            self.embedded_ofd = MockOFDServer(port=0)
            await asyncio.to_thread(self.embedded_ofd.start)
            url = str(self.embedded_ofd.url)
            log.info("no KKT_OFD_API_URL in mock mode: syncing to an embedded mock OFD", extra={"ofd_url": url})
        if url is None:
            log.warning("no KKT_OFD_API_URL: receipts are printed and kept, but not sent to an OFD")
            return
        self.ofd_url = url
        self._client = OFDClient(
            url,
            token=settings.ofd_api_token,
            timeout=settings.ofd_timeout,
            connect_retries=settings.ofd_retry_attempts,
            max_connections=max(4, settings.sync_concurrency),
        )
        self.worker = SyncWorker(
            self.outbox,
            self._client,
            self.breaker,
            self.clock,
            owner=f"{settings.adapter_id}:{os.getpid()}:{uuid.uuid4().hex[:8]}",
            batch_size=settings.sync_batch_size,
            concurrency=settings.sync_concurrency,
            lease_seconds=settings.sync_lease_seconds,
            interval=settings.hlc_sync_interval,
            backoff=Backoff(base=settings.sync_backoff_base, cap=settings.sync_backoff_max),
            metrics=self.metrics,
            send_budget_s=settings.ofd_send_budget_s,
        )
        self.fiscalizer.on_printed = self.worker.wake
        self._tasks.append(asyncio.create_task(self.worker.run(), name="sync-worker"))

    async def _maintenance(self) -> None:
        """Every minute, settle receipts left ``accepted`` with nobody printing them; hourly, apply retention."""
        last_retention: float | None = None
        while not self._stopping.is_set():
            try:
                await self.fiscalizer.reconcile_stale()
                now = self.clock.monotonic()
                if last_retention is None or now - last_retention >= RETENTION_PERIOD_S:
                    last_retention = now
                    await self._retention()
            except Exception:
                log.exception("maintenance pass failed; trying again at the next one")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), MAINTENANCE_PERIOD_S)

    async def _retention(self) -> None:
        """Delete synced receipts past ``KKT_BUFFER_RETENTION_DAYS`` in small transactions."""
        cutoff = self.clock.time() - self.settings.buffer_retention_days * 86_400
        removed = 0
        while not self._stopping.is_set():
            batch = await asyncio.to_thread(self.buffer.purge_synced, older_than=cutoff)
            removed += batch
            if batch == 0:
                break
        if removed:
            log.info("retention removed synced receipts", extra={"removed": removed})

    async def stop(self) -> None:
        """Stop the background work and wait for it (a pass in progress finishes recording)."""
        self._stopping.set()
        if self.worker is not None:
            self.worker.stop()
        if self.heartbeat is not None:
            self.heartbeat.stop()
        for task in self._tasks:
            try:
                await asyncio.wait_for(task, timeout=15)
            except TimeoutError:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
            except Exception:
                log.exception("background task %s failed", task.get_name())
        self._tasks.clear()
        # Receipts still being printed finish (their fiscal data is committed) before the buffer closes.
        await self.fiscalizer.drain(within_s=30)
        if self._client is not None:
            await self._client.aclose()
        if self.heartbeat is not None:
            await self.heartbeat.aclose()
        if self.embedded_ofd is not None:
            await asyncio.to_thread(self.embedded_ofd.stop)

    def close(self) -> None:
        self.fiscalizer.close()
        self.driver.close()
        self.buffer.close()


def check_supported(settings: Settings) -> None:
    """Refuse, before anything starts, settings this version cannot serve."""
    if settings.driver_type != "mock":
        raise ConfigError(
            f"KKT_DRIVER_TYPE: {settings.driver_type!r} has no driver in this version; allowed now: 'mock' "
            "(the emulated KKT)"
        )


def make_driver(settings: Settings, clock: Clock) -> FiscalDriver:
    """The fiscal driver named by ``KKT_DRIVER_TYPE``."""
    check_supported(settings)
    from kkt_adapter.drivers.emulated import EmulatedDriver

    return EmulatedDriver(settings.device_dir, print_delay_ms=settings.emulator_print_delay_ms, clock=clock)


def _audit_breaker(outbox: Outbox) -> Callable[[Transition], None]:
    def on_transition(transition: Transition) -> None:
        detail = f"{transition.old} -> {transition.new}: {transition.reason}"
        log.warning("circuit breaker " + detail)
        # Queued on the buffer's writer (in order, stamped now); the breaker never waits for the disk.
        outbox.submit_event("circuit_breaker", detail)

    return on_transition


def build(settings: Settings, *, clock: Clock | None = None, driver: FiscalDriver | None = None) -> Adapter:
    """Open the buffer and the device and wire the adapter; the caller owns :meth:`Adapter.close`."""
    clock = clock or SystemClock()
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    buffer = Buffer(settings.buffer_path, clock=clock)
    outbox = Outbox(
        buffer.db,
        clock=clock,
        max_attempts=settings.sync_max_attempts,
        hlc_max_offset_ms=settings.hlc_max_offset_ms,
    )
    driver = driver or make_driver(settings, clock)
    metrics = Metrics()
    fiscalizer = Fiscalizer(
        buffer,
        driver,
        capacity=settings.buffer_capacity,
        retry_after_s=max(1, round(settings.hlc_sync_interval)),
        metrics=metrics,
    )
    breaker = CircuitBreaker(
        clock,
        failure_threshold=settings.circuit_breaker_threshold,
        open_timeout=settings.circuit_breaker_timeout,
        max_open_timeout=settings.circuit_breaker_recovery_timeout,
        success_threshold=settings.circuit_breaker_success_threshold,
        on_transition=_audit_breaker(outbox),
    )
    return Adapter(
        settings=settings,
        clock=clock,
        buffer=buffer,
        outbox=outbox,
        driver=driver,
        fiscalizer=fiscalizer,
        breaker=breaker,
        started_at=clock.time(),
        metrics=metrics,
    )
