"""The Shtrih-M driver's settings group (``KKT_DRIVER_TYPE=shtrih``), derived from :class:`Settings`.

``KKT_SHTRIH_URL`` names the KKT: ``tcp://host:7778`` or ``serial:///dev/ttyUSB0?baud=115200``; without it, the
seeds' ``KKT_PORT`` and ``KKT_BAUDRATE`` name a serial line, else ``tcp://127.0.0.1:7778``. ``KKT_SHTRIH_PROTOCOL``
is ``auto`` (v2 if the KKT answers its sync packet, else v1), ``v1`` or ``v2``. The passwords (the cashier's, default
1; the system administrator's, default 30) are secrets: never logged, hidden in ``repr``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from kkt_adapter.config.errors import ConfigError

if TYPE_CHECKING:
    from kkt_adapter.config.settings import Settings

DEFAULT_URL = "tcp://127.0.0.1:7778"


@dataclass(frozen=True)
class ShtrihSettings:
    """Where the Shtrih-M KKT is and how to talk to it."""

    url: str
    protocol: str
    password: int = field(repr=False)
    admin_password: int = field(repr=False)
    answer_timeout: float = 30.0


def _password(value: object, name: str, default: int) -> int:
    if value is None:
        return default
    secret = value.get_secret_value() if hasattr(value, "get_secret_value") else str(value)
    if not secret.isdigit() or not 0 <= int(secret) <= 0xFFFFFFFF:
        raise ConfigError(f"{name}: a Shtrih-M password is a number 0..4294967295 (its value is not shown)")
    return int(secret)


def shtrih_settings(settings: Settings) -> ShtrihSettings:
    """The group from ``settings``; :class:`ConfigError` for a URL that names neither TCP nor a serial line."""
    url = settings.shtrih_url
    if url is None:
        url = f"serial://{settings.port}?baud={settings.baudrate}" if settings.port else DEFAULT_URL
    if not (url.startswith("tcp://") or url.startswith("serial://")):
        raise ConfigError(f"KKT_SHTRIH_URL must be tcp://host:port or serial:///dev/...: got {url!r}")
    return ShtrihSettings(
        url=url,
        protocol=settings.shtrih_protocol,
        password=_password(settings.shtrih_password, "KKT_SHTRIH_PASSWORD", 1),
        admin_password=_password(settings.shtrih_admin_password, "KKT_SHTRIH_ADMIN_PASSWORD", 30),
        answer_timeout=settings.shtrih_answer_timeout,
    )
