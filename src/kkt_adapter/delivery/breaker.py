"""Circuit breaker guarding the OFD, on an injected monotonic clock.

CLOSED counts consecutive failures; at the threshold it opens. OPEN lets nothing through for the open interval,
then HALF_OPEN lets exactly one probe through at a time. Enough successful probes close it; a failed probe reopens
it with the interval doubled, up to the recovery cap. Transitions are reported to a listener (the events table).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from kkt_clock import Clock


class BreakerState(StrEnum):
    CLOSED = "CLOSED"
    OPEN = "OPEN"
    HALF_OPEN = "HALF_OPEN"


@dataclass(frozen=True)
class Transition:
    """A change of state, for the audit trail."""

    old: BreakerState
    new: BreakerState
    reason: str
    open_interval: float


class CircuitBreaker:
    """Decides whether a request to the OFD may be sent now."""

    def __init__(
        self,
        clock: Clock,
        *,
        failure_threshold: int = 5,
        open_timeout: float = 60.0,
        max_open_timeout: float = 300.0,
        success_threshold: int = 2,
        on_transition: Callable[[Transition], None] = lambda _: None,
    ) -> None:
        self.clock = clock
        self.failure_threshold = failure_threshold
        self.open_timeout = open_timeout
        self.max_open_timeout = max_open_timeout
        self.success_threshold = success_threshold
        self.on_transition = on_transition
        self.state = BreakerState.CLOSED
        self.consecutive_failures = 0
        self.half_open_successes = 0
        self.open_interval = open_timeout
        self.opened_at: float | None = None
        self.probe_in_flight = False
        self.total_failures = 0
        self.total_successes = 0
        self.times_opened = 0

    def _move(self, new: BreakerState, reason: str) -> None:
        old, self.state = self.state, new
        self.on_transition(Transition(old, new, reason, self.open_interval))

    def retry_in(self) -> float:
        """Seconds until a probe may go (0 when requests may go now)."""
        if self.state is not BreakerState.OPEN or self.opened_at is None:
            return 0.0
        return max(0.0, self.opened_at + self.open_interval - self.clock.monotonic())

    def allow(self) -> bool:
        """Whether one request may be sent now; in HALF_OPEN this reserves the single probe."""
        if self.state is BreakerState.CLOSED:
            return True
        if self.state is BreakerState.OPEN:
            if self.retry_in() > 0:
                return False
            self.half_open_successes = 0
            self._move(BreakerState.HALF_OPEN, f"open for {self.open_interval:g} s: probing")
        if self.probe_in_flight:
            return False
        self.probe_in_flight = True
        return True

    def cancel(self) -> None:
        """A reserved request was not sent after all (it frees the probe)."""
        self.probe_in_flight = False

    def record_success(self) -> None:
        self.total_successes += 1
        self.consecutive_failures = 0
        if self.state is BreakerState.HALF_OPEN:
            self.probe_in_flight = False
            self.half_open_successes += 1
            if self.half_open_successes >= self.success_threshold:
                self.open_interval = self.open_timeout
                self.opened_at = None
                self._move(BreakerState.CLOSED, f"{self.half_open_successes} successful probes")

    def record_failure(self, reason: str = "failure") -> None:
        self.total_failures += 1
        self.consecutive_failures += 1
        if self.state is BreakerState.HALF_OPEN:
            self.probe_in_flight = False
            self.open_interval = min(self.open_interval * 2, self.max_open_timeout)
            self._open(f"probe failed: {reason}")
        elif self.state is BreakerState.CLOSED and self.consecutive_failures >= self.failure_threshold:
            self.open_interval = self.open_timeout
            self._open(f"{self.consecutive_failures} consecutive failures, last: {reason}")

    def _open(self, reason: str) -> None:
        self.opened_at = self.clock.monotonic()
        self.times_opened += 1
        self._move(BreakerState.OPEN, reason)

    def snapshot(self) -> dict[str, Any]:
        """State and counters for health, status and metrics."""
        return {
            "state": self.state.value,
            "failure_count": self.consecutive_failures,
            "total_failures": self.total_failures,
            "total_successes": self.total_successes,
            "times_opened": self.times_opened,
            "open_interval_seconds": self.open_interval,
            "retry_in_seconds": round(self.retry_in(), 3),
        }
