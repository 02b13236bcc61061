"""Health that means something: ``healthy``, ``degraded`` or ``unhealthy``, always with reasons (pure rules).

Unhealthy (HTTP 503) means the till cannot fiscalize now or soon will be blocked: the device unusable, the
database not writable, a background task crashed, the buffer full, or the oldest unsynced receipt at or past 30
days (the FN blocks the KKT).
Degraded means sales go on but someone should look: the breaker open or the OFD unreachable, the buffer past its
alert threshold, the oldest unsynced receipt older than ``KKT_OFD_WARN_DAYS``, sync off in production.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from kkt_adapter.buffer.store import BufferCounts

DAY = 86_400.0
FN_BLOCK_DAYS = 30
SHIFT_WARN_S = 3600.0
#: The FN's warning flags in an operator's words.
FN_WARNINGS = {
    "replace_soon": "validity ends within 30 days: order a replacement fiscal drive",
    "resource_exhausted": "validity ends within 3 days: replace the fiscal drive now",
    "memory_nearly_full": "archive memory 90% full",
    "ofd_timeout": "documents have waited long for the OFD's acknowledgement",
}


@dataclass(frozen=True)
class HealthInputs:
    """Everything the verdict depends on, read at one moment."""

    database_ok: bool
    device_problem: str | None
    counts: BufferCounts
    capacity: int
    max_size: int
    alert_threshold: float
    oldest_unsynced_age_s: float | None
    warn_days: int
    breaker_state: str
    sync_mode: str
    production: bool
    last_exchange_ok: bool | None
    task_failures: dict[str, str] = field(default_factory=dict)
    shift_policy: str = "auto"
    shift_expired: bool = False
    shift_expires_in_s: float | None = None
    fn_warnings: tuple[str, ...] = ()
    clock_behind_s: float = 0.0


def network_status(*, breaker_state: str, sync_mode: str, last_exchange_ok: bool | None) -> str:
    """``online``, ``degraded``, ``offline`` from the breaker and the last OFD exchange (``unknown`` before any)."""
    if sync_mode == "off" or breaker_state == "OPEN":
        return "offline"
    if breaker_state == "HALF_OPEN" or last_exchange_ok is False:
        return "degraded"
    if last_exchange_ok is None:
        return "unknown"
    return "online"


def assess(inputs: HealthInputs) -> tuple[str, list[str]]:
    """The verdict and its reasons, worst first."""
    unhealthy: list[str] = []
    degraded: list[str] = []
    if not inputs.database_ok:
        unhealthy.append("database not writable")
    if inputs.device_problem:
        unhealthy.append(f"device: {inputs.device_problem}")
    if inputs.shift_expired and inputs.shift_policy == "refuse":
        unhealthy.append("shift open for more than 24 hours: close the shift (Z report); sales are refused until then")
    elif (
        inputs.shift_policy != "auto"
        and inputs.shift_expires_in_s is not None
        and 0 <= inputs.shift_expires_in_s <= SHIFT_WARN_S
    ):
        minutes = inputs.shift_expires_in_s / 60
        degraded.append(f"the shift expires in {minutes:.0f} min and KKT_SHIFT_EXPIRED_POLICY is not auto: close it")
    if inputs.clock_behind_s > 0:
        degraded.append(
            f"the system clock is {inputs.clock_behind_s / 60:.0f} min behind the newest time the adapter has seen "
            "(set back?): ages are counted from that time; check the clock"
        )
    for warning in inputs.fn_warnings:
        degraded.append(f"fiscal drive: {FN_WARNINGS.get(warning, warning)}")
    for name, error in sorted(inputs.task_failures.items()):
        unhealthy.append(f"background task {name} stopped: {error}")
    unsynced = inputs.counts.unsynced
    if unsynced >= inputs.capacity:
        unhealthy.append(f"buffer full: {unsynced} unsynced receipts of {inputs.capacity}")
    elif unsynced >= inputs.max_size * inputs.alert_threshold:
        degraded.append(f"buffer {100 * unsynced / inputs.max_size:.0f}% full (alert at {inputs.alert_threshold:.0%})")
    age = inputs.oldest_unsynced_age_s
    if age is not None and age >= FN_BLOCK_DAYS * DAY:
        unhealthy.append(f"oldest unsynced receipt is {age / DAY:.1f} days old: the FN blocks the KKT at 30 days")
    elif age is not None and age > inputs.warn_days * DAY:
        degraded.append(f"oldest unsynced receipt is {age / DAY:.1f} days old (warning after {inputs.warn_days})")
    if inputs.breaker_state == "OPEN":
        degraded.append("circuit breaker open: the OFD is failing")
    elif inputs.last_exchange_ok is False:
        degraded.append("OFD unreachable at the last exchange")
    if inputs.sync_mode == "off" and inputs.production:
        degraded.append("no OFD configured: receipts are not delivered")
    if unhealthy:
        return "unhealthy", unhealthy + degraded
    if degraded:
        return "degraded", degraded
    return "healthy", []
