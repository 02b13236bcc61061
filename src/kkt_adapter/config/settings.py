"""Settings from ``KKT_*`` environment variables (and ``.env``), read once at start into a frozen object.

A wrong value stops the start with the variable's name and what is allowed (:class:`ConfigError`).
Every name, its meaning and default are listed in ``docs/configuration.md``. The parts of the adapter receive the
small groups derived from it (:mod:`kkt_adapter.config.groups`), not the whole.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import json
import re
import socket
from collections.abc import Mapping
from pathlib import Path
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import AnyHttpUrl, Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from kkt_adapter.config.devices import DeviceConfig
from kkt_adapter.config.errors import ENV_PREFIX, ConfigError, describe
from kkt_adapter.config.fiscal import CashierInn, CashierName, TaxationName
from kkt_adapter.domain.device import DEFAULT_DEVICE
from kkt_adapter.domain.fiscal_defaults import DEFAULT_CASHIER_NAME


class Settings(BaseSettings):
    """Every setting of the adapter. Build it with :func:`load_settings`, not at import time."""

    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX,
        env_file=".env",
        env_file_encoding="utf-8",
        extra="ignore",
        frozen=True,
        case_sensitive=False,
    )

    mode: Literal["mock", "production"] = "mock"
    driver_type: Literal["mock", "atol", "shtrih"] = "mock"

    api_host: str = "127.0.0.1"
    api_port: int = Field(default=8000, ge=1, le=65535)
    data_dir: Path = Path("./data")
    adapter_id: str = Field(default_factory=lambda: f"kkt-adapter-{socket.gethostname()}", min_length=1)
    # Where the adapter stands, for a chain's monitoring (the labels of kkt_adapter_info; docs/monitoring.md).
    store: str = Field(default="", max_length=200)
    till: str = Field(default="", max_length=200)

    buffer_max_size: int = Field(default=10_000, gt=0)
    buffer_alert_threshold: float = Field(default=0.8, gt=0, le=1)
    buffer_block_threshold: float = Field(default=1.0, gt=0, le=1)
    buffer_retention_days: int = Field(default=90, ge=1)
    buffer_full_retry_after: int = Field(default=60, ge=1, le=86_400)

    ofd_api_url: AnyHttpUrl | None = None
    ofd_api_token: SecretStr | None = None
    ofd_timeout: float = Field(default=10.0, gt=0)
    ofd_retry_attempts: int = Field(default=1, ge=0, le=10)
    ofd_warn_days: int = Field(default=25, ge=1, le=30)

    circuit_breaker_threshold: int = Field(default=5, ge=1)
    circuit_breaker_timeout: float = Field(default=60.0, gt=0)
    circuit_breaker_recovery_timeout: float = Field(default=300.0, gt=0)
    circuit_breaker_success_threshold: int = Field(default=2, ge=1)

    sync_enabled: bool = True
    hlc_sync_interval: float = Field(default=30.0, gt=0)
    hlc_max_offset_ms: int = Field(default=60_000, ge=0)
    sync_batch_size: int = Field(default=50, ge=1, le=10_000)
    sync_concurrency: int = Field(default=4, ge=1, le=256)
    sync_max_attempts: int = Field(default=20, ge=1)
    sync_lease_seconds: float = Field(default=60.0, gt=0)
    sync_backoff_base: float = Field(default=1.0, gt=0)
    sync_backoff_max: float = Field(default=300.0, gt=0)

    # OFD delivery (docs/operations.md, "OFD delivery: http or device"): the adapter posts each document to
    # KKT_OFD_API_URL (http), or the KKT sends its own and the adapter tracks its exchange status (device).
    ofd_delivery: Literal["http", "device"] = "http"
    ofd_device_poll_s: float = Field(default=30.0, gt=0, le=3600)

    odoo_api_url: AnyHttpUrl | None = None
    heartbeat_interval: float = Field(default=30.0, gt=0)

    emulator_print_delay_ms: int | None = Field(default=None, ge=0, le=60_000)
    emulator_fn_life_months: int = Field(default=15, ge=1, le=36)
    device_state_dir: Path | None = None

    shift_expired_policy: Literal["auto", "refuse"] = "auto"
    shift_close_at: dt.time | None = None
    shift_check_interval: float = Field(default=30.0, gt=0)
    #: Seconds between looks at each idle device's state (paper, cover, shift, FN), which metrics report as last seen;
    #: at most 5 minutes, as the alert on a device not heard from for 10 minutes assumes.
    device_check_interval: float = Field(default=15.0, gt=0, le=300)
    timezone: str = "Europe/Moscow"

    # Several KKTs behind one adapter (docs/operations.md, "Several devices"): a JSON list, the first is the primary.
    devices: tuple[DeviceConfig, ...] | None = None
    failover_recheck_s: float = Field(default=30.0, ge=0, le=86_400)
    refund_device_policy: Literal["failover", "original_only"] = "failover"
    # What the adapter does with text a fiscal drive cannot store (CP866): replace it by the table of
    # domain/text.py and say so in the answer's warnings, or refuse it (docs/api.md, "Text").
    text_policy: Literal["normalize", "strict"] = "normalize"

    # What documents carry when the request leaves it out (docs/configuration.md, "Cashier and taxation").
    cashier_name: CashierName = DEFAULT_CASHIER_NAME
    cashier_inn: CashierInn = None
    taxation: TaxationName | None = None

    port: str | None = None
    baudrate: int = Field(default=115200, gt=0)

    # The ATOL driver (KKT_DRIVER_TYPE=atol) over ATOL Web Requests; docs/hardware.md.
    atol_url: str = "http://127.0.0.1:16732"
    atol_device_id: str | None = None
    atol_user: str | None = None
    atol_password: SecretStr | None = None
    atol_poll_interval: float = Field(default=0.1, gt=0, le=10)
    atol_job_timeout: float = Field(default=30.0, gt=0, le=3_600)
    atol_dialect: Literal["auto", "v2", "legacy"] = "auto"

    # The Shtrih-M driver (KKT_DRIVER_TYPE=shtrih), its group in config/shtrih.py; docs/hardware.md.
    shtrih_url: str | None = None
    shtrih_protocol: Literal["auto", "v1", "v2"] = "auto"
    shtrih_password: SecretStr | None = None
    shtrih_admin_password: SecretStr | None = None
    shtrih_answer_timeout: float = Field(default=30.0, gt=0, le=600)

    log_format: Literal["text", "json"] = "text"
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"

    # The API's defences (docs/configuration.md, "API security and limits").
    api_token: SecretStr | None = None
    allow_unauthenticated: bool = False
    allowed_hosts: str | None = None
    cors_origins: str | None = None
    max_body_bytes: int = Field(default=1_048_576, ge=1, le=1_073_741_824)
    max_header_bytes: int = Field(default=16_384, ge=1_024, le=1_048_576)
    keep_alive_timeout: int = Field(default=5, ge=1, le=3_600)
    max_connections: int = Field(default=100, ge=1, le=100_000)
    # A connection must send a whole request head within these (slow or silent clients are closed).
    header_timeout: float = Field(default=10.0, gt=0, le=3_600)
    first_request_timeout: float = Field(default=10.0, gt=0, le=3_600)

    @field_validator("shift_close_at", mode="before")
    @classmethod
    def _hh_mm(cls, value: object) -> object:
        if isinstance(value, str) and value.strip() and not re.fullmatch(r"([01]\d|2[0-3]):[0-5]\d", value.strip()):
            raise ValueError("a local time as HH:MM (00:00–23:59)")
        return value.strip() or None if isinstance(value, str) else value

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError("an IANA time zone name such as 'Europe/Moscow'") from exc
        return value

    @field_validator("devices", mode="before")
    @classmethod
    def _devices_json(cls, value: object) -> object:
        if isinstance(value, str):
            if not value.strip():
                return None
            try:
                value = json.loads(value)
            except ValueError as exc:
                raise ValueError(f"a JSON list of devices ({exc})") from exc
        if isinstance(value, list | tuple) and not value:
            raise ValueError("a JSON list with at least one device (leave it unset for the one-device settings)")
        return value

    @field_validator("devices")
    @classmethod
    def _unique_names(cls, value: tuple[DeviceConfig, ...] | None) -> tuple[DeviceConfig, ...] | None:
        if value is not None:
            names = [device.name for device in value]
            twice = sorted({name for name in names if names.count(name) > 1})
            if twice:
                raise ValueError(f"device names must be unique; given more than once: {', '.join(twice)}")
        return value

    @field_validator("atol_url")
    @classmethod
    def _atol_url(cls, value: str) -> str:
        return value.strip().rstrip("/")

    @field_validator("atol_device_id", "atol_user")
    @classmethod
    def _blank_is_unset(cls, value: str | None) -> str | None:
        return None if value is None or not value.strip() else value.strip()

    @field_validator("allowed_hosts", "cors_origins")
    @classmethod
    def _comma_list(cls, value: str | None) -> str | None:
        if value is not None and not split_list(value):
            raise ValueError("a comma-separated list with at least one entry (leave it unset for the default)")
        return value

    @property
    def allowed_host_list(self) -> tuple[str, ...] | None:
        """``KKT_ALLOWED_HOSTS`` as names in lower case, or ``None`` for the default rule."""
        return None if self.allowed_hosts is None else tuple(name.lower() for name in split_list(self.allowed_hosts))

    @property
    def cors_origin_list(self) -> tuple[str, ...]:
        """``KKT_CORS_ORIGINS`` as a tuple; empty means no CORS headers at all."""
        return () if self.cors_origins is None else split_list(self.cors_origins)

    @property
    def api_host_is_loopback(self) -> bool:
        """Whether ``KKT_API_HOST`` is reachable only from this machine (a name other than ``localhost`` is not)."""
        host = self.api_host.strip("[]").lower()
        if host == "localhost":
            return True
        try:
            return ipaddress.ip_address(host).is_loopback
        except ValueError:
            return False

    @property
    def tz(self) -> ZoneInfo:
        """The store's local time zone (``KKT_TIMEZONE``): ``KKT_SHIFT_CLOSE_AT`` is read in it."""
        return ZoneInfo(self.timezone)

    @model_validator(mode="after")
    def _thresholds_ordered(self) -> Settings:
        if self.buffer_alert_threshold > self.buffer_block_threshold:
            raise ValueError(
                "KKT_BUFFER_ALERT_THRESHOLD must not exceed KKT_BUFFER_BLOCK_THRESHOLD "
                f"({self.buffer_alert_threshold} > {self.buffer_block_threshold})"
            )
        if self.circuit_breaker_timeout > self.circuit_breaker_recovery_timeout:
            raise ValueError(
                "KKT_CIRCUIT_BREAKER_TIMEOUT must not exceed KKT_CIRCUIT_BREAKER_RECOVERY_TIMEOUT "
                f"({self.circuit_breaker_timeout} > {self.circuit_breaker_recovery_timeout})"
            )
        if self.sync_lease_seconds <= self.ofd_send_budget_s:
            raise ValueError(
                "KKT_SYNC_LEASE_SECONDS must exceed KKT_OFD_TIMEOUT × (1 + KKT_OFD_RETRY_ATTEMPTS) "
                f"({self.sync_lease_seconds} <= {self.ofd_send_budget_s}): a send must fit inside its lease"
            )
        return self

    @model_validator(mode="after")
    def _api_guarded(self) -> Settings:
        # Checked here, not in a field validator, so that a wrong token is never echoed in the error message.
        if self.api_token is not None and not re.fullmatch(r"[\x21-\x7e]+", self.api_token.get_secret_value()):
            raise ValueError(
                "KKT_API_TOKEN must be printable ASCII characters without spaces (it travels in an Authorization "
                "header)"
            )
        if not self.api_host_is_loopback and self.api_token is None and not self.allow_unauthenticated:
            raise ValueError(
                f"KKT_API_HOST {self.api_host!r} is reachable from other machines: set KKT_API_TOKEN (clients then "
                "send 'Authorization: Bearer <token>'), or KKT_ALLOW_UNAUTHENTICATED=true to serve it without one"
            )
        return self

    @model_validator(mode="after")
    def _atol_consistent(self) -> Settings:
        # Checked here, not in a field validator, so that neither the password nor a URL with credentials in it is
        # ever echoed in the error message.
        if "@" in self.atol_url:
            raise ValueError("KKT_ATOL_URL must not carry credentials: put them in KKT_ATOL_USER and KKT_ATOL_PASSWORD")
        if not re.fullmatch(r"https?://[^/\s?#@]+(/[^\s?#]*)?", self.atol_url):
            raise ValueError(
                f"KKT_ATOL_URL must be the ATOL Web Requests server's base URL, http(s)://host:port (got "
                f"{self.atol_url!r}; the default is http://127.0.0.1:16732)"
            )
        if self.atol_password is not None and self.atol_user is None:
            raise ValueError("KKT_ATOL_PASSWORD is set without KKT_ATOL_USER: set both for Basic auth, or neither")
        if self.atol_user is not None and ":" in self.atol_user:
            raise ValueError("KKT_ATOL_USER must not contain ':' (HTTP Basic auth cannot carry it)")
        if self.atol_poll_interval >= self.atol_job_timeout:
            raise ValueError(
                "KKT_ATOL_POLL_INTERVAL must be shorter than KKT_ATOL_JOB_TIMEOUT "
                f"({self.atol_poll_interval} >= {self.atol_job_timeout})"
            )
        return self

    @property
    def ofd_send_budget_s(self) -> float:
        """The longest one send to the OFD can take: its timeout for each try."""
        return self.ofd_timeout * (1 + self.ofd_retry_attempts)

    @property
    def buffer_capacity(self) -> int:
        """Unsynced receipts at which new sales are refused (max size × block threshold)."""
        return max(1, int(self.buffer_max_size * self.buffer_block_threshold))

    @property
    def buffer_path(self) -> Path:
        """The adapter's SQLite buffer file."""
        return self.data_dir / "buffer.sqlite3"

    @property
    def device_dir(self) -> Path:
        """Where the emulated KKT keeps its state (``KKT_DEVICE_STATE_DIR``, else ``<data dir>/kkt``)."""
        return self.device_state_dir or self.data_dir / "kkt"

    @property
    def device_list(self) -> tuple[DeviceConfig, ...]:
        """``KKT_DEVICES``, or the one device the single-device settings describe (named ``main``)."""
        if self.devices is not None:
            return self.devices
        return (
            DeviceConfig(name=DEFAULT_DEVICE, driver="emulated" if self.driver_type == "mock" else self.driver_type),
        )

    def for_device(self, index: int) -> Settings:
        """These settings as device ``index``'s driver reads them (its fields in place of the single-device ones);
        a wrong combination is a :class:`ConfigError` naming ``KKT_DEVICES[index]``."""
        if self.devices is None:
            return self
        device = self.devices[index]
        updates: dict[str, object] = {"driver_type": "mock" if device.kind == "emulated" else device.kind}
        if device.kind == "shtrih":
            pairs = {"url": "shtrih_url", "password": "shtrih_password", "protocol": "shtrih_protocol"}
        elif device.kind == "emulated":
            state_dir = device.state_dir or self.data_dir / f"kkt-{device.name}"
            updates |= {"data_dir": self.data_dir, "device_state_dir": state_dir}
            pairs = {"print_delay_ms": "emulator_print_delay_ms", "fn_life_months": "emulator_fn_life_months"}
        else:
            pairs = {
                "url": "atol_url",
                "device_id": "atol_device_id",
                "user": "atol_user",
                "password": "atol_password",
                "poll_interval": "atol_poll_interval",
                "job_timeout": "atol_job_timeout",
                "dialect": "atol_dialect",
            }
        for own, setting in pairs.items():
            value = getattr(device, own)
            if value is not None:
                updates[setting] = value
        try:
            return Settings.model_validate(self.model_dump(exclude={"devices"}) | updates)
        except ValidationError as exc:
            lines = [
                re.sub(
                    r"KKT_(?:ATOL|SHTRIH)_([A-Z_]+)",
                    lambda m: f"KKT_DEVICES[{index}].{m.group(1).lower()}",
                    describe(error).removeprefix("configuration: Value error, "),
                )
                for error in exc.errors()
            ]
            raise ConfigError(f"invalid device {device.name!r}:\n  " + "\n  ".join(lines)) from exc


def split_list(value: str) -> tuple[str, ...]:
    """A comma-separated setting's entries, stripped, empty ones left out."""
    return tuple(entry.strip() for entry in value.split(",") if entry.strip())


def load_settings(env: Mapping[str, str] | None = None, *, env_file: Path | None = Path(".env")) -> Settings:
    """Read settings once. ``env`` replaces the process environment (tests pass a dict)."""
    try:
        if env is None:
            settings = Settings(_env_file=env_file)
        else:
            values = {
                key[len(ENV_PREFIX) :].lower(): value
                for key, value in env.items()
                if key.upper().startswith(ENV_PREFIX)
            }
            settings = Settings.model_validate(values)
    except ValidationError as exc:
        lines = [describe(error) for error in exc.errors()]
        raise ConfigError("invalid configuration:\n  " + "\n  ".join(lines)) from exc
    for index in range(len(settings.device_list)):
        settings.for_device(index)  # each device's settings are checked before anything starts
    return settings
