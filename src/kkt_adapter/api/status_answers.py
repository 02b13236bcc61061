"""What the API answers about the adapter's state, for its OpenAPI description: the buffer, health, heartbeat, the
circuit breaker, the delivery worker and its passes, and the dead letters."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, RootModel

from kkt_adapter.api.responses import ErrorOut, OpenModel


class BufferStatusOut(OpenModel):
    total_capacity: int
    current_queued: int
    percent_full: float
    accepted: int
    pending: int
    synced: int
    failed: int
    dlq_size: int
    oldest_unsynced_age_seconds: float | None
    oldest_pending_age_seconds: float | None
    network_status: Literal["online", "degraded", "offline", "unknown"]
    sync_mode: Literal["embedded", "remote", "off", "device"]
    buffer_percent: float = Field(description="= percent_full, under the ERP's name.")
    buffer_count: int = Field(description="= current_queued, under the ERP's name.")
    cb_state: str = Field(description="The circuit breaker's state.")


class ProblemOut(OpenModel):
    """One reason for the verdict: a stable code (see docs/api.md) and the values its message needs."""

    code: str = Field(examples=["device_paper_out", "ofd_unreachable", "fn_block_near"])
    severity: Literal["unhealthy", "degraded"]
    params: dict[str, Any]


class HealthOut(OpenModel):
    """healthy or degraded (200), unhealthy (503), with the reasons and each component's state."""

    status: Literal["healthy", "degraded", "unhealthy"]
    reasons: list[str]
    problems: list[ProblemOut] = Field(
        description="The reasons for machines and people in any language: a stable code each (docs/api.md)."
    )
    version: str
    adapter_id: str
    uptime_seconds: float
    components: dict[str, dict[str, Any]]


class HeartbeatOut(OpenModel):
    enabled: bool
    state: str


class BreakerOut(OpenModel):
    state: str
    failure_count: int
    total_failures: int
    total_successes: int
    times_opened: int
    open_interval_seconds: float
    retry_in_seconds: float


class PassOut(OpenModel):
    claimed: int
    synced: int
    retried: int
    dead: int
    released: int
    fenced: int
    breaker_open: bool


class SyncPassOut(PassOut):
    circuit_breaker: BreakerOut


class WorkerStatusOut(OpenModel):
    state: Literal["running", "idle", "stopped", "disabled"]
    sync_mode: Literal["embedded", "remote", "off", "device"]
    passes: int | None = None
    last_pass_at: float | None = None
    last_pass: PassOut | None = None
    next_wake_at: float | None = None
    totals: PassOut | None = None
    circuit_breaker: BreakerOut


class DeadLetterOut(OpenModel):
    receipt_id: str
    pos_id: str
    total_kop: int
    fd_number: int | None
    fn_number: str | None
    attempts: int
    reason: str
    moved_at: float


class DeadLettersOut(OpenModel):
    items: list[DeadLetterOut]
    count: int


class RequeuedOut(OpenModel):
    receipt_id: str
    state: Literal["pending"]


class HealthOrError(RootModel[HealthOut | ErrorOut]):
    """A 503 from health: the health body saying unhealthy, or a storage failure's error body."""
