"""The adapter's configuration: ``KKT_*`` variables read once into :class:`Settings`, and the small groups derived
from it that the composition root hands to each part.

- :mod:`~kkt_adapter.config.settings`: :class:`Settings` (every variable, its default and validation) and
  :func:`load_settings`;
- :mod:`~kkt_adapter.config.groups`: the groups (buffer, OFD, delivery, breaker, device, heartbeat, API);
- :mod:`~kkt_adapter.config.devices`: one KKT of ``KKT_DEVICES``;
- :mod:`~kkt_adapter.config.fiscal`: the cashier and taxation system put on documents whose request leaves them out;
- :mod:`~kkt_adapter.config.errors`: :class:`ConfigError` and how a wrong value is described.
"""

from __future__ import annotations

from kkt_adapter.config.devices import DeviceConfig
from kkt_adapter.config.errors import ENV_PREFIX, ConfigError
from kkt_adapter.config.groups import (
    ApiSettings,
    BreakerSettings,
    BufferSettings,
    DeliverySettings,
    DeviceSettings,
    HeartbeatSettings,
    OFDSettings,
    fiscal_defaults,
)
from kkt_adapter.config.settings import Settings, load_settings, split_list

__all__ = [
    "ENV_PREFIX",
    "ApiSettings",
    "BreakerSettings",
    "BufferSettings",
    "ConfigError",
    "DeliverySettings",
    "DeviceConfig",
    "DeviceSettings",
    "HeartbeatSettings",
    "OFDSettings",
    "Settings",
    "fiscal_defaults",
    "load_settings",
    "split_list",
]
