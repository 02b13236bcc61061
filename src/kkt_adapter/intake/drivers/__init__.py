"""Fiscal drivers: the one port through which the adapter prints, and the choice of driver from the settings."""

from __future__ import annotations

from kkt_adapter.config import ConfigError, Settings
from kkt_adapter.intake.drivers.base import FiscalDriver
from kkt_clock import Clock

__all__ = ["FiscalDriver", "check_supported", "make_driver"]


def check_supported(settings: Settings) -> None:
    """Refuse, before anything starts, settings this version cannot serve."""
    if settings.driver_type != "mock":
        raise ConfigError(
            f"KKT_DRIVER_TYPE: {settings.driver_type!r} has no driver in this version; allowed now: 'mock' "
            "(the emulated KKT)"
        )


def make_driver(settings: Settings, clock: Clock) -> FiscalDriver:
    """The fiscal driver named by ``KKT_DRIVER_TYPE``; the emulator package is imported only for the emulated one."""
    check_supported(settings)
    from kkt_adapter.intake.drivers.emulated import EmulatedDriver

    return EmulatedDriver(
        settings.device_dir,
        print_delay_ms=settings.emulator_print_delay_ms,
        clock=clock,
        fn_life_months=settings.emulator_fn_life_months,
    )
