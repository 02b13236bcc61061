"""The settings in small groups, one for each part of the adapter, as httpx's ``Timeout`` and ``Limits`` are.

:class:`~kkt_adapter.config.settings.Settings` stays the one place the ``KKT_*`` variables are read and validated;
each group is derived from it (``BufferSettings.of(settings)``, ...) and holds only what its part needs,
under the names that part uses. The composition root hands each part its group, so a part never sees a setting it
does not use. The groups are frozen values: they are compared and printed, never changed; they have no defaults of
their own (the defaults are the settings').
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Literal
from zoneinfo import ZoneInfo

from pydantic import SecretStr

from kkt_adapter.config.devices import DeviceConfig
from kkt_adapter.domain.ffd_codes import TAXATION_CODES
from kkt_adapter.domain.fiscal_defaults import FiscalDefaults
from kkt_adapter.domain.receipt import Cashier

if TYPE_CHECKING:
    from kkt_adapter.config.settings import Settings


@dataclass(frozen=True, kw_only=True, slots=True)
class BufferSettings:
    """The buffer file and its limits: the fiscalizers refuse sales at ``capacity``, status warns at the alert
    threshold, retention keeps synced receipts ``retention_days``."""

    path: Path
    max_size: int
    #: Unsynced receipts at which new sales are refused (max size × block threshold).
    capacity: int
    alert_threshold: float
    #: ``Retry-After`` of a sale refused because the buffer is full, in seconds.
    retry_after_s: int
    retention_days: int

    @classmethod
    def of(cls, settings: Settings) -> BufferSettings:
        return cls(
            path=settings.buffer_path,
            max_size=settings.buffer_max_size,
            capacity=settings.buffer_capacity,
            alert_threshold=settings.buffer_alert_threshold,
            retry_after_s=settings.buffer_full_retry_after,
            retention_days=settings.buffer_retention_days,
        )


@dataclass(frozen=True, kw_only=True, slots=True)
class OFDSettings:
    """The OFD the adapter posts to (``KKT_OFD_*``): its address, its token and how long one send may take."""

    #: ``None``: none configured (mock mode then starts an embedded mock OFD).
    url: str | None
    token: SecretStr | None
    timeout: float
    #: Resends of a request whose connection broke before any answer.
    retry_attempts: int
    #: Days of unsent documents after which status warns (the FN blocks at 30).
    warn_days: int

    @property
    def send_budget_s(self) -> float:
        """The longest one send to the OFD can take: its timeout for each try."""
        return self.timeout * (1 + self.retry_attempts)

    @classmethod
    def of(cls, settings: Settings) -> OFDSettings:
        return cls(
            url=None if settings.ofd_api_url is None else str(settings.ofd_api_url),
            token=settings.ofd_api_token,
            timeout=settings.ofd_timeout,
            retry_attempts=settings.ofd_retry_attempts,
            warn_days=settings.ofd_warn_days,
        )


@dataclass(frozen=True, kw_only=True, slots=True)
class DeliverySettings:
    """Phase 2: whether documents are delivered, how (``http``: the sync worker posts them; ``device``: the KKT
    sends its own and the adapter tracks it), and the worker's pace."""

    enabled: bool
    mode: Literal["http", "device"]
    #: How often the KKT's exchange status is read (device mode, and the FN's unsent count in http mode).
    device_poll_s: float
    #: The worker's poll interval (``KKT_HLC_SYNC_INTERVAL``).
    interval: float
    batch_size: int
    concurrency: int
    max_attempts: int
    lease_seconds: float
    backoff_base: float
    backoff_max: float
    hlc_max_offset_ms: int

    @classmethod
    def of(cls, settings: Settings) -> DeliverySettings:
        return cls(
            enabled=settings.sync_enabled,
            mode=settings.ofd_delivery,
            device_poll_s=settings.ofd_device_poll_s,
            interval=settings.hlc_sync_interval,
            batch_size=settings.sync_batch_size,
            concurrency=settings.sync_concurrency,
            max_attempts=settings.sync_max_attempts,
            lease_seconds=settings.sync_lease_seconds,
            backoff_base=settings.sync_backoff_base,
            backoff_max=settings.sync_backoff_max,
            hlc_max_offset_ms=settings.hlc_max_offset_ms,
        )


@dataclass(frozen=True, kw_only=True, slots=True)
class BreakerSettings:
    """The OFD's circuit breaker (``KKT_CIRCUIT_BREAKER_*``), under the names of
    :class:`~kkt_adapter.delivery.breaker.CircuitBreaker`'s arguments."""

    failure_threshold: int
    #: Seconds open before the first probe.
    open_timeout: float
    #: The cap of the open interval, which grows after failed probes.
    max_open_timeout: float
    success_threshold: int

    @classmethod
    def of(cls, settings: Settings) -> BreakerSettings:
        return cls(
            failure_threshold=settings.circuit_breaker_threshold,
            open_timeout=settings.circuit_breaker_timeout,
            max_open_timeout=settings.circuit_breaker_recovery_timeout,
            success_threshold=settings.circuit_breaker_success_threshold,
        )


@dataclass(frozen=True, kw_only=True, slots=True)
class DeviceSettings:
    """The devices and their fiscal day: which KKTs (the first is the primary), how an expired shift is met, when
    the shift closes by itself, and how sales move between devices."""

    devices: tuple[DeviceConfig, ...]
    production: bool
    shift_policy: Literal["auto", "refuse"]
    #: The local time the shift closes by itself (``None``: never).
    close_at: dt.time | None
    close_check_interval: float
    #: How often each device's state is read when nothing else asks it (metrics read the last state seen).
    check_interval: float
    #: The store's IANA time zone: ``close_at`` and a device's date-time without an offset are read in it.
    timezone: str
    failover_recheck_s: float
    refund_policy: Literal["failover", "original_only"]

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @classmethod
    def of(cls, settings: Settings) -> DeviceSettings:
        return cls(
            devices=settings.device_list,
            production=settings.mode == "production",
            shift_policy=settings.shift_expired_policy,
            close_at=settings.shift_close_at,
            close_check_interval=settings.shift_check_interval,
            check_interval=settings.device_check_interval,
            timezone=settings.timezone,
            failover_recheck_s=settings.failover_recheck_s,
            refund_policy=settings.refund_device_policy,
        )


@dataclass(frozen=True, kw_only=True, slots=True)
class HeartbeatSettings:
    """The heartbeat to the ERP (``KKT_ODOO_API_URL``, ``KKT_HEARTBEAT_INTERVAL``) and who it says is beating."""

    #: ``None``: no ERP configured, no heartbeat.
    url: str | None
    adapter_id: str
    interval: float

    @classmethod
    def of(cls, settings: Settings) -> HeartbeatSettings:
        return cls(
            url=None if settings.odoo_api_url is None else str(settings.odoo_api_url),
            adapter_id=settings.adapter_id,
            interval=settings.heartbeat_interval,
        )


@dataclass(frozen=True, kw_only=True, slots=True)
class ApiSettings:
    """Where the HTTP API listens and its defences: the token, the Host and CORS lists, the size and connection
    limits."""

    host: str
    port: int
    host_is_loopback: bool
    token: SecretStr | None
    allow_unauthenticated: bool
    #: Host names in lower case, or ``None`` for the default rule.
    allowed_hosts: tuple[str, ...] | None
    #: Empty: no CORS headers at all.
    cors_origins: tuple[str, ...]
    max_body_bytes: int
    max_header_bytes: int
    keep_alive_timeout: int
    max_connections: int
    #: Seconds a request head may take from its first byte to its end.
    header_timeout: float
    #: Seconds a new connection may wait before its first byte.
    first_request_timeout: float

    @classmethod
    def of(cls, settings: Settings) -> ApiSettings:
        return cls(
            host=settings.api_host,
            port=settings.api_port,
            host_is_loopback=settings.api_host_is_loopback,
            token=settings.api_token,
            allow_unauthenticated=settings.allow_unauthenticated,
            allowed_hosts=settings.allowed_host_list,
            cors_origins=settings.cors_origin_list,
            max_body_bytes=settings.max_body_bytes,
            max_header_bytes=settings.max_header_bytes,
            keep_alive_timeout=settings.keep_alive_timeout,
            max_connections=settings.max_connections,
            header_timeout=settings.header_timeout,
            first_request_timeout=settings.first_request_timeout,
        )


def fiscal_defaults(settings: Settings) -> FiscalDefaults:
    """The cashier and taxation system the drivers put on documents whose request leaves them out."""
    name = settings.cashier_name
    cashier = None if name is None else Cashier(name, settings.cashier_inn)
    taxation = None if settings.taxation is None else TAXATION_CODES[settings.taxation]
    return FiscalDefaults(cashier=cashier, taxation=taxation)
