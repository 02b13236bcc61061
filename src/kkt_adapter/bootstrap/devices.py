"""The devices' part of the wiring: a driver chosen from its settings, its unit (lane, fiscalizer, recovery, shifts)
over the buffer, the FN's
exchange status, and the OFD's acknowledgements passed to the FN that signed them. The adapter's start and the
command line's device jobs (``kkt-adapter buffer``) open devices through the same functions."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager

from kkt_adapter.buffer import Buffer
from kkt_adapter.config import BufferSettings, DeviceSettings, Settings
from kkt_adapter.delivery.fn_exchange import FnExchange
from kkt_adapter.devices.protocol import FiscalDriver
from kkt_adapter.devices.registry import make_driver
from kkt_adapter.intake.devices import DeviceUnit, open_unit
from kkt_adapter.status.metrics import Metrics
from kkt_clock import Clock


def _nothing() -> None:
    """No sync worker to wake (delivery off, tracked on the device, or a command-line job)."""


def device_driver(settings: Settings, index: int, clock: Clock) -> FiscalDriver:
    """Open the driver of device ``index`` of ``settings`` (the one place a driver is chosen)."""
    return make_driver(settings.for_device(index), clock)


def make_unit(
    buffer: Buffer,
    driver: FiscalDriver,
    clock: Clock,
    *,
    name: str,
    primary: bool,
    kind: str,
    limits: BufferSettings,
    device: DeviceSettings,
    metrics: Metrics | None = None,
    on_printed: Callable[[], None] | None = None,
) -> DeviceUnit:
    """One device's lane, fiscalizer, recovery and shifts, from the buffer's limits and the devices' settings;
    ``on_printed`` wakes the sync worker."""
    return open_unit(
        name,
        driver,
        buffer,
        clock,
        primary=primary,
        kind=kind,
        capacity=limits.capacity,
        retry_after_s=limits.retry_after_s,
        metrics=metrics or Metrics(),
        shift_policy=device.shift_policy,
        close_at=device.close_at,
        tz=device.tz,
        on_printed=on_printed or _nothing,
    )


def fn_exchange(unit: DeviceUnit, clock: Clock) -> FnExchange:
    """The FN's exchange status of ``unit``, read on its device's thread."""
    return FnExchange(lambda: unit.lane.run(unit.driver.fn_status), clock)


async def pass_acknowledgements(units: Sequence[DeviceUnit], fn_number: str, numbers: list[int]) -> None:
    """Pass the OFD's acknowledgements to the device whose FN signed them (the emulated FN counts them as sent); an
    FN no device has now hears nothing (a real FN learns them from the OFD itself)."""
    for unit in units:
        state = unit.lane.monitor.snapshot().state
        if state is not None and state.fn_number == fn_number:
            await unit.lane.run(unit.driver.acknowledge, numbers)
            return


@contextmanager
def offline_device(settings: Settings, buffer: Buffer, index: int, clock: Clock) -> Iterator[DeviceUnit]:
    """Open device ``index`` over ``buffer`` as the adapter wires it (for ``kkt-adapter buffer recover``): its lane,
    fiscalizer and recovery; the lane and the driver are closed on leaving."""
    config = DeviceSettings.of(settings).devices[index]
    driver = device_driver(settings, index, clock)
    try:
        unit = make_unit(
            buffer,
            driver,
            clock,
            name=config.name,
            primary=index == 0,
            kind=config.kind,
            limits=BufferSettings.of(settings),
            device=DeviceSettings.of(settings),
        )
        try:
            yield unit
        finally:
            unit.close()
    finally:
        driver.close()
