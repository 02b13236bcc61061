"""One clock for everything that waits or measures, shared by the adapter and the emulators.

Monotonic seconds for intervals, wall seconds for timestamps. Resilience code (breaker, backoff, worker, heartbeat,
HLC) and the emulators' fault programs, shift expiry and print stamps take a :class:`Clock` and never read time
themselves, so that a test passes hours in microseconds with :class:`ManualClock`.

A leaf package: it imports nothing of the project, so the adapter's production path and the emulators (which never
import the adapter) can both depend on it.
"""

from __future__ import annotations

import threading
import time
from typing import Protocol

__all__ = ["Clock", "ManualClock", "SystemClock"]


class Clock(Protocol):
    """Monotonic seconds for intervals, wall seconds (Unix epoch) for timestamps."""

    def monotonic(self) -> float:
        """Seconds from an arbitrary origin that never goes back."""
        ...

    def time(self) -> float:
        """Seconds since the Unix epoch."""
        ...


class SystemClock:
    """The machine's real clock."""

    def monotonic(self) -> float:
        return time.monotonic()

    def time(self) -> float:
        return time.time()


class ManualClock:
    """A clock that moves only when told to; thread-safe. ``advance(8 * 3600)`` passes eight hours at once."""

    def __init__(self, *, start_wall: float = 1_764_504_000.0, start_monotonic: float = 1_000.0) -> None:
        self._lock = threading.Lock()
        self._wall = start_wall
        self._mono = start_monotonic

    def monotonic(self) -> float:
        with self._lock:
            return self._mono

    def time(self) -> float:
        with self._lock:
            return self._wall

    def advance(self, seconds: float) -> None:
        """Move both clocks forward by ``seconds`` (must not be negative)."""
        if seconds < 0:
            raise ValueError("a monotonic clock cannot go back; use set_wall() to move the wall clock back")
        with self._lock:
            self._mono += seconds
            self._wall += seconds

    def set_wall(self, wall: float) -> None:
        """Set the wall clock alone (it may go back, as a real system clock can)."""
        with self._lock:
            self._wall = wall
