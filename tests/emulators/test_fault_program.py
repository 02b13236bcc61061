"""The fault program alone (no HTTP): precedence of armed faults, counters, argument checks."""

from __future__ import annotations

import asyncio

import pytest

from kkt_clock import ManualClock
from kkt_emulators.faults import FaultProgram, Verdict


@pytest.fixture
def faults() -> FaultProgram:
    """A fault program on a manual clock."""
    return FaultProgram(ManualClock())


def verdicts(faults: FaultProgram, n: int) -> list[Verdict]:
    """The next ``n`` verdicts."""
    return [faults.decide().verdict for _ in range(n)]


def test_nothing_armed_passes(faults: FaultProgram) -> None:
    """A fresh program lets every request through."""
    assert verdicts(faults, 3) == [Verdict.PASS] * 3


def test_precedence_of_armed_faults(faults: FaultProgram) -> None:
    """Reset, then rate limit, then failure count, then lost reply: each counted fault is consumed in turn."""
    faults.set_lose_reply(1)
    faults.set_failure_count(1)
    faults.set_rate_limit(3, count=1)
    faults.set_connection_reset(1)
    assert verdicts(faults, 5) == [
        Verdict.RESET,
        Verdict.RATE_LIMIT,
        Verdict.FAIL,
        Verdict.LOSE_REPLY,
        Verdict.PASS,
    ]


def test_permanent_and_down_win_without_consuming_counts(faults: FaultProgram) -> None:
    """While permanently failing or down, counted faults wait their turn."""
    faults.set_failure_count(1)
    faults.set_permanent_failure()
    assert verdicts(faults, 2) == [Verdict.FAIL, Verdict.FAIL]
    assert faults.snapshot()["failure_count"] == 1


def test_down_window_ends_on_the_clock() -> None:
    """``set_down_for`` is measured on the injected clock's monotonic time."""
    clock = ManualClock()
    faults = FaultProgram(clock)
    faults.set_down_for(10)
    assert faults.decide().reason == "service down"
    clock.advance(10)
    assert faults.decide().verdict is Verdict.PASS


def test_rate_limit_decision_carries_retry_after(faults: FaultProgram) -> None:
    """The 429 verdict carries the configured Retry-After seconds."""
    faults.set_rate_limit(7.5)
    decision = faults.decide()
    assert (decision.verdict, decision.retry_after_s) == (Verdict.RATE_LIMIT, 7.5)


def test_rate_limit_count_zero_disables(faults: FaultProgram) -> None:
    """A rate limit for zero requests limits nothing."""
    faults.set_rate_limit(1, count=0)
    assert faults.decide().verdict is Verdict.PASS


def test_lose_reply_mode_is_carried(faults: FaultProgram) -> None:
    """The lost-reply verdict says whether to drop or to answer 503."""
    faults.set_lose_reply(1, mode="503")
    assert faults.decide().lose_mode == "503"


@pytest.mark.parametrize(
    "arm",
    [
        lambda f: f.set_failure_count(-1),
        lambda f: f.set_failure_count(True),
        lambda f: f.set_fail_every(-2),
        lambda f: f.set_latency(-1),
        lambda f: f.set_latency(1, jitter_ms=-1),
        lambda f: f.set_rate_limit(-1),
        lambda f: f.set_connection_reset(1.5),
        lambda f: f.set_lose_reply(1, mode="later"),
        lambda f: f.set_down_for(-3),
    ],
)
def test_bad_arguments_raise(faults: FaultProgram, arm: object) -> None:
    """Negative counts, non-integers and unknown modes raise ``ValueError``."""
    with pytest.raises(ValueError):  # noqa: PT011 - each case has its own message
        arm(faults)  # type: ignore[operator]


def test_close_wakes_held_and_sleeping_requests(faults: FaultProgram) -> None:
    """``close()`` (the server stopping) ends every wait at once, holds and latency alike."""
    faults.hold()
    faults.set_latency(60_000)

    async def scenario() -> None:
        waiting = asyncio.ensure_future(faults.delay())
        await asyncio.sleep(0.01)
        assert faults.held_count == 1
        faults.release()
        await asyncio.sleep(0.01)
        assert not waiting.done()  # released from the gate, now sleeping the latency
        faults.close()
        await asyncio.wait_for(waiting, 1.0)

    asyncio.run(scenario())
