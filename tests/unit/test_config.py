"""Settings are read once from KKT_* variables; a wrong value names the variable and what is allowed."""

from __future__ import annotations

import re

import pytest

from kkt_adapter.config import ConfigError, load_settings


def test_defaults_bind_loopback() -> None:
    """With nothing set the adapter listens on 127.0.0.1:8000 with the emulated KKT."""
    settings = load_settings({})
    assert (settings.api_host, settings.api_port, settings.mode, settings.driver_type) == (
        "127.0.0.1",
        8000,
        "mock",
        "mock",
    )
    assert settings.circuit_breaker_threshold == 5
    assert settings.sync_max_attempts == 20


def test_fractional_intervals_allowed() -> None:
    """Intervals accept fractions of a second (tests shorten them through configuration)."""
    settings = load_settings({"KKT_HLC_SYNC_INTERVAL": "0.05", "KKT_HEARTBEAT_INTERVAL": "0.1"})
    assert settings.hlc_sync_interval == 0.05
    assert settings.heartbeat_interval == 0.1


@pytest.mark.parametrize(
    ("name", "value", "allowed"),
    [
        ("KKT_BUFFER_MAX_SIZE", "-1", "greater than 0"),
        ("KKT_BUFFER_MAX_SIZE", "many", "valid integer"),
        ("KKT_MODE", "testing", "'mock' or 'production'"),
        ("KKT_OFD_API_URL", "not a url", "URL"),
        ("KKT_API_PORT", "70000", "less than or equal to 65535"),
        ("KKT_EMULATOR_PRINT_DELAY_MS", "-5", "greater than or equal to 0"),
        ("KKT_LOG_FORMAT", "xml", "'text' or 'json'"),
        ("KKT_DEVICE_CHECK_INTERVAL", "600", "less than or equal to 300"),
    ],
)
def test_wrong_value_names_variable(name: str, value: str, allowed: str) -> None:
    """A wrong value raises ConfigError naming the variable, what is allowed and what was given."""
    with pytest.raises(ConfigError) as caught:
        load_settings({name: value})
    message = str(caught.value)
    assert name in message
    assert allowed in message
    assert repr(value) in message


def test_env_file_is_read(tmp_path: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """Values in .env are read when the process environment does not set them."""
    env_file = tmp_path / ".env"  # type: ignore[operator]
    env_file.write_text("KKT_BUFFER_MAX_SIZE=42\nKKT_ADAPTER_ID=shop-7\n")
    settings = load_settings(env_file=env_file)
    assert settings.buffer_max_size == 42
    assert settings.adapter_id == "shop-7"


def test_process_environment_overrides(monkeypatch: pytest.MonkeyPatch) -> None:
    """The process environment is read when no mapping is passed."""
    monkeypatch.setenv("KKT_SYNC_BATCH_SIZE", "7")
    assert load_settings(env_file=None).sync_batch_size == 7


def test_every_setting_is_documented() -> None:
    """docs/configuration.md lists every KKT_* variable the adapter reads."""
    from pathlib import Path

    from kkt_adapter.config import Settings

    doc = (Path(__file__).resolve().parents[2] / "docs" / "configuration.md").read_text(encoding="utf-8")
    missing = [f"KKT_{name.upper()}" for name in Settings.model_fields if f"`KKT_{name.upper()}`" not in doc]
    assert missing == []


def test_the_atol_driver_is_made_from_its_settings(tmp_path: pytest.TempPathFactory) -> None:
    """KKT_DRIVER_TYPE=atol makes the ATOL driver for the configured Web Requests server (nothing is contacted)."""
    from kkt_adapter.bootstrap import make_driver
    from kkt_adapter.devices.atol import AtolDriver, WebRequestsTransport
    from kkt_clock import SystemClock

    settings = load_settings(
        {
            "KKT_DRIVER_TYPE": "atol",
            "KKT_DATA_DIR": str(tmp_path),
            "KKT_ATOL_URL": "http://10.0.0.5:16732/",
            "KKT_ATOL_USER": "kassa",
            "KKT_ATOL_PASSWORD": "p4ss",
            "KKT_ATOL_DIALECT": "legacy",
            "KKT_ATOL_JOB_TIMEOUT": "5",
        }
    )
    driver = make_driver(settings, SystemClock())
    try:
        assert isinstance(driver, AtolDriver)
        assert isinstance(driver.transport, WebRequestsTransport)
        assert (driver.transport.base_url, driver.transport.dialect, driver.job_timeout) == (
            "http://10.0.0.5:16732",
            "legacy",
            5.0,
        )
    finally:
        driver.close()


def test_the_atol_password_is_never_shown() -> None:
    """KKT_ATOL_PASSWORD is a secret: not in the settings' repr, nor in an error about the ATOL settings."""
    settings = load_settings({"KKT_ATOL_USER": "kassa", "KKT_ATOL_PASSWORD": "p4ss-word"})
    assert "p4ss-word" not in repr(settings)
    assert settings.atol_password is not None
    assert settings.atol_password.get_secret_value() == "p4ss-word"
    with pytest.raises(ConfigError) as bad:
        load_settings({"KKT_ATOL_URL": "http://kassa:p4ss-word@10.0.0.5:16732", "KKT_ATOL_PASSWORD": "p4ss-word"})
    assert "p4ss-word" not in str(bad.value)
    assert "KKT_ATOL_URL must not carry credentials" in str(bad.value)


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"KKT_ATOL_PASSWORD": "x"}, "KKT_ATOL_PASSWORD is set without KKT_ATOL_USER"),
        ({"KKT_ATOL_USER": "a:b"}, "KKT_ATOL_USER must not contain ':'"),
        ({"KKT_ATOL_URL": "127.0.0.1:16732"}, "KKT_ATOL_URL must be the ATOL Web Requests server's base URL"),
        ({"KKT_ATOL_POLL_INTERVAL": "5", "KKT_ATOL_JOB_TIMEOUT": "5"}, "KKT_ATOL_POLL_INTERVAL must be shorter"),
        ({"KKT_ATOL_POLL_INTERVAL": "0"}, "KKT_ATOL_POLL_INTERVAL"),
        ({"KKT_ATOL_DIALECT": "v3"}, "KKT_ATOL_DIALECT"),
    ],
)
def test_wrong_atol_settings_stop_the_start_with_the_variable(env: dict[str, str], message: str) -> None:
    """Each wrong ATOL setting is refused with a message naming it and what is allowed."""
    with pytest.raises(ConfigError, match=re.escape(message)):
        load_settings(env)
