"""The devices' part of the wiring: a driver chosen from its settings, a fiscalizer over the buffer, the FN's
exchange status, and the OFD's acknowledgements passed to the FN that signed them. The adapter's start and the
command line's device jobs (``kkt-adapter buffer``) open devices through the same functions."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass

from kkt_adapter.buffer import Buffer
from kkt_adapter.config import BufferSettings, DeviceSettings, Settings
from kkt_adapter.delivery.fn_exchange import FnExchange
from kkt_adapter.devices.protocol import FiscalDriver
from kkt_adapter.devices.registry import make_driver
from kkt_adapter.intake.devices import DeviceUnit
from kkt_adapter.intake.fiscalizer import Fiscalizer
from kkt_adapter.status.metrics import Metrics
from kkt_clock import Clock


def _nothing() -> None:
    """No sync worker to wake (delivery off, tracked on the device, or a command-line job)."""


def device_driver(settings: Settings, index: int, clock: Clock) -> FiscalDriver:
    """Open the driver of device ``index`` of ``settings`` (the one place a driver is chosen)."""
    return make_driver(settings.for_device(index), clock)


def make_fiscalizer(
    buffer: Buffer,
    driver: FiscalDriver,
    *,
    name: str,
    limits: BufferSettings,
    device: DeviceSettings,
    metrics: Metrics | None = None,
    on_printed: Callable[[], None] | None = None,
) -> Fiscalizer:
    """One device's fiscalizer, from the buffer's limits and the devices' settings; ``on_printed`` wakes the sync
    worker."""
    return Fiscalizer(
        buffer,
        driver,
        capacity=limits.capacity,
        retry_after_s=limits.retry_after_s,
        metrics=metrics,
        shift_policy=device.shift_policy,
        name=name,
        on_printed=on_printed or _nothing,
    )


def fn_exchange(unit: DeviceUnit, clock: Clock) -> FnExchange:
    """The FN's exchange status of ``unit``, read on its device's thread."""
    return FnExchange(lambda: unit.fiscalizer.on_device(unit.driver.fn_status), clock)


async def pass_acknowledgements(units: Sequence[DeviceUnit], fn_number: str, numbers: list[int]) -> None:
    """Pass the OFD's acknowledgements to the device whose FN signed them (the emulated FN counts them as sent); an
    FN no device has now hears nothing (a real FN learns them from the OFD itself)."""
    for unit in units:
        state = unit.fiscalizer.monitor.snapshot().state
        if state is not None and state.fn_number == fn_number:
            await unit.fiscalizer.on_device(unit.driver.acknowledge, numbers)
            return


@dataclass(frozen=True)
class OfflineDevice:
    """One device opened for a command-line job while the adapter is stopped: its driver and its fiscalizer."""

    name: str
    driver: FiscalDriver
    fiscalizer: Fiscalizer


@contextmanager
def offline_device(settings: Settings, buffer: Buffer, index: int, clock: Clock) -> Iterator[OfflineDevice]:
    """Open device ``index``'s driver and a fiscalizer over ``buffer`` as the adapter wires them (for ``kkt-adapter
    buffer recover``); both are closed on leaving."""
    name = DeviceSettings.of(settings).devices[index].name
    driver = device_driver(settings, index, clock)
    try:
        fiscalizer = make_fiscalizer(
            buffer, driver, name=name, limits=BufferSettings.of(settings), device=DeviceSettings.of(settings)
        )
        try:
            yield OfflineDevice(name, driver, fiscalizer)
        finally:
            fiscalizer.close()
    finally:
        driver.close()
