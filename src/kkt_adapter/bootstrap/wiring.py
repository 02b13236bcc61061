"""Build the adapter: open the buffer and the devices and construct every part complete from :class:`Settings`.

Parts are built in the order of what each needs: Phase 2 (the breaker; the OFD client and the sync worker, or with
``KKT_OFD_DELIVERY=device`` the trackers of the KKTs' own delivery; the embedded mock OFD in mock mode without
``KKT_OFD_API_URL``, which must listen before the client can be given its address), Phase 1 (intake: one fiscalizer
and shift service per device, told to wake the worker), the heartbeat and the status board. Each part is handed its
own settings group; nothing is assigned onto a part after it is built.
"""

from __future__ import annotations

import logging
import os
import uuid
from collections.abc import Awaitable, Callable, Mapping
from contextlib import ExitStack
from typing import Any

from kkt_adapter import __version__
from kkt_adapter.bootstrap.adapter import Adapter
from kkt_adapter.bootstrap.devices import device_driver, fn_exchange, make_unit, pass_acknowledgements
from kkt_adapter.buffer import Buffer
from kkt_adapter.buffer.device_marks import DeviceMarks
from kkt_adapter.buffer.outbox import Outbox
from kkt_adapter.config import (
    BreakerSettings,
    BufferSettings,
    DeliverySettings,
    DeviceSettings,
    HeartbeatSettings,
    OFDSettings,
    Settings,
)
from kkt_adapter.delivery.backoff import Backoff
from kkt_adapter.delivery.breaker import CircuitBreaker, Transition
from kkt_adapter.delivery.device_tracking import DeviceTracker
from kkt_adapter.delivery.fn_exchange import FnExchange
from kkt_adapter.delivery.ofd_client import OFDClient
from kkt_adapter.delivery.service import Delivery
from kkt_adapter.delivery.worker import SyncWorker
from kkt_adapter.devices.protocol import FiscalDriver
from kkt_adapter.intake.devices import Devices, DeviceUnit
from kkt_adapter.runtime import Runtime
from kkt_adapter.service import build_service
from kkt_adapter.status.heartbeat import Heartbeat
from kkt_adapter.status.metrics import Metrics
from kkt_adapter.status.views import Limits, StatusBoard
from kkt_clock import Clock, SystemClock

#: The package's logger, not this module's: the demo shows the breaker's transitions (and this module's notes on
#: where receipts are sent) by the name ``kkt_adapter.bootstrap``.
log = logging.getLogger("kkt_adapter.bootstrap")


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
    limits, device, delivering = BufferSettings.of(settings), DeviceSettings.of(settings), DeliverySettings.of(settings)
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    with ExitStack() as undo:  # closes what was opened if the build fails half-way
        buffer = Buffer(limits.path, clock=clock)
        undo.callback(buffer.close)
        outbox = Outbox(
            buffer.db, clock=clock, max_attempts=delivering.max_attempts, hlc_max_offset_ms=delivering.hlc_max_offset_ms
        )
        given = dict(drivers or {})
        configs = device.devices
        if driver is not None:
            given.setdefault(configs[0].name, driver)
        opened: list[FiscalDriver] = []
        for index, config in enumerate(configs):
            opened.append(given.get(config.name) or device_driver(settings, index, clock))
            undo.callback(opened[-1].close)
        metrics = Metrics()
        breaker = CircuitBreaker(
            clock,
            failure_threshold=BreakerSettings.of(settings).failure_threshold,
            open_timeout=BreakerSettings.of(settings).open_timeout,
            max_open_timeout=BreakerSettings.of(settings).max_open_timeout,
            success_threshold=BreakerSettings.of(settings).success_threshold,
            on_transition=_audit_breaker(outbox),
        )
        sending = delivering.enabled and delivering.mode == "http"
        ofd_url, stop_embedded_ofd = _ofd_url(settings) if sending else (None, None)
        if stop_embedded_ofd is not None:
            undo.callback(stop_embedded_ofd)

        async def acknowledge(fn_number: str, numbers: list[int]) -> None:
            # ``devices`` is bound below, before the worker can send anything.
            await pass_acknowledgements(devices.units, fn_number, numbers)

        client, worker = (
            (None, None)
            if ofd_url is None
            else _sync_worker(settings, ofd_url, outbox, breaker, clock, metrics=metrics, on_synced=acknowledge)
        )
        units: list[DeviceUnit] = []
        for index, (config, unit_driver) in enumerate(zip(configs, opened, strict=True)):
            unit = make_unit(
                buffer,
                unit_driver,
                clock,
                name=config.name,
                primary=index == 0,
                kind=config.kind,
                limits=limits,
                device=device,
                metrics=metrics,
                on_printed=None if worker is None else worker.wake,
            )
            undo.callback(unit.close)
            units.append(unit)
        devices = Devices(
            units,
            buffer,
            metrics=metrics,
            recheck_s=device.failover_recheck_s,
            refund_policy=device.refund_policy,
        )
        fn_exchanges = {unit.name: fn_exchange(unit, clock) for unit in units}
        tracking = delivering.enabled and delivering.mode == "device"
        trackers = (
            [_tracker(settings, unit, devices.label(unit), buffer, fn_exchanges, metrics, clock) for unit in units]
            if tracking
            else []
        )
        delivery = Delivery(
            breaker, worker=worker, ofd_url=ofd_url, embedded=stop_embedded_ofd is not None, trackers=trackers
        )
        heartbeat = _heartbeat(settings, clock, payload=lambda: status.heartbeat_payload())  # ``status``: below
        primary = devices.primary
        status = StatusBoard(
            limits=Limits(
                adapter_id=settings.adapter_id,
                version=__version__,
                capacity=limits.capacity,
                max_size=limits.max_size,
                alert_threshold=limits.alert_threshold,
                warn_days=OFDSettings.of(settings).warn_days,
                production=device.production,
                shift_policy=device.shift_policy,
                timezone=device.timezone,
                mode=settings.mode,
                store=settings.store,
                till=settings.till,
            ),
            clock=clock,
            started_at=clock.time(),
            buffer=buffer,
            storage=buffer.db,
            device=primary,
            delivery=delivery,
            tasks=runtime,
            heartbeat=heartbeat,
            fn=fn_exchanges[primary.name],
            devices=units,
            device_fn=fn_exchanges,
            labelled=devices.labelled,
        )
        undo.pop_all()
    return Adapter(
        settings=settings,
        buffer=buffer,
        outbox=outbox,
        delivery=delivery,
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
        heartbeat=heartbeat,
        ofd_client=client,
        stop_embedded_ofd=stop_embedded_ofd,
    )


def _ofd_url(settings: Settings) -> tuple[str | None, Callable[[], None] | None]:
    """Where the worker sends (``None``: nowhere), and how to stop the embedded mock OFD when one was started for it
    (mock mode without ``KKT_OFD_API_URL``)."""
    url = OFDSettings.of(settings).url
    if url is None and settings.mode == "mock":
        from kkt_emulators.ofd import MockOFDServer

        embedded_ofd = MockOFDServer(port=0)
        embedded_ofd.start()
        url = str(embedded_ofd.url)
        log.info("no KKT_OFD_API_URL in mock mode: syncing to an embedded mock OFD", extra={"ofd_url": url})
        return url, embedded_ofd.stop
    if url is None:
        log.warning("no KKT_OFD_API_URL: receipts are printed and kept, but not sent to an OFD")
    return url, None


def _sync_worker(
    settings: Settings,
    url: str,
    outbox: Outbox,
    breaker: CircuitBreaker,
    clock: Clock,
    *,
    metrics: Metrics,
    on_synced: Callable[[str, list[int]], Awaitable[None]],
) -> tuple[OFDClient, SyncWorker]:
    """The OFD client for ``url`` and the sync worker that sends with it (``KKT_OFD_DELIVERY=http``)."""
    ofd, delivering = OFDSettings.of(settings), DeliverySettings.of(settings)
    client = OFDClient(
        url,
        token=ofd.token,
        timeout=ofd.timeout,
        connect_retries=ofd.retry_attempts,
        max_connections=max(4, delivering.concurrency),
    )
    worker = SyncWorker(
        outbox,
        client,
        breaker,
        clock,
        owner=f"{settings.adapter_id}:{os.getpid()}:{uuid.uuid4().hex[:8]}",
        batch_size=delivering.batch_size,
        concurrency=delivering.concurrency,
        lease_seconds=delivering.lease_seconds,
        interval=delivering.interval,
        backoff=Backoff(base=delivering.backoff_base, cap=delivering.backoff_max),
        metrics=metrics,
        send_budget_s=ofd.send_budget_s,
        on_synced=on_synced,
    )
    return client, worker


def _tracker(
    settings: Settings,
    unit: DeviceUnit,
    label: str | None,
    buffer: Buffer,
    fn_exchanges: Mapping[str, FnExchange],
    metrics: Metrics,
    clock: Clock,
) -> DeviceTracker:
    """``KKT_OFD_DELIVERY=device``: the KKT sends its own documents; the tracker polls its exchange status (and,
    labelled, follows only ``unit``'s documents)."""
    if unit.kind == "emulated":
        log.warning(
            "KKT_OFD_DELIVERY=device with an emulated KKT: it sends nothing by itself, so its documents stay "
            "pending until something acknowledges them on its FN (kkt-adapter device ack)",
            extra={"device": unit.name},
        )
    return DeviceTracker(
        fn_exchanges[unit.name],
        DeviceMarks(buffer.db, clock=clock),
        clock,
        interval=DeliverySettings.of(settings).device_poll_s,
        metrics=metrics,
        device=label,
    )


def _heartbeat(
    settings: Settings, clock: Clock, *, payload: Callable[[], Awaitable[dict[str, Any]]]
) -> Heartbeat | None:
    """The heartbeat to the ERP, when ``KKT_ODOO_API_URL`` names one."""
    beat = HeartbeatSettings.of(settings)
    if beat.url is None:
        return None
    return Heartbeat(beat.url, adapter_id=beat.adapter_id, interval=beat.interval, clock=clock, payload=payload)
