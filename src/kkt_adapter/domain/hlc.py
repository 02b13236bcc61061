"""Hybrid logical clock with millisecond resolution (pure arithmetic).

A stamp is ``(wall_ms, logical)``; stamps order receipts even when the system clock is set back: the wall part
never goes below the persisted high-water mark, and the logical counter breaks ties. Merging the OFD's server time
moves the clock forward, but never by more than ``max_offset_ms`` ahead of the local clock (a wrong server clock
must not drag every later stamp into the future).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, order=True)
class HLCStamp:
    """A hybrid logical clock reading; compares in time order."""

    wall_ms: int
    logical: int = 0

    def encode(self) -> str:
        """A string that sorts like the stamp (for logs and APIs)."""
        return f"{self.wall_ms:015d}-{self.logical:06d}"


ZERO = HLCStamp(0, 0)


def tick(last: HLCStamp, now_ms: int) -> HLCStamp:
    """The next local stamp after ``last`` at local time ``now_ms``."""
    if now_ms > last.wall_ms:
        return HLCStamp(now_ms, 0)
    return HLCStamp(last.wall_ms, last.logical + 1)


def merge(last: HLCStamp, remote_ms: int, now_ms: int, *, max_offset_ms: int) -> HLCStamp:
    """Advance past a remote time (the OFD's server time); remote times too far ahead are capped."""
    remote = min(remote_ms, now_ms + max_offset_ms)
    wall = max(last.wall_ms, remote, now_ms)
    if wall == last.wall_ms:
        return HLCStamp(wall, last.logical + 1)
    return HLCStamp(wall, 0)
