"""Health that means something: ``healthy``, ``degraded`` or ``unhealthy``, always with reasons (pure rules).

Unhealthy (HTTP 503) means the till cannot fiscalize now or soon will be blocked: the device unusable, the
database not writable, a background task crashed, the buffer full, or the oldest unsynced receipt at or past 30
days (the FN blocks the KKT).
Degraded means sales go on but someone should look: the breaker open or the OFD unreachable, the buffer past its
alert threshold, the oldest unsynced receipt older than ``KKT_OFD_WARN_DAYS``, sync off in production.
With delivery by the device (sync mode ``device``) the 30-day rule is watched from the FN's own first unsent
document instead of the buffer's oldest row, and an unreadable exchange status or documents of a replaced FN degrade.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, tzinfo

from kkt_adapter.buffer.queries import BufferCounts

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
class DeviceHealth:
    """One device as health judges it."""

    name: str
    usable: bool = True
    #: Why it cannot print (``None``: it can).
    problem: str | None = None
    shift_expired: bool = False
    fn_warnings: tuple[str, ...] = ()


@dataclass(frozen=True)
class HealthInputs:
    """Everything the verdict depends on, read at one moment."""

    database_ok: bool
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
    shift_expires_in_s: float | None = None
    clock_behind_s: float = 0.0
    #: Age of the FN's first unsent document, by the device's own date (``None``: nothing unsent, or not read yet).
    fn_first_unsent_age_s: float | None = None
    #: Whether the device ever answered with its exchange status (until it does, device mode judges by the buffer).
    fn_status_known: bool = False
    #: Why the last read of the FN's exchange status failed (``None`` when it answered).
    fn_read_error: str | None = None
    #: Unsent documents of fiscal drives the KKT no longer has, by FN number (device mode).
    untracked: dict[str, int] = field(default_factory=dict)
    #: Every device, the primary first (one device is a list of one).
    devices: tuple[DeviceHealth, ...] = ()
    #: Whether reasons name the device they are about: only when there is a choice of devices (one device's reasons
    #: read as they always did).
    labelled: bool = False


def age_since(moment: str | None, *, now: float, tz: tzinfo) -> float | None:
    """Seconds from an ISO date-time the device gave (read in ``tz`` when it has no offset) to ``now``."""
    if not moment:
        return None
    try:
        parsed = datetime.fromisoformat(moment)
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=tz)
    return max(0.0, now - parsed.timestamp())


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
    cannot = _cannot_print(inputs)
    if cannot and len(cannot) >= len(inputs.devices):
        unhealthy.extend(_none_can_print(cannot, labelled=inputs.labelled))
    else:
        degraded.extend(
            f"device {name}: {problem or 'error'} (sales go to the other devices)" for name, problem in cannot.items()
        )
    # Named, an expired shift is its device's problem (above); unnamed, it is its own reason.
    if not inputs.labelled and any(one.shift_expired for one in inputs.devices) and inputs.shift_policy == "refuse":
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
    for one in inputs.devices:
        prefix = f"device {one.name}: " if inputs.labelled else ""
        degraded.extend(f"{prefix}fiscal drive: {FN_WARNINGS.get(warning, warning)}" for warning in one.fn_warnings)
    for name, error in sorted(inputs.task_failures.items()):
        unhealthy.append(f"background task {name} stopped: {error}")
    unsynced = inputs.counts.unsynced
    if unsynced >= inputs.capacity:
        unhealthy.append(f"buffer full: {unsynced} unsynced receipts of {inputs.capacity}")
    elif unsynced >= inputs.max_size * inputs.alert_threshold:
        degraded.append(f"buffer {100 * unsynced / inputs.max_size:.0f}% full (alert at {inputs.alert_threshold:.0%})")
    # Delivery by the device is judged from the FN's own first unsent document, once the FN has said it; until then
    # the buffer's oldest unsynced row is the only bound there is.
    by_device = inputs.sync_mode == "device" and inputs.fn_status_known
    age = inputs.fn_first_unsent_age_s if by_device else inputs.oldest_unsynced_age_s
    what = "the fiscal drive's first unsent document" if by_device else "oldest unsynced receipt"
    if age is not None and age >= FN_BLOCK_DAYS * DAY:
        unhealthy.append(f"{what} is {age / DAY:.1f} days old: the FN blocks the KKT at 30 days")
    elif age is not None and age > inputs.warn_days * DAY:
        degraded.append(f"{what} is {age / DAY:.1f} days old (warning after {inputs.warn_days})")
    if inputs.sync_mode == "device":
        degraded.extend(_device_delivery_reasons(inputs))
    elif inputs.breaker_state == "OPEN":
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


def _cannot_print(inputs: HealthInputs) -> dict[str, str]:
    """Why each device that cannot print cannot, by name (named, a device's shift expired under ``refuse`` too)."""
    cannot: dict[str, str] = {}
    for one in inputs.devices:
        if not one.usable:
            cannot[one.name] = one.problem or ""
        elif inputs.labelled and one.shift_expired and inputs.shift_policy == "refuse":
            cannot[one.name] = "shift open for more than 24 hours: close it (Z report)"
    return cannot


def _none_can_print(cannot: dict[str, str], *, labelled: bool) -> list[str]:
    """The unhealthy reason when no device can print: unnamed, the one device's problem as it always read."""
    if not labelled:
        return [f"device: {problem}" for problem in cannot.values() if problem]
    return ["no device can print: " + "; ".join(f"{name}: {problem or 'error'}" for name, problem in cannot.items())]


def _device_delivery_reasons(inputs: HealthInputs) -> list[str]:
    reasons: list[str] = []
    if inputs.fn_read_error is not None:
        reasons.append(
            f"the KKT's OFD exchange status could not be read at the last poll ({inputs.fn_read_error}): documents "
            "it delivers stay pending until it answers"
        )
    for fn_number, count in sorted(inputs.untracked.items()):
        reasons.append(
            f"{count} unsent documents of fiscal drive {fn_number}, which the KKT no longer has, are not tracked: "
            "confirm their delivery in the OFD's account"
        )
    return reasons
