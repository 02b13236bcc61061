"""The composition root: build every part of the adapter from :class:`Settings`, and nothing at import time."""

from __future__ import annotations

from dataclasses import dataclass

from kkt_adapter.buffer import Buffer
from kkt_adapter.clock import Clock, SystemClock
from kkt_adapter.config import ConfigError, Settings
from kkt_adapter.drivers.base import FiscalDriver
from kkt_adapter.fiscalizer import Fiscalizer


@dataclass
class Adapter:
    """The running adapter's parts, wired together."""

    settings: Settings
    clock: Clock
    buffer: Buffer
    driver: FiscalDriver
    fiscalizer: Fiscalizer
    started_at: float

    def close(self) -> None:
        self.fiscalizer.close()
        self.driver.close()
        self.buffer.close()


def make_driver(settings: Settings, clock: Clock) -> FiscalDriver:
    """The fiscal driver named by ``KKT_DRIVER_TYPE``."""
    if settings.driver_type == "mock":
        from kkt_adapter.drivers.emulated import EmulatedDriver

        return EmulatedDriver(settings.device_dir, print_delay_ms=settings.emulator_print_delay_ms, clock=clock)
    raise ConfigError(
        f"KKT_DRIVER_TYPE: {settings.driver_type!r} has no driver in this version; allowed now: 'mock' "
        "(the emulated KKT)"
    )


def build(settings: Settings, *, clock: Clock | None = None, driver: FiscalDriver | None = None) -> Adapter:
    """Open the buffer and the device and wire the adapter; the caller owns :meth:`Adapter.close`."""
    clock = clock or SystemClock()
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    buffer = Buffer(settings.buffer_path, clock=clock)
    driver = driver or make_driver(settings, clock)
    fiscalizer = Fiscalizer(
        buffer,
        driver,
        capacity=settings.buffer_capacity,
        retry_after_s=max(1, round(settings.hlc_sync_interval)),
    )
    return Adapter(
        settings=settings,
        clock=clock,
        buffer=buffer,
        driver=driver,
        fiscalizer=fiscalizer,
        started_at=clock.time(),
    )
