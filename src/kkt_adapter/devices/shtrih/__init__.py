"""The Shtrih-M driver (``KKT_DRIVER_TYPE=shtrih``): the KKT's native protocol over TCP or a serial line.

- :mod:`.frames` — the v1 and v2 framings, pure.
- :mod:`.link` — the byte links (TCP, serial through pyserial).
- :mod:`.channel` — one request and its answer in either framing; which failures may be retried.
- :mod:`.commands` — the commands' bytes and the answers' fields, pure.
- :mod:`.errors` — the KKT's error codes as the adapter's device errors.
- :mod:`.device` — commands with passwords, busy waits, the recoveries a print starts with.
- :mod:`.keys` — the local key → FD record (the FN keeps no keys).
- :mod:`.results` — what each document sends and how answers become the adapter's values.
- :mod:`.driver` — the :class:`~kkt_adapter.devices.protocol.FiscalDriver`, exactly once from the FN.
"""

from __future__ import annotations

from kkt_adapter.config import Settings
from kkt_adapter.config.shtrih import shtrih_settings
from kkt_adapter.devices.shtrih.device import ShtrihDevice, open_channel
from kkt_adapter.devices.shtrih.driver import ShtrihDriver
from kkt_adapter.devices.shtrih.errors import ShtrihOutcomeUnknown
from kkt_adapter.devices.shtrih.link import open_link, parse_url
from kkt_clock import Clock

__all__ = ["ShtrihDevice", "ShtrihDriver", "ShtrihOutcomeUnknown", "connect", "from_settings"]


def connect(
    url: str,
    state_dir: object,
    *,
    clock: Clock,
    protocol: str = "auto",
    password: int = 1,
    admin_password: int = 30,
    byte_timeout: float = 0.5,
    answer_timeout: float = 30.0,
    paper_wait_s: float = 30.0,
) -> ShtrihDriver:
    """A driver for the KKT at ``url`` (``tcp://...`` or ``serial://...``), its keys kept in ``state_dir``."""
    from pathlib import Path

    link = open_link(parse_url(url))
    channel = open_channel(link, protocol, byte_timeout=byte_timeout, answer_timeout=answer_timeout)
    device = ShtrihDevice(channel, password=password, admin_password=admin_password)
    return ShtrihDriver(device, Path(str(state_dir)), clock=clock, paper_wait_s=paper_wait_s)


def from_settings(settings: Settings, clock: Clock) -> ShtrihDriver:
    """The Shtrih-M driver the ``KKT_SHTRIH_*`` settings describe."""
    group = shtrih_settings(settings)
    return connect(
        group.url,
        settings.device_dir,
        clock=clock,
        protocol=group.protocol,
        password=group.password,
        admin_password=group.admin_password,
        answer_timeout=group.answer_timeout,
    )
