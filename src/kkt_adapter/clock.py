"""One clock for everything that waits or measures: monotonic seconds for intervals, wall seconds for stamps.

Resilience code (breaker, backoff, worker, heartbeat, HLC) takes a :class:`Clock` and never reads time itself;
tests pass :class:`kkt_adapter.testing.FakeClock`.
"""

from __future__ import annotations

import time
from typing import Protocol


class Clock(Protocol):
    """Monotonic time for intervals and wall time for timestamps, both in seconds."""

    def monotonic(self) -> float:
        """Seconds from an arbitrary origin that never goes back."""
        ...

    def time(self) -> float:
        """Seconds since the Unix epoch (may jump when the system clock is set)."""
        ...


class SystemClock:
    """The real clock of the machine."""

    def monotonic(self) -> float:
        return time.monotonic()

    def time(self) -> float:
        return time.time()
