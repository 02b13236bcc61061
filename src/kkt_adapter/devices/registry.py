"""Fiscal drivers: the one port through which the adapter prints, and the choice of driver from the settings."""

from __future__ import annotations

from kkt_adapter.config import ConfigError, Settings
from kkt_adapter.devices.protocol import FiscalDriver
from kkt_clock import Clock

__all__ = ["FiscalDriver", "check_supported", "make_driver"]


#: The drivers this version ships, by ``KKT_DRIVER_TYPE``.
SUPPORTED = ("mock", "atol", "shtrih")


def check_supported(settings: Settings) -> None:
    """Refuse, before anything starts, settings this version cannot serve."""
    if settings.driver_type not in SUPPORTED:
        raise ConfigError(
            f"KKT_DRIVER_TYPE: {settings.driver_type!r} has no driver in this version; allowed: 'mock' (the emulated "
            "KKT), 'atol' (an ATOL KKT through ATOL Web Requests), 'shtrih' (a Shtrih-M KKT, its native protocol)"
        )


def make_driver(settings: Settings, clock: Clock) -> FiscalDriver:
    """The fiscal driver named by ``KKT_DRIVER_TYPE``. Each is imported only when chosen: the emulator package only
    for the emulated KKT, so that ``serve`` with the ATOL driver never loads it."""
    check_supported(settings)
    if settings.driver_type == "atol":
        from kkt_adapter.devices.atol import from_settings

        return from_settings(settings, clock)
    if settings.driver_type == "shtrih":
        from kkt_adapter.devices.shtrih import from_settings as shtrih_driver

        return shtrih_driver(settings, clock)
    from kkt_adapter.devices.emulated import EmulatedDriver

    return EmulatedDriver(
        settings.device_dir,
        print_delay_ms=settings.emulator_print_delay_ms,
        clock=clock,
        fn_life_months=settings.emulator_fn_life_months,
    )
