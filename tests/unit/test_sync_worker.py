"""The sync worker's step on a fake clock and a scripted OFD: each outcome class, DLQ, breaker, leases, order."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from kkt_adapter.buffer import Buffer
from kkt_adapter.buffer.outbox import Outbox
from kkt_adapter.delivery.backoff import Backoff
from kkt_adapter.delivery.breaker import BreakerState, CircuitBreaker
from kkt_adapter.delivery.ofd_client import Accepted, Permanent, Retryable, SendOutcome
from kkt_adapter.delivery.worker import SyncWorker
from kkt_adapter.domain.receipt import Item, Payment, Receipt
from kkt_adapter.testing import FakeClock, FakeDriver

pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


class ScriptedOFD:
    """Answers with a scripted outcome per call (the last one repeats) and records what it was sent."""

    def __init__(self, *outcomes: SendOutcome) -> None:
        self.outcomes = list(outcomes) or [Accepted("OFD-1", None, None)]
        self.sent: list[tuple[str, str]] = []

    async def send(self, *, receipt_id: str, pos_id: str, document: dict[str, Any], key: str) -> SendOutcome:
        self.sent.append((receipt_id, key))
        await asyncio.sleep(0)  # a network call yields to the other sends
        return self.outcomes.pop(0) if len(self.outcomes) > 1 else self.outcomes[0]


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def buffer(tmp_path: Path, clock: FakeClock) -> Iterator[Buffer]:
    b = Buffer(tmp_path / "buffer.sqlite3", clock=clock)
    yield b
    b.close()


def fill(buffer: Buffer, count: int, clock: FakeClock) -> list[str]:
    driver = FakeDriver()
    ids = []
    for i in range(count):
        r = Receipt("POS-1", "sale", (Item("A", 100 + i, Decimal(1), 100 + i, 1),), (Payment("cash", 100 + i),))
        decision = buffer.begin_accept(key=f"k{i}", receipt=r, capacity=10_000)
        buffer.complete_print(decision.receipt_id, driver.print_receipt(r, idempotency_key=f"k{i}"))  # type: ignore[union-attr]
        ids.append(decision.receipt_id)  # type: ignore[union-attr]
        clock.advance(0.001)
    return ids


def make_worker(
    buffer: Buffer,
    clock: FakeClock,
    ofd: ScriptedOFD,
    *,
    max_attempts: int = 20,
    owner: str = "w1",
    concurrency: int = 1,
) -> SyncWorker:
    outbox = Outbox(buffer.db, clock=clock, max_attempts=max_attempts, hlc_max_offset_ms=60_000)
    breaker = CircuitBreaker(clock, failure_threshold=5, open_timeout=60, max_open_timeout=300, success_threshold=2)
    return SyncWorker(
        outbox,
        ofd,
        breaker,
        clock,
        owner=owner,
        batch_size=50,
        concurrency=concurrency,
        lease_seconds=30,
        backoff=Backoff(base=1, cap=300),
    )


async def test_accepted_becomes_synced(buffer: Buffer, clock: FakeClock) -> None:
    """An acknowledged receipt is synced with the OFD's id and server time; the key is the receipt id."""
    (rid,) = fill(buffer, 1, clock)
    server_ms = int(clock.time() * 1000) + 5_000
    ofd = ScriptedOFD(Accepted("OFD-000007", "2025-11-30T09:00:05+00:00", server_ms))
    result = await make_worker(buffer, clock, ofd).step()
    assert (result.claimed, result.synced) == (1, 1)
    stored = buffer.get(rid)
    assert stored is not None
    assert (stored.state, stored.ofd_id, stored.hlc_server_ms) == ("synced", "OFD-000007", server_ms)
    assert ofd.sent == [(rid, rid)]
    assert buffer.hlc_high_water().wall_ms == server_ms, "the HLC merged the server's time"


async def test_retryable_schedules_backoff_and_keeps_key(buffer: Buffer, clock: FakeClock) -> None:
    """A retryable failure adds an attempt and schedules the next one by backoff; the retry reuses the key."""
    (rid,) = fill(buffer, 1, clock)
    ofd = ScriptedOFD(Retryable("timeout, outcome unknown"), Accepted("OFD-1", None, None))
    worker = make_worker(buffer, clock, ofd)
    await worker.step()
    stored = buffer.get(rid)
    assert stored is not None
    assert (stored.state, stored.attempts, stored.last_error) == ("pending", 1, "timeout, outcome unknown")
    assert 0.5 <= stored.next_attempt_at - clock.time() <= 1.0
    assert (await worker.step()).claimed == 0, "not due yet"
    clock.advance(1.0)
    assert (await worker.step()).synced == 1
    assert ofd.sent == [(rid, rid), (rid, rid)]


async def test_retry_after_is_honoured(buffer: Buffer, clock: FakeClock) -> None:
    """A 429's Retry-After postpones the next attempt at least that long."""
    (rid,) = fill(buffer, 1, clock)
    await make_worker(buffer, clock, ScriptedOFD(Retryable("HTTP 429", retry_after_s=120))).step()
    stored = buffer.get(rid)
    assert stored is not None
    assert stored.next_attempt_at - clock.time() == pytest.approx(120)


async def test_permanent_goes_to_dlq_at_once(buffer: Buffer, clock: FakeClock) -> None:
    """A 4xx rejection moves the receipt to the DLQ at once, with the OFD's reason."""
    (rid,) = fill(buffer, 1, clock)
    worker = make_worker(buffer, clock, ScriptedOFD(Permanent("HTTP 422: bad sum", 422)))
    assert (await worker.step()).dead == 1
    (letter,) = worker.outbox.dead_letters()
    assert letter["receipt_id"] == rid
    assert "bad sum" in letter["reason"]
    assert buffer.counts().dlq == 1
    assert worker.breaker.state is BreakerState.CLOSED


@pytest.mark.parametrize("max_attempts", [1, 3])
async def test_dlq_at_exactly_the_limit(buffer: Buffer, clock: FakeClock, max_attempts: int) -> None:
    """With KKT_SYNC_MAX_ATTEMPTS=n the receipt is pending after n-1 failures and in the DLQ after the n-th."""
    (rid,) = fill(buffer, 1, clock)
    worker = make_worker(buffer, clock, ScriptedOFD(Retryable("HTTP 503")), max_attempts=max_attempts)
    for attempt in range(1, max_attempts + 1):
        worker.breaker.record_success()  # keep the breaker out of this test
        await worker.step()
        stored = buffer.get(rid)
        assert stored is not None
        assert stored.attempts == attempt
        assert stored.state == ("dlq" if attempt == max_attempts else "pending")
        clock.advance(400)


async def test_requeue_brings_a_dead_letter_back(buffer: Buffer, clock: FakeClock) -> None:
    """A requeued dead letter is pending with fresh attempts and syncs once the OFD accepts."""
    (rid,) = fill(buffer, 1, clock)
    ofd = ScriptedOFD(Permanent("HTTP 400", 400), Accepted("OFD-2", None, None))
    worker = make_worker(buffer, clock, ofd)
    await worker.step()
    assert worker.outbox.requeue(rid)
    assert not worker.outbox.requeue(rid), "only dead letters can be requeued"
    assert (await worker.step()).synced == 1


async def test_open_breaker_sends_nothing_and_consumes_no_attempts(buffer: Buffer, clock: FakeClock) -> None:
    """After 5 failures the breaker opens; the rest of the batch is released untouched and later passes send nothing."""
    ids = fill(buffer, 8, clock)
    ofd = ScriptedOFD(Retryable("HTTP 503"))
    worker = make_worker(buffer, clock, ofd)
    first = await worker.step()
    assert (first.retried, first.released, first.breaker_open) == (5, 3, True)
    assert len(ofd.sent) == 5
    clock.advance(30)
    assert (await worker.step()).breaker_open
    assert len(ofd.sent) == 5
    attempts = [buffer.get(i).attempts for i in ids]  # type: ignore[union-attr]
    assert attempts == [1] * 5 + [0] * 3


async def test_half_open_sends_one_probe(buffer: Buffer, clock: FakeClock) -> None:
    """When the open interval ends, one pass sends exactly one probe; success twice closes the breaker."""
    fill(buffer, 8, clock)
    ofd = ScriptedOFD(*[Retryable("HTTP 503")] * 5, Accepted("OFD-1", None, None))
    worker = make_worker(buffer, clock, ofd)
    assert (await worker.step()).released == 3
    clock.advance(400)
    probe = await worker.step()
    assert (probe.claimed, probe.synced) == (1, 1)
    assert worker.breaker.state is BreakerState.HALF_OPEN
    assert (await worker.step()).synced == 1
    assert worker.breaker.state is BreakerState.CLOSED
    assert (await worker.step()).synced == 6


async def test_sends_in_hlc_order(buffer: Buffer, clock: FakeClock) -> None:
    """Receipts are sent in the order of their HLC stamps."""
    ids = fill(buffer, 20, clock)
    ofd = ScriptedOFD()
    await make_worker(buffer, clock, ofd, concurrency=4).step()
    assert [rid for rid, _ in ofd.sent] == ids


async def test_leased_receipts_are_not_sent_twice(buffer: Buffer, clock: FakeClock) -> None:
    """While one worker holds the lease another claims nothing; after expiry it takes over and the first is fenced."""
    (rid,) = fill(buffer, 1, clock)
    a = make_worker(buffer, clock, ScriptedOFD(), owner="a")
    b = make_worker(buffer, clock, ScriptedOFD(), owner="b")
    (claim,) = a.outbox.claim_due("a", limit=10, lease_seconds=30)
    assert b.outbox.claim_due("b", limit=10, lease_seconds=30) == []
    clock.advance(31)
    assert (await b.step()).synced == 1
    from kkt_adapter.buffer.outbox import Failed

    report = a.outbox.record([Failed(claim, "late answer", clock.time())])
    assert report.fenced == [rid]
    stored = buffer.get(rid)
    assert stored is not None
    assert stored.state == "synced"


async def test_a_long_outage_does_not_walk_receipts_into_the_dlq(buffer: Buffer, clock: FakeClock) -> None:
    """Through 100 failed probes (days of outage at the 300 s cap) no receipt reaches the DLQ: failed probes do not
    consume attempts, they only postpone the probed receipt so that the next probe tries another."""
    ids = fill(buffer, 3, clock)
    ofd = ScriptedOFD(Retryable("HTTP 503"))
    worker = make_worker(buffer, clock, ofd, max_attempts=20)
    worker.breaker.failure_threshold = 1
    await worker.step()
    for _ in range(100):
        clock.advance(301)
        assert (await worker.step()).claimed == 1
    states = [buffer.get(i) for i in ids]
    assert [s.state for s in states if s is not None] == ["pending"] * 3
    assert [s.attempts for s in states if s is not None] == [1, 0, 0], "only the failure before the breaker opened"
    assert buffer.counts().dlq == 0
    assert {rid for rid, _ in ofd.sent} == set(ids), "probes rotate over the receipts"


class SlowOFD(ScriptedOFD):
    """Accepts everything, each answer taking ``seconds`` of the fake clock."""

    def __init__(self, clock: FakeClock, seconds: float) -> None:
        super().__init__()
        self.clock = clock
        self.seconds = seconds

    async def send(self, *, receipt_id: str, pos_id: str, document: dict[str, Any], key: str) -> SendOutcome:
        self.clock.advance(self.seconds)
        return await super().send(receipt_id=receipt_id, pos_id=pos_id, document=document, key=key)


async def test_no_send_starts_without_time_left_on_its_lease(buffer: Buffer, clock: FakeClock) -> None:
    """With a slow OFD, sends stop starting once less than one send's budget is left on the lease: the rest are
    released untouched, so no send can still be running when another worker takes the receipt over."""
    fill(buffer, 8, clock)
    worker = make_worker(buffer, clock, SlowOFD(clock, 5.0))  # lease 30 s
    worker.send_budget_s = 10.0
    result = await worker.step()
    assert (result.synced, result.released, result.fenced) == (5, 3, 0)
    assert len(worker.client.sent) == 5  # type: ignore[attr-defined]


class ExplodingOFD(ScriptedOFD):
    """Raises from send (a bug, or an answer nobody foresaw) the first ``times`` calls."""

    def __init__(self, times: int) -> None:
        super().__init__()
        self.times = times

    async def send(self, *, receipt_id: str, pos_id: str, document: dict[str, Any], key: str) -> SendOutcome:
        if self.times:
            self.times -= 1
            raise OverflowError("cannot convert float infinity to integer")
        return await super().send(receipt_id=receipt_id, pos_id=pos_id, document=document, key=key)


async def test_unexpected_error_is_a_failed_attempt_and_never_wedges_the_breaker(
    buffer: Buffer, clock: FakeClock
) -> None:
    """An exception from the client counts as a failed attempt; during a probe it reopens the breaker instead of
    leaving the probe reserved for ever, and the next probe goes through."""
    (rid,) = fill(buffer, 1, clock)
    worker = make_worker(buffer, clock, ExplodingOFD(times=2))
    worker.breaker.failure_threshold = 1
    assert (await worker.step()).retried == 1
    assert worker.breaker.state is BreakerState.OPEN
    clock.advance(61)
    await worker.step()  # the probe explodes too
    assert worker.breaker.state is BreakerState.OPEN
    clock.advance(121)
    assert (await worker.step()).synced == 1
    stored = buffer.get(rid)
    assert stored is not None
    assert stored.last_error is None


@pytest.mark.parametrize(("retry_after", "at_most"), [(10**9, 300.0), (float("inf"), 300.0)])
async def test_retry_after_is_capped(buffer: Buffer, clock: FakeClock, retry_after: float, at_most: float) -> None:
    """A huge Retry-After cannot park a receipt beyond the backoff cap."""
    (rid,) = fill(buffer, 1, clock)
    await make_worker(buffer, clock, ScriptedOFD(Retryable("HTTP 429", retry_after_s=retry_after))).step()
    stored = buffer.get(rid)
    assert stored is not None
    assert stored.next_attempt_at - clock.time() <= at_most
