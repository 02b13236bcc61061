"""Capped exponential backoff with jitter for OFD retries (pure arithmetic, tested with tables)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Backoff:
    """Delay before retry ``n`` (1-based): ``min(cap, base × 2^(n-1))``, scaled by a jitter in [0.5, 1.0]."""

    base: float = 1.0
    cap: float = 300.0

    def ceiling(self, attempt: int) -> float:
        """The un-jittered delay after the ``attempt``-th failure."""
        if attempt < 1:
            raise ValueError("attempts count from 1")
        exponent = min(attempt - 1, 62)
        return float(min(self.cap, self.base * (2**exponent)))

    def delay(self, attempt: int, *, jitter: float) -> float:
        """The delay to wait; ``jitter`` in [0, 1) spreads retries of many receipts over half the ceiling."""
        if not 0.0 <= jitter <= 1.0:
            raise ValueError("jitter must be within [0, 1]")
        return self.ceiling(attempt) * (0.5 + jitter / 2)
