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
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

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
from kkt_adapter.devices.protocol import FiscalDriver
from kkt_adapter.devices.registry import make_driver
from kkt_adapter.intake.devices import Devices, DeviceUnit
from kkt_adapter.intake.fiscalizer import Fiscalizer
from kkt_adapter.intake.shifts import ShiftService
from kkt_adapter.runtime import Runtime
from kkt_adapter.service import AppService, build_service
from kkt_adapter.status.heartbeat import Heartbeat
from kkt_adapter.status.metrics import Metrics
from kkt_adapter.status.views import Limits, StatusBoard
from kkt_clock import Clock, SystemClock

log = logging.getLogger(__name__)

RETENTION_PERIOD_S = 3600.0
MAINTENANCE_PERIOD_S = 60.0


@dataclass
class Adapter:
    """The adapter's parts, wired: the runtime is given the parts, the entry points only ``service``. ``fiscalizer``
    is the primary device's; ``devices`` has every device and routes the prints."""

    settings: Settings
    clock: Clock
    buffer: Buffer
    outbox: Outbox
    fiscalizer: Fiscalizer
    delivery: Delivery
    metrics: Metrics
    status: StatusBoard
    runtime: Runtime
    devices: Devices
    #: What the HTTP layer calls: the application service over the parts above.
    service: AppService
    #: Each device's FN exchange status, by device name.
    fn_exchanges: dict[str, FnExchange] = field(default_factory=dict)

    def close(self) -> None:
        """Release the devices' threads, the devices and the buffer (after the runtime has stopped)."""
        for unit in self.devices.units:
            unit.fiscalizer.close()
        for unit in self.devices.units:
            unit.driver.close()
        self.buffer.close()


def _audit_breaker(outbox: Outbox) -> Callable[[Transition], None]:
    def on_transition(transition: Transition) -> None:
        detail = f"{transition.old} -> {transition.new}: {transition.reason}"
        log.warning("circuit breaker " + detail)
        # Queued on the buffer's writer (in order, stamped now); the breaker never waits for the disk.
        outbox.submit_event("circuit_breaker", detail)

    return on_transition


def build(
    settings: Settings,
    runtime: Runtime,
    *,
    clock: Clock | None = None,
    driver: FiscalDriver | None = None,
    drivers: Mapping[str, FiscalDriver] | None = None,
) -> Adapter:
    """Open the buffer and the devices and wire the adapter; the caller owns :meth:`Adapter.close`.

    ``driver`` replaces the primary device's driver, ``drivers`` any device's by name (tests with scripted devices).
    """
    clock = clock or SystemClock()
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    buffer = Buffer(settings.buffer_path, clock=clock)
    opened: list[FiscalDriver] = []
    try:
        outbox = Outbox(
            buffer.db,
            clock=clock,
            max_attempts=settings.sync_max_attempts,
            hlc_max_offset_ms=settings.hlc_max_offset_ms,
        )
        given = dict(drivers or {})
        configs = settings.device_list
        if driver is not None:
            given.setdefault(configs[0].name, driver)
        for index, config in enumerate(configs):
            opened.append(given.get(config.name) or make_driver(settings.for_device(index), clock))
    except BaseException:
        for each in opened:
            each.close()
        buffer.close()
        raise
    metrics = Metrics()
    units: list[DeviceUnit] = []
    for index, (config, device_driver) in enumerate(zip(configs, opened, strict=True)):
        fiscalizer = Fiscalizer(
            buffer,
            device_driver,
            capacity=settings.buffer_capacity,
            retry_after_s=settings.buffer_full_retry_after,
            metrics=metrics,
            shift_policy=settings.shift_expired_policy,
            name=config.name,
        )
        shifts = ShiftService(
            fiscalizer,
            clock,
            close_at=settings.shift_close_at,
            tz=settings.tz,
            key_prefix="" if index == 0 else f"{config.name}:",
        )
        units.append(DeviceUnit(config.name, index == 0, config.kind, device_driver, fiscalizer, shifts))
    devices = Devices(
        units,
        buffer,
        metrics=metrics,
        recheck_s=settings.failover_recheck_s,
        refund_policy=settings.refund_device_policy,
    )
    primary = devices.primary
    breaker = CircuitBreaker(
        clock,
        failure_threshold=settings.circuit_breaker_threshold,
        open_timeout=settings.circuit_breaker_timeout,
        max_open_timeout=settings.circuit_breaker_recovery_timeout,
        success_threshold=settings.circuit_breaker_success_threshold,
        on_transition=_audit_breaker(outbox),
    )
    delivery = Delivery(breaker)
    fn_exchanges = {unit.name: _fn_exchange(unit, clock) for unit in units}
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
        device=primary.fiscalizer,
        delivery=delivery,
        tasks=runtime,
        fn=fn_exchanges[primary.name],
        devices=units,
        device_fn=fn_exchanges,
    )
    return Adapter(
        settings=settings,
        clock=clock,
        buffer=buffer,
        outbox=outbox,
        fiscalizer=primary.fiscalizer,
        delivery=delivery,
        metrics=metrics,
        status=status,
        runtime=runtime,
        devices=devices,
        service=build_service(
            adapter_id=settings.adapter_id,
            devices=devices,
            buffer=buffer,
            outbox=outbox,
            delivery=delivery,
            status=status,
            metrics=metrics,
        ),
        fn_exchanges=fn_exchanges,
    )


def _fn_exchange(unit: DeviceUnit, clock: Clock) -> FnExchange:
    return FnExchange(lambda: unit.fiscalizer.on_device(unit.driver.fn_status), clock)


async def open_devices(adapter: Adapter) -> None:
    """Before serving: name the rows written before documents named their device (the primary's), then settle each
    device's receipts caught between store and print from its own journal, keep what its journal has that the buffer
    lacks, and ask it for its state."""
    await asyncio.to_thread(adapter.devices.rows.name_unnamed, adapter.devices.primary.name)
    for unit in adapter.devices.units:
        await asyncio.to_thread(unit.fiscalizer.reconcile)
        await asyncio.to_thread(unit.fiscalizer.catch_up)
        await unit.fiscalizer.probe_device()


def _task(adapter: Adapter, unit: DeviceUnit, name: str) -> str:
    """A background task's name: as before with one device, per device with several."""
    return f"{name}:{unit.name}" if adapter.devices.several else name


async def start(adapter: Adapter) -> None:
    """Start the background work under the adapter's runtime (which stops it, also if this fails half-way)."""
    settings, runtime = adapter.settings, adapter.runtime
    for unit in adapter.devices.units:
        runtime.on_close(lambda unit=unit: unit.fiscalizer.drain(within_s=30))  # type: ignore[misc]
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
    for unit in adapter.devices.units:
        runtime.every(
            _task(adapter, unit, "reconcile"),
            MAINTENANCE_PERIOD_S,
            unit.fiscalizer.reconcile_stale,
            first_after_s=MAINTENANCE_PERIOD_S,
        )
        if settings.shift_close_at is not None:
            runtime.every(
                _task(adapter, unit, "shift-close-at"), settings.shift_check_interval, unit.shifts.close_if_due
            )
    runtime.every(
        "retention",
        RETENTION_PERIOD_S,
        lambda: asyncio.to_thread(purge_expired, adapter.buffer, retention_days=settings.buffer_retention_days),
    )
    if settings.sync_enabled and settings.ofd_delivery == "device":
        _start_device_tracking(adapter)
        return
    # The FN's unsent documents for health and the heartbeat (device mode reads them at every poll).
    for unit in adapter.devices.units:
        runtime.every(
            _task(adapter, unit, "fn-exchange"), settings.ofd_device_poll_s, adapter.fn_exchanges[unit.name].refresh
        )
    if settings.sync_enabled:
        await _start_delivery(adapter)


def _start_device_tracking(adapter: Adapter) -> None:
    """``KKT_OFD_DELIVERY=device``: each KKT sends its own documents; poll its exchange status, post nothing."""
    settings = adapter.settings
    for unit in adapter.devices.units:
        if unit.kind == "emulated":
            log.warning(
                "KKT_OFD_DELIVERY=device with an emulated KKT: it sends nothing by itself, so its documents stay "
                "pending until something acknowledges them on its FN (kkt-adapter device ack)",
                extra={"device": unit.name},
            )
        tracker = DeviceTracker(
            adapter.fn_exchanges[unit.name],
            DeviceMarks(adapter.buffer.db, clock=adapter.clock),
            adapter.clock,
            interval=settings.ofd_device_poll_s,
            metrics=adapter.metrics,
            device=unit.name if adapter.devices.several else None,
        )
        adapter.delivery.trackers.append(tracker)
        adapter.runtime.spawn(_task(adapter, unit, "device-tracker"), tracker.run(), stop=tracker.stop)


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
        on_synced=lambda fn_number, numbers: _acknowledge(adapter, fn_number, numbers),
    )
    delivery.ofd_url, delivery.worker = url, worker
    for unit in adapter.devices.units:
        unit.fiscalizer.on_printed = delivery.wake
    runtime.spawn("sync-worker", worker.run(), stop=worker.stop)


async def _acknowledge(adapter: Adapter, fn_number: str, numbers: list[int]) -> None:
    """Pass the OFD's acknowledgements to the device whose FN signed them (the emulated FN counts them as sent); an
    FN no device has now hears nothing (a real FN learns them from the OFD itself)."""
    for unit in adapter.devices.units:
        state = unit.fiscalizer.monitor.snapshot().state
        if state is not None and state.fn_number == fn_number:
            await unit.fiscalizer.on_device(unit.driver.acknowledge, numbers)
            return
