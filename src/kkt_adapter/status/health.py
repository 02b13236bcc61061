"""Health that means something: ``healthy``, ``degraded`` or ``unhealthy``, always with reasons (pure rules).

Unhealthy (HTTP 503) means the till cannot fiscalize now or soon will be blocked: the device unusable, the
database not writable, a background task crashed, the buffer full, or the oldest unsynced receipt at or past 30
days (the FN blocks the KKT).
Degraded means sales go on but someone should look: the breaker open or the OFD unreachable, the buffer past its
alert threshold, the oldest unsynced receipt older than ``KKT_OFD_WARN_DAYS``, sync off in production.
With delivery by the device (sync mode ``device``) the 30-day rule is watched from the FN's own first unsent
document instead of the buffer's oldest row, and an unreadable exchange status or documents of a replaced FN degrade.

Every reason is also a :class:`Problem` with a stable ``code`` and its values (``params``): the reasons' English
sentences stay as clients read them, and the operator's page or an ERP shows the codes in the cashier's language with
what to do (the codes are listed in docs/api.md).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, tzinfo
from typing import Any

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
class Problem:
    """One reason for the verdict: its English sentence (``text``, as ``reasons`` lists it) and, for people in any
    language, a stable ``code`` with the values its message needs (``params``)."""

    code: str
    severity: str
    text: str
    params: dict[str, Any] = field(default_factory=dict)

    def public(self) -> dict[str, Any]:
        """How ``GET /v1/health`` lists it under ``problems``."""
        return {"code": self.code, "severity": self.severity, "params": self.params}


@dataclass(frozen=True)
class DeviceHealth:
    """One device as health judges it."""

    name: str
    usable: bool = True
    #: Why it cannot print (``None``: it can).
    problem: str | None = None
    shift_expired: bool = False
    fn_warnings: tuple[str, ...] = ()
    #: Why it cannot print as a code: ``offline``, ``paper_out``, ``fn_blocked`` or ``error`` (``None``: it can).
    fault: str | None = None


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
    #: When the OFD last took a document (``None``: not since the start), and the time now, for how long it is down.
    ofd_last_success_at: float | None = None
    now: float | None = None


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
    verdict, problems = judge(inputs)
    return verdict, [problem.text for problem in problems]


def judge(inputs: HealthInputs) -> tuple[str, list[Problem]]:
    """The verdict and its reasons as :class:`Problem` values, worst first."""
    unhealthy: list[Problem] = []
    degraded: list[Problem] = []

    def bad(code: str, text: str, **params: Any) -> None:
        unhealthy.append(Problem(code, "unhealthy", text, params))

    def poor(code: str, text: str, **params: Any) -> None:
        degraded.append(Problem(code, "degraded", text, params))

    if not inputs.database_ok:
        bad("database_not_writable", "database not writable")
    cannot = _cannot_print(inputs)
    if cannot and len(cannot) >= len(inputs.devices):
        unhealthy.extend(_none_can_print(cannot, labelled=inputs.labelled))
    else:
        for name, (fault, problem) in cannot.items():
            poor(
                f"device_{fault}",
                f"device {name}: {problem or 'error'} (sales go to the other devices)",
                device=name,
                detail=problem,
                others_print=True,
            )
    # Named, an expired shift is its device's problem (above); unnamed, it is its own reason.
    if not inputs.labelled and any(one.shift_expired for one in inputs.devices) and inputs.shift_policy == "refuse":
        bad(
            "shift_expired",
            "shift open for more than 24 hours: close the shift (Z report); sales are refused until then",
        )
    elif (
        inputs.shift_policy != "auto"
        and inputs.shift_expires_in_s is not None
        and 0 <= inputs.shift_expires_in_s <= SHIFT_WARN_S
    ):
        minutes = inputs.shift_expires_in_s / 60
        poor(
            "shift_expires_soon",
            f"the shift expires in {minutes:.0f} min and KKT_SHIFT_EXPIRED_POLICY is not auto: close it",
            minutes=round(minutes),
        )
    if inputs.clock_behind_s > 0:
        poor(
            "clock_behind",
            f"the system clock is {inputs.clock_behind_s / 60:.0f} min behind the newest time the adapter has seen "
            "(set back?): ages are counted from that time; check the clock",
            minutes=round(inputs.clock_behind_s / 60),
        )
    for one in inputs.devices:
        prefix = f"device {one.name}: " if inputs.labelled else ""
        for warning in one.fn_warnings:
            code = f"fn_{warning}" if warning in FN_WARNINGS else "fn_warning"
            text = f"{prefix}fiscal drive: {FN_WARNINGS.get(warning, warning)}"
            poor(code, text, device=one.name if inputs.labelled else None, warning=warning)
    for name, error in sorted(inputs.task_failures.items()):
        bad("task_stopped", f"background task {name} stopped: {error}", task=name, error=error)
    unsynced = inputs.counts.unsynced
    if unsynced >= inputs.capacity:
        bad(
            "buffer_full",
            f"buffer full: {unsynced} unsynced receipts of {inputs.capacity}",
            unsynced=unsynced,
            capacity=inputs.capacity,
        )
    elif unsynced >= inputs.max_size * inputs.alert_threshold:
        percent = 100 * unsynced / inputs.max_size
        poor(
            "buffer_filling",
            f"buffer {percent:.0f}% full (alert at {inputs.alert_threshold:.0%})",
            percent=round(percent),
            alert_percent=round(100 * inputs.alert_threshold),
        )
    # Delivery by the device is judged from the FN's own first unsent document, once the FN has said it; until then
    # the buffer's oldest unsynced row is the only bound there is.
    by_device = inputs.sync_mode == "device" and inputs.fn_status_known
    age = inputs.fn_first_unsent_age_s if by_device else inputs.oldest_unsynced_age_s
    what = "the fiscal drive's first unsent document" if by_device else "oldest unsynced receipt"
    days_left = None if age is None else max(0, int((FN_BLOCK_DAYS * DAY - age) // DAY))
    ages = {"days_old": None if age is None else round(age / DAY, 1), "days_left": days_left}
    if age is not None and age >= FN_BLOCK_DAYS * DAY:
        bad("fn_block_reached", f"{what} is {age / DAY:.1f} days old: the FN blocks the KKT at 30 days", **ages)
    elif age is not None and age > inputs.warn_days * DAY:
        text = f"{what} is {age / DAY:.1f} days old (warning after {inputs.warn_days})"
        poor("fn_block_near", text, **ages, warn_days=inputs.warn_days)
    down = _ofd_down(inputs, days_left)
    if inputs.sync_mode == "device":
        degraded.extend(_device_delivery_reasons(inputs))
    elif inputs.breaker_state == "OPEN":
        poor("ofd_unreachable", "circuit breaker open: the OFD is failing", **down)
    elif inputs.last_exchange_ok is False:
        poor("ofd_unreachable", "OFD unreachable at the last exchange", **down)
    if inputs.sync_mode == "off" and inputs.production:
        poor("ofd_not_configured", "no OFD configured: receipts are not delivered")
    if unhealthy:
        return "unhealthy", unhealthy + degraded
    if degraded:
        return "degraded", degraded
    return "healthy", []


def _ofd_down(inputs: HealthInputs, days_left: int | None) -> dict[str, Any]:
    """Since when the OFD has taken nothing and for how long (``None`` when it took nothing since the start), and the
    whole days left before the FN blocks the KKT (``None`` when nothing waits)."""
    since = inputs.ofd_last_success_at
    down_s = None if since is None or inputs.now is None else max(0.0, inputs.now - since)
    return {"since": since, "down_seconds": None if down_s is None else round(down_s), "days_left": days_left}


def _cannot_print(inputs: HealthInputs) -> dict[str, tuple[str, str]]:
    """Why each device that cannot print cannot, by name, as a fault code and a sentence (named, a device's shift
    expired under ``refuse`` too)."""
    cannot: dict[str, tuple[str, str]] = {}
    for one in inputs.devices:
        if not one.usable:
            cannot[one.name] = (one.fault or "error", one.problem or "")
        elif inputs.labelled and one.shift_expired and inputs.shift_policy == "refuse":
            cannot[one.name] = ("shift_expired", "shift open for more than 24 hours: close it (Z report)")
    return cannot


def _none_can_print(cannot: dict[str, tuple[str, str]], *, labelled: bool) -> list[Problem]:
    """The unhealthy reason when no device can print: unnamed, the one device's problem as it always read."""
    if not labelled:
        return [
            Problem(f"device_{fault}", "unhealthy", f"device: {problem}", {"device": None, "detail": problem})
            for fault, problem in cannot.values()
            if problem
        ]
    text = "no device can print: " + "; ".join(f"{name}: {problem or 'error'}" for name, (_, problem) in cannot.items())
    devices = [
        {"device": name, "code": f"device_{fault}", "detail": problem} for name, (fault, problem) in cannot.items()
    ]
    return [Problem("no_device_can_print", "unhealthy", text, {"devices": devices})]


def _device_delivery_reasons(inputs: HealthInputs) -> list[Problem]:
    reasons: list[Problem] = []
    if inputs.fn_read_error is not None:
        reasons.append(
            Problem(
                "ofd_exchange_unread",
                "degraded",
                f"the KKT's OFD exchange status could not be read at the last poll ({inputs.fn_read_error}): "
                "documents it delivers stay pending until it answers",
                {"error": inputs.fn_read_error},
            )
        )
    for fn_number, count in sorted(inputs.untracked.items()):
        reasons.append(
            Problem(
                "fn_untracked",
                "degraded",
                f"{count} unsent documents of fiscal drive {fn_number}, which the KKT no longer has, are not tracked: "
                "confirm their delivery in the OFD's account",
                {"fn_number": fn_number, "count": count},
            )
        )
    return reasons
