"""Fiscal drivers: the one port through which the adapter prints, and the choice of driver from the settings."""

from __future__ import annotations

from kkt_adapter.config import ConfigError, Settings, fiscal_defaults
from kkt_adapter.devices.protocol import FiscalDriver
from kkt_clock import Clock

__all__ = ["FiscalDriver", "check_supported", "make_driver"]


#: The drivers this version ships, by ``KKT_DRIVER_TYPE``.
SUPPORTED = ("mock", "atol", "shtrih")


#: What each choice of ``KKT_DRIVER_TYPE`` is, for the messages that list them.
CHOICES = (
    "'mock' (the emulated KKT), 'atol' (an ATOL KKT through ATOL Web Requests), 'shtrih' (a Shtrih-M KKT, its native "
    "protocol)"
)
#: The real devices' choices, for the messages that refuse the emulated KKT in production.
REAL = "'atol' (an ATOL KKT through ATOL Web Requests), 'shtrih' (a Shtrih-M KKT over TCP or a serial line)"


def check_supported(settings: Settings) -> None:
    """Refuse, before anything starts, settings this version cannot serve: an unknown driver, and the emulated KKT in
    production (its fiscal signs and QR codes look real and are not: a sale printed on it is not fiscalized)."""
    if settings.driver_type not in SUPPORTED:
        raise ConfigError(
            f"KKT_DRIVER_TYPE: {settings.driver_type!r} has no driver in this version; allowed: {CHOICES}"
        )
    if settings.mode != "production":
        return
    emulated = [config.name for config in settings.device_list if config.kind == "emulated"]
    if settings.devices is None and emulated:
        raise ConfigError(
            "KKT_DRIVER_TYPE: KKT_MODE=production needs a real fiscal device, and the driver is the emulated KKT "
            f"({settings.driver_type!r}, the default), whose documents are not fiscal; allowed in production: {REAL}. "
            "For a trial without a KKT, use KKT_MODE=mock"
        )
    if emulated:
        raise ConfigError(
            f"KKT_DEVICES: KKT_MODE=production needs real fiscal devices, and {', '.join(emulated)} "
            f"{'is' if len(emulated) == 1 else 'are'} the emulated KKT, whose documents are not fiscal; allowed "
            f"drivers in production: {REAL}. For a trial without a KKT, use KKT_MODE=mock"
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
        defaults=fiscal_defaults(settings),
    )
