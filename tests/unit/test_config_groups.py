"""The setting groups each part receives are derived from the one ``Settings``: same values, frozen, secrets hidden."""

from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path

import pytest

from kkt_adapter.config import (
    ApiSettings,
    BreakerSettings,
    BufferSettings,
    DeliverySettings,
    DeviceSettings,
    HeartbeatSettings,
    OFDSettings,
    load_settings,
)


def test_the_groups_carry_the_defaults_of_the_settings() -> None:
    """With nothing set, every group holds the documented defaults of its variables."""
    settings = load_settings({"KKT_ADAPTER_ID": "shop-1", "KKT_DATA_DIR": "/srv/kkt"})
    assert BufferSettings.of(settings) == BufferSettings(
        path=Path("/srv/kkt/buffer.sqlite3"),
        max_size=10_000,
        capacity=10_000,
        alert_threshold=0.8,
        retry_after_s=60,
        retention_days=90,
    )
    assert OFDSettings.of(settings) == OFDSettings(url=None, token=None, timeout=10.0, retry_attempts=1, warn_days=25)
    assert OFDSettings.of(settings).send_budget_s == settings.ofd_send_budget_s == 20.0
    assert BreakerSettings.of(settings) == BreakerSettings(
        failure_threshold=5, open_timeout=60.0, max_open_timeout=300.0, success_threshold=2
    )
    assert HeartbeatSettings.of(settings) == HeartbeatSettings(url=None, adapter_id="shop-1", interval=30.0)
    delivery = DeliverySettings.of(settings)
    assert (delivery.enabled, delivery.mode, delivery.interval, delivery.max_attempts) == (True, "http", 30.0, 20)
    device = DeviceSettings.of(settings)
    assert [entry.name for entry in device.devices] == ["main"]
    assert (device.production, device.shift_policy, device.close_at, device.timezone) == (
        False,
        "auto",
        None,
        "Europe/Moscow",
    )
    api = ApiSettings.of(settings)
    assert (api.host, api.port, api.host_is_loopback, api.allowed_hosts, api.cors_origins) == (
        "127.0.0.1",
        8000,
        True,
        None,
        (),
    )


def test_the_groups_carry_the_values_set() -> None:
    """Each variable reaches its group under the name the receiving part uses."""
    settings = load_settings(
        {
            "KKT_BUFFER_MAX_SIZE": "100",
            "KKT_BUFFER_BLOCK_THRESHOLD": "0.9",
            "KKT_OFD_API_URL": "http://ofd.example:9000/",
            "KKT_OFD_DELIVERY": "device",
            "KKT_SYNC_ENABLED": "false",
            "KKT_CIRCUIT_BREAKER_THRESHOLD": "3",
            "KKT_ODOO_API_URL": "http://erp.example:8069",
            "KKT_HEARTBEAT_INTERVAL": "0.5",
            "KKT_SHIFT_CLOSE_AT": "23:30",
            "KKT_MODE": "production",
            "KKT_DRIVER_TYPE": "atol",
            "KKT_API_HOST": "0.0.0.0",
            "KKT_API_TOKEN": "s3cret",
            "KKT_ALLOWED_HOSTS": "Till.local, kkt",
        }
    )
    assert BufferSettings.of(settings).capacity == 90
    assert OFDSettings.of(settings).url == "http://ofd.example:9000/"
    assert (DeliverySettings.of(settings).enabled, DeliverySettings.of(settings).mode) == (False, "device")
    assert BreakerSettings.of(settings).failure_threshold == 3
    assert HeartbeatSettings.of(settings).url == "http://erp.example:8069/"
    assert HeartbeatSettings.of(settings).interval == 0.5
    assert DeviceSettings.of(settings).close_at == dt.time(23, 30)
    assert DeviceSettings.of(settings).production
    assert [entry.kind for entry in DeviceSettings.of(settings).devices] == ["atol"]
    assert ApiSettings.of(settings).allowed_hosts == ("till.local", "kkt")
    assert not ApiSettings.of(settings).host_is_loopback


GROUPS = [
    BufferSettings,
    OFDSettings,
    DeliverySettings,
    BreakerSettings,
    DeviceSettings,
    HeartbeatSettings,
    ApiSettings,
]


@pytest.mark.parametrize("group", GROUPS, ids=lambda group: group.__name__)
def test_a_group_is_frozen(group: type[BufferSettings]) -> None:
    """A group is a value: assigning to one of its fields raises."""
    value = group.of(load_settings({}))
    field = dataclasses.fields(value)[0].name
    with pytest.raises(dataclasses.FrozenInstanceError):
        setattr(value, field, None)


def test_a_group_hides_its_secrets() -> None:
    """The OFD's and the API's tokens never appear in a group's repr."""
    settings = load_settings({"KKT_OFD_API_TOKEN": "ofd-secret", "KKT_API_TOKEN": "api-secret"})
    assert "ofd-secret" not in repr(OFDSettings.of(settings))
    assert "api-secret" not in repr(ApiSettings.of(settings))
    assert isinstance(ApiSettings.of(settings), ApiSettings)
    assert isinstance(DeliverySettings.of(settings), DeliverySettings)
    assert isinstance(DeviceSettings.of(settings), DeviceSettings)
