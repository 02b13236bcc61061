"""The circuit breaker's transitions and the backoff table, on a fake clock."""

from __future__ import annotations

import pytest

from kkt_adapter.delivery.backoff import Backoff
from kkt_adapter.delivery.breaker import BreakerState, CircuitBreaker, Transition
from kkt_adapter.testing import FakeClock


@pytest.mark.parametrize(
    ("attempt", "ceiling"),
    [(1, 1.0), (2, 2.0), (3, 4.0), (5, 16.0), (9, 256.0), (10, 300.0), (20, 300.0), (10_000, 300.0)],
)
def test_backoff_ceiling_table(attempt: int, ceiling: float) -> None:
    """The ceiling doubles per attempt from 1 s and stops at the 300 s cap."""
    assert Backoff(base=1.0, cap=300.0).ceiling(attempt) == ceiling


@pytest.mark.parametrize(("jitter", "factor"), [(0.0, 0.5), (0.5, 0.75), (1.0, 1.0)])
def test_backoff_jitter_spreads_within_half(jitter: float, factor: float) -> None:
    """Jitter scales the delay between half and all of the ceiling."""
    assert Backoff(base=2.0, cap=60.0).delay(3, jitter=jitter) == 8.0 * factor


def make(clock: FakeClock, log: list[Transition] | None = None) -> CircuitBreaker:
    return CircuitBreaker(
        clock,
        failure_threshold=5,
        open_timeout=60,
        max_open_timeout=300,
        success_threshold=2,
        on_transition=(log.append if log is not None else lambda _: None),
    )


def test_opens_after_threshold_consecutive_failures() -> None:
    """Four failures keep it closed; the fifth consecutive one opens it; a success in between resets the count."""
    clock = FakeClock()
    breaker = make(clock)
    for _ in range(4):
        breaker.record_failure()
    breaker.record_success()
    for _ in range(4):
        breaker.record_failure()
    assert breaker.state is BreakerState.CLOSED
    breaker.record_failure()
    assert breaker.state is BreakerState.OPEN
    assert not breaker.allow()


def test_exactly_one_probe_after_open_timeout() -> None:
    """After the open interval exactly one probe passes; others wait for its outcome."""
    clock = FakeClock()
    breaker = make(clock)
    for _ in range(5):
        breaker.record_failure()
    clock.advance(59.9)
    assert not breaker.allow()
    clock.advance(0.1)
    assert breaker.allow()
    assert breaker.state is BreakerState.HALF_OPEN
    assert not breaker.allow()


def test_closes_after_success_threshold() -> None:
    """Two successful probes close it, one at a time."""
    clock = FakeClock()
    log: list[Transition] = []
    breaker = make(clock, log)
    for _ in range(5):
        breaker.record_failure()
    clock.advance(60)
    assert breaker.allow()
    breaker.record_success()
    assert breaker.state is BreakerState.HALF_OPEN
    assert breaker.allow()
    breaker.record_success()
    assert breaker.state is BreakerState.CLOSED
    assert [(t.old, t.new) for t in log] == [
        (BreakerState.CLOSED, BreakerState.OPEN),
        (BreakerState.OPEN, BreakerState.HALF_OPEN),
        (BreakerState.HALF_OPEN, BreakerState.CLOSED),
    ]


@pytest.mark.parametrize(("failed_probes", "interval"), [(0, 60), (1, 120), (2, 240), (3, 300), (6, 300)])
def test_failed_probes_double_the_open_interval(failed_probes: int, interval: float) -> None:
    """Each failed probe doubles the open interval, capped by the recovery timeout."""
    clock = FakeClock()
    breaker = make(clock)
    for _ in range(5):
        breaker.record_failure()
    for _ in range(failed_probes):
        clock.advance(breaker.retry_in())
        assert breaker.allow()
        breaker.record_failure()
    assert breaker.open_interval == interval
    assert breaker.retry_in() == interval


def test_cancelled_probe_frees_the_slot() -> None:
    """A reserved probe that was not sent lets the next request probe instead."""
    clock = FakeClock()
    breaker = make(clock)
    for _ in range(5):
        breaker.record_failure()
    clock.advance(60)
    assert breaker.allow()
    breaker.cancel()
    assert breaker.allow()
