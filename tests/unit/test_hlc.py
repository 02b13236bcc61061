"""The hybrid logical clock's arithmetic, as a table of explicit values."""

from __future__ import annotations

import pytest

from kkt_adapter.domain.hlc import HLCStamp, merge, tick


@pytest.mark.parametrize(
    ("last", "now_ms", "expected"),
    [
        (HLCStamp(1000, 0), 2000, HLCStamp(2000, 0)),  # the wall clock moved on
        (HLCStamp(1000, 3), 1000, HLCStamp(1000, 4)),  # same millisecond: the counter breaks the tie
        (HLCStamp(5000, 0), 1000, HLCStamp(5000, 1)),  # the clock was set back: never below the high-water mark
    ],
)
def test_tick(last: HLCStamp, now_ms: int, expected: HLCStamp) -> None:
    """A local stamp is after the last one whatever the wall clock says."""
    assert tick(last, now_ms) == expected


@pytest.mark.parametrize(
    ("last", "remote_ms", "now_ms", "expected"),
    [
        (HLCStamp(1000, 0), 1500, 1200, HLCStamp(1500, 0)),  # the server is a little ahead: follow it
        (HLCStamp(1000, 0), 900_000, 1200, HLCStamp(61_200, 0)),  # far ahead: capped at now + max offset (60 s)
        (HLCStamp(1000, 2), 500, 800, HLCStamp(1000, 3)),  # server and local behind the mark: count on
        (HLCStamp(1000, 0), 800, 1500, HLCStamp(1500, 0)),  # the server is behind: local time wins
    ],
)
def test_merge_with_server_time(last: HLCStamp, remote_ms: int, now_ms: int, expected: HLCStamp) -> None:
    """Merging the OFD's time moves the clock forward, never back, and never more than the offset ahead."""
    assert merge(last, remote_ms, now_ms, max_offset_ms=60_000) == expected


def test_stamps_order_and_encode_sortably() -> None:
    """Stamps compare in time order and their text form sorts the same way."""
    stamps = [HLCStamp(1000, 2), HLCStamp(999, 9), HLCStamp(1000, 10), HLCStamp(1001, 0)]
    assert sorted(stamps) == [HLCStamp(999, 9), HLCStamp(1000, 2), HLCStamp(1000, 10), HLCStamp(1001, 0)]
    assert sorted(s.encode() for s in stamps) == [s.encode() for s in sorted(stamps)]
