"""The composition root: wires the adapter's parts from :class:`Settings`, and nothing at import time.

:func:`build` opens the buffer and the device and wires Phase 1 (intake), Phase 2's breaker and the status board.
:func:`start` wires the background work into a :class:`~kkt_adapter.runtime.Runtime`, which supervises it: the
heartbeat, the embedded mock OFD (mock mode without ``KKT_OFD_API_URL``), the OFD client and the sync worker, and the
periodic jobs (settling abandoned receipts, retention). With ``KKT_OFD_DELIVERY=device`` the tracker of the KKT's
own delivery runs instead of the OFD client and the worker. Neither runs anything itself beyond opening files.
"""

from __future__ import annotations

import asyncio
import logging
import os
import uuid
from collections.abc import Callable
from dataclasses import dataclass

from kkt_adapter import __version__
from kkt_adapter.buffer import Buffer
from kkt_adapter.buffer.device_marks import DeviceMarks
from kkt_adapter.buffer.outbox import Outbox
from kkt_adapter.buffer.retention import purge_expired
from kkt_adapter.config import Settings
from kkt_adapter.delivery.backoff import Backoff
from kkt_adapter.delivery.breaker import CircuitBreaker, Transition
from kkt_adapter.delivery.device_tracking import DeviceTracker
from kkt_adapter.delivery.fn_exchange import FnExchange
from kkt_adapter.delivery.ofd_client import OFDClient
from kkt_adapter.delivery.service import Delivery
from kkt_adapter.delivery.worker import SyncWorker
from kkt_adapter.intake.drivers import make_driver
from kkt_adapter.intake.drivers.base import FiscalDriver
from kkt_adapter.intake.fiscalizer import Fiscalizer
from kkt_adapter.intake.shifts import ShiftService
from kkt_adapter.runtime import Runtime
from kkt_adapter.status.heartbeat import Heartbeat
from kkt_adapter.status.metrics import Metrics
from kkt_adapter.status.views import Limits, StatusBoard
from kkt_clock import Clock, SystemClock

log = logging.getLogger(__name__)

RETENTION_PERIOD_S = 3600.0
MAINTENANCE_PERIOD_S = 60.0


@dataclass
class Adapter:
    """The adapter's parts, wired: what the HTTP layer and the runtime are given."""

    settings: Settings
    clock: Clock
    buffer: Buffer
    outbox: Outbox
    driver: FiscalDriver
    fiscalizer: Fiscalizer
    shifts: ShiftService
    delivery: Delivery
    metrics: Metrics
    status: StatusBoard
    runtime: Runtime
    fn_exchange: FnExchange

    def close(self) -> None:
        """Release the device's thread, the device and the buffer (after the runtime has stopped)."""
        self.fiscalizer.close()
        self.driver.close()
        self.buffer.close()


def _audit_breaker(outbox: Outbox) -> Callable[[Transition], None]:
    def on_transition(transition: Transition) -> None:
        detail = f"{transition.old} -> {transition.new}: {transition.reason}"
        log.warning("circuit breaker " + detail)
        # Queued on the buffer's writer (in order, stamped now); the breaker never waits for the disk.
        outbox.submit_event("circuit_breaker", detail)

    return on_transition


def build(
    settings: Settings, runtime: Runtime, *, clock: Clock | None = None, driver: FiscalDriver | None = None
) -> Adapter:
    """Open the buffer and the device and wire the adapter; the caller owns :meth:`Adapter.close`."""
    clock = clock or SystemClock()
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    buffer = Buffer(settings.buffer_path, clock=clock)
    try:
        outbox = Outbox(
            buffer.db,
            clock=clock,
            max_attempts=settings.sync_max_attempts,
            hlc_max_offset_ms=settings.hlc_max_offset_ms,
        )
        driver = driver or make_driver(settings, clock)
    except BaseException:
        buffer.close()
        raise
    metrics = Metrics()
    fiscalizer = Fiscalizer(
        buffer,
        driver,
        capacity=settings.buffer_capacity,
        retry_after_s=settings.buffer_full_retry_after,
        metrics=metrics,
        shift_policy=settings.shift_expired_policy,
    )
    shifts = ShiftService(fiscalizer, clock, close_at=settings.shift_close_at, tz=settings.tz)
    breaker = CircuitBreaker(
        clock,
        failure_threshold=settings.circuit_breaker_threshold,
        open_timeout=settings.circuit_breaker_timeout,
        max_open_timeout=settings.circuit_breaker_recovery_timeout,
        success_threshold=settings.circuit_breaker_success_threshold,
        on_transition=_audit_breaker(outbox),
    )
    delivery = Delivery(breaker)
    fn_exchange = FnExchange(lambda: fiscalizer.on_device(driver.fn_status), clock)
    status = StatusBoard(
        limits=Limits(
            adapter_id=settings.adapter_id,
            version=__version__,
            capacity=settings.buffer_capacity,
            max_size=settings.buffer_max_size,
            alert_threshold=settings.buffer_alert_threshold,
            warn_days=settings.ofd_warn_days,
            production=settings.mode == "production",
            shift_policy=settings.shift_expired_policy,
            timezone=settings.timezone,
        ),
        clock=clock,
        started_at=clock.time(),
        buffer=buffer,
        storage=buffer.db,
        device=fiscalizer,
        delivery=delivery,
        tasks=runtime,
        fn=fn_exchange,
    )
    return Adapter(
        settings=settings,
        clock=clock,
        buffer=buffer,
        outbox=outbox,
        driver=driver,
        fiscalizer=fiscalizer,
        shifts=shifts,
        delivery=delivery,
        metrics=metrics,
        status=status,
        runtime=runtime,
        fn_exchange=fn_exchange,
    )


async def start(adapter: Adapter) -> None:
    """Start the background work under the adapter's runtime (which stops it, also if this fails half-way)."""
    settings, runtime = adapter.settings, adapter.runtime
    runtime.on_close(lambda: adapter.fiscalizer.drain(within_s=30))
    if settings.odoo_api_url is not None:
        heartbeat = Heartbeat(
            str(settings.odoo_api_url),
            adapter_id=settings.adapter_id,
            interval=settings.heartbeat_interval,
            clock=adapter.clock,
            payload=adapter.status.heartbeat_payload,
        )
        runtime.on_close(heartbeat.aclose)
        adapter.status.heartbeat = heartbeat
        runtime.spawn("heartbeat", heartbeat.run(), stop=heartbeat.stop)
    # The start settled every row already (before serving): the first periodic pass comes a period later, and does
    # not occupy the device's thread while the first requests arrive.
    runtime.every(
        "reconcile", MAINTENANCE_PERIOD_S, adapter.fiscalizer.reconcile_stale, first_after_s=MAINTENANCE_PERIOD_S
    )
    if settings.shift_close_at is not None:
        runtime.every("shift-close-at", settings.shift_check_interval, adapter.shifts.close_if_due)
    runtime.every(
        "retention",
        RETENTION_PERIOD_S,
        lambda: asyncio.to_thread(purge_expired, adapter.buffer, retention_days=settings.buffer_retention_days),
    )
    if settings.sync_enabled and settings.ofd_delivery == "device":
        _start_device_tracking(adapter)
        return
    # The FN's unsent documents for health and the heartbeat (device mode reads them at every poll).
    runtime.every("fn-exchange", settings.ofd_device_poll_s, adapter.fn_exchange.refresh)
    if settings.sync_enabled:
        await _start_delivery(adapter)


def _start_device_tracking(adapter: Adapter) -> None:
    """``KKT_OFD_DELIVERY=device``: the KKT sends its own documents; poll its exchange status, post nothing."""
    settings = adapter.settings
    if settings.driver_type == "mock":
        log.warning(
            "KKT_OFD_DELIVERY=device with KKT_DRIVER_TYPE=mock: the emulated KKT sends nothing by itself, so its "
            "documents stay pending until something acknowledges them on its FN (kkt-adapter device ack)"
        )
    tracker = DeviceTracker(
        adapter.fn_exchange,
        DeviceMarks(adapter.buffer.db, clock=adapter.clock),
        adapter.clock,
        interval=settings.ofd_device_poll_s,
        metrics=adapter.metrics,
    )
    adapter.delivery.tracker = tracker
    adapter.runtime.spawn("device-tracker", tracker.run(), stop=tracker.stop)


async def _start_delivery(adapter: Adapter) -> None:
    settings, runtime, delivery = adapter.settings, adapter.runtime, adapter.delivery
    url = None if settings.ofd_api_url is None else str(settings.ofd_api_url)
    if url is None and settings.mode == "mock":
        from kkt_emulators.ofd import MockOFDServer

        embedded_ofd = MockOFDServer(port=0)
        await asyncio.to_thread(embedded_ofd.start)
        runtime.on_close(lambda: asyncio.to_thread(embedded_ofd.stop))
        url = str(embedded_ofd.url)
        delivery.embedded = True
        log.info("no KKT_OFD_API_URL in mock mode: syncing to an embedded mock OFD", extra={"ofd_url": url})
    if url is None:
        log.warning("no KKT_OFD_API_URL: receipts are printed and kept, but not sent to an OFD")
        return
    client = OFDClient(
        url,
        token=settings.ofd_api_token,
        timeout=settings.ofd_timeout,
        connect_retries=settings.ofd_retry_attempts,
        max_connections=max(4, settings.sync_concurrency),
    )
    runtime.on_close(client.aclose)
    worker = SyncWorker(
        adapter.outbox,
        client,
        delivery.breaker,
        adapter.clock,
        owner=f"{settings.adapter_id}:{os.getpid()}:{uuid.uuid4().hex[:8]}",
        batch_size=settings.sync_batch_size,
        concurrency=settings.sync_concurrency,
        lease_seconds=settings.sync_lease_seconds,
        interval=settings.hlc_sync_interval,
        backoff=Backoff(base=settings.sync_backoff_base, cap=settings.sync_backoff_max),
        metrics=adapter.metrics,
        send_budget_s=settings.ofd_send_budget_s,
        on_synced=lambda numbers: asyncio.to_thread(adapter.driver.acknowledge, numbers),
    )
    delivery.ofd_url, delivery.worker = url, worker
    adapter.fiscalizer.on_printed = delivery.wake
    runtime.spawn("sync-worker", worker.run(), stop=worker.stop)
