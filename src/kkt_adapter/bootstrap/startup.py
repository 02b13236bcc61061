"""Start the built adapter: settle each device from its journal before serving, then hand the background work to
the :class:`~kkt_adapter.runtime.Runtime`, which supervises it: the heartbeat, the trackers or the sync worker, and
the periodic jobs (settling abandoned receipts, the daily shift closing, retention, the FN's exchange status).

A device that does not answer at start does not stop the adapter: it serves, that device refuses its prints (503,
health says why and what to check), and a periodic job settles it the first time it answers, before it prints
(:mod:`~kkt_adapter.intake.device_start`).
"""

from __future__ import annotations

import asyncio

from kkt_adapter.bootstrap.adapter import Adapter
from kkt_adapter.buffer.retention import purge_expired
from kkt_adapter.config import BufferSettings, DeliverySettings, DeviceSettings
from kkt_adapter.intake.devices import DeviceUnit

RETENTION_PERIOD_S = 3600.0
MAINTENANCE_PERIOD_S = 60.0


#: How often a device not settled at start is looked at (its own backoff spaces the attempts out).
SETTLE_CHECK_S = 1.0


async def open_devices(adapter: Adapter) -> None:
    """Before serving: name the rows written before documents named their device (the primary's), then settle each
    device that answers (its FN checked against its name's, its receipts caught between store and print settled from
    its own journal, what its journal has that the buffer lacks kept); one that does not answer is settled later
    (:func:`start`), and prints nothing until then."""
    await asyncio.to_thread(adapter.devices.rows.name_unnamed, adapter.devices.primary.name)
    for unit in adapter.devices.units:
        await unit.start.step()


def _task(adapter: Adapter, unit: DeviceUnit, name: str) -> str:
    """A background task's name, with its device's label when devices are labelled (:meth:`Devices.label`)."""
    label = adapter.devices.label(unit)
    return name if label is None else f"{name}:{label}"


async def start(adapter: Adapter) -> None:
    """Start the background work under the adapter's runtime (which stops it, also if this fails half-way)."""
    settings, runtime, delivery = adapter.settings, adapter.runtime, adapter.delivery
    device_settings = DeviceSettings.of(settings)
    for unit in adapter.devices.units:
        runtime.on_close(lambda unit=unit: unit.fiscalizer.drain(within_s=30))  # type: ignore[misc]
    heartbeat = adapter.heartbeat
    if heartbeat is not None:
        runtime.on_close(heartbeat.aclose)
        runtime.spawn("heartbeat", heartbeat.run(), stop=heartbeat.stop)
    # The start settled every row already (before serving): the first periodic pass comes a period later, and does
    # not occupy the device's thread while the first requests arrive.
    for unit in adapter.devices.units:
        if not unit.start.settled:
            runtime.every(_task(adapter, unit, "device-start"), SETTLE_CHECK_S, unit.start.step)
        # Metrics report each device as last seen: an idle device is looked at on this schedule, not per scrape.
        runtime.every(
            _task(adapter, unit, "device-check"),
            device_settings.check_interval,
            unit.device_status,
            first_after_s=device_settings.check_interval,
        )
        runtime.every(
            _task(adapter, unit, "reconcile"),
            MAINTENANCE_PERIOD_S,
            unit.recovery.reconcile_stale,
            first_after_s=MAINTENANCE_PERIOD_S,
        )
        if device_settings.close_at is not None:
            runtime.every(
                _task(adapter, unit, "shift-close-at"),
                device_settings.close_check_interval,
                unit.shifts.close_if_due,
            )
    retention_days = BufferSettings.of(settings).retention_days
    runtime.every(
        "retention",
        RETENTION_PERIOD_S,
        lambda: asyncio.to_thread(purge_expired, adapter.buffer, retention_days=retention_days),
    )
    if delivery.trackers:
        for unit, tracker in zip(adapter.devices.units, delivery.trackers, strict=True):
            runtime.spawn(_task(adapter, unit, "device-tracker"), tracker.run(), stop=tracker.stop)
        return
    # The FN's unsent documents for health and the heartbeat (device mode reads them at every poll).
    for unit in adapter.devices.units:
        runtime.every(
            _task(adapter, unit, "fn-exchange"),
            DeliverySettings.of(settings).device_poll_s,
            adapter.fn_exchanges[unit.name].refresh,
        )
    if adapter.ofd_client is not None:
        runtime.on_close(adapter.ofd_client.aclose)
    if delivery.worker is not None:
        runtime.spawn("sync-worker", delivery.worker.run(), stop=delivery.worker.stop)
