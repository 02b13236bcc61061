"""Delivery tracked by the device: the tracker's step against a fake KKT whose FN is acknowledged as an OFD would."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest

from kkt_adapter.buffer import Buffer
from kkt_adapter.buffer.device_marks import DELIVERED_BY_DEVICE, DeviceMarks
from kkt_adapter.buffer.outbox import Outbox, Rejected
from kkt_adapter.delivery.device_tracking import DeviceTracker, DeviceUnreachable, Tracked
from kkt_adapter.delivery.fn_exchange import FnExchange
from kkt_adapter.domain.device import FNStatus
from kkt_adapter.domain.errors import DeviceUnavailable
from kkt_adapter.domain.receipt import Item, Payment, Receipt
from kkt_adapter.testing import FakeClock, FakeDriver, wait_for

pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def path(tmp_path: Path) -> Path:
    return tmp_path / "buffer.sqlite3"


@pytest.fixture
def buffer(path: Path, clock: FakeClock) -> Iterator[Buffer]:
    b = Buffer(path, clock=clock)
    yield b
    b.close()


@pytest.fixture
def driver() -> FakeDriver:
    return FakeDriver()


def sell(buffer: Buffer, driver: FakeDriver, count: int, *, prefix: str = "k") -> list[str]:
    """Print ``count`` sales on the fake KKT and keep them in the buffer (``pending``); their receipt ids."""
    ids = []
    for i in range(count):
        key = f"{prefix}{i}"
        r = Receipt("POS-1", "sale", (Item("A", 100 + i, Decimal(1), 100 + i, 1),), (Payment("cash", 100 + i),))
        decision = buffer.begin_accept(key=key, receipt=r, capacity=10_000)
        buffer.complete_print(decision.receipt_id, driver.print_receipt(r, idempotency_key=key))  # type: ignore[union-attr]
        ids.append(decision.receipt_id)  # type: ignore[union-attr]
    return ids


async def _read_on_thread(driver: FakeDriver) -> FNStatus:
    return await asyncio.to_thread(driver.fn_status)


def make_tracker(buffer: Buffer, driver: FakeDriver, clock: FakeClock) -> DeviceTracker:
    exchange = FnExchange(lambda: _read_on_thread(driver), clock)
    return DeviceTracker(exchange, DeviceMarks(buffer.db, clock=clock), clock, interval=0.01)


def states(buffer: Buffer, ids: list[str]) -> list[str]:
    found = [buffer.get(receipt_id) for receipt_id in ids]
    return [stored.state.value for stored in found if stored is not None]


async def test_documents_before_the_first_unsent_are_synced(
    buffer: Buffer, driver: FakeDriver, clock: FakeClock
) -> None:
    """The FN reports FD 4 as its first unsent document: FD 1–3 become synced, 4 and 5 stay pending."""
    ids = sell(buffer, driver, 5)
    driver.acknowledge([1, 2, 3])
    outcome = await make_tracker(buffer, driver, clock).step()
    assert outcome == Tracked(driver.FN_NUMBER, unsent_count=2, first_unsent_fd_number=4, marked=(1, 2, 3))
    assert states(buffer, ids) == ["synced"] * 3 + ["pending"] * 2
    assert buffer.counts().synced == 3


async def test_an_acknowledgement_past_a_gap_marks_only_up_to_the_gap(
    buffer: Buffer, driver: FakeDriver, clock: FakeClock
) -> None:
    """FD 4 acknowledged but FD 3 not: the FN's first unsent is 3, so only FD 1 and 2 count as delivered."""
    ids = sell(buffer, driver, 4)
    driver.acknowledge([1, 2, 4])
    outcome = await make_tracker(buffer, driver, clock).step()
    assert isinstance(outcome, Tracked)
    assert outcome.marked == (1, 2)
    assert states(buffer, ids) == ["synced", "synced", "pending", "pending"]


async def test_nothing_unsent_marks_every_document_of_the_fn(
    buffer: Buffer, driver: FakeDriver, clock: FakeClock
) -> None:
    """With nothing unsent, every document of the FN is synced, each with an event naming the device's delivery."""
    ids = sell(buffer, driver, 3)
    driver.acknowledge([1, 2, 3])
    outcome = await make_tracker(buffer, driver, clock).step()
    assert isinstance(outcome, Tracked)
    assert (outcome.unsent_count, outcome.first_unsent_fd_number, outcome.marked) == (0, None, (1, 2, 3))
    assert states(buffer, ids) == ["synced"] * 3
    for receipt_id in ids:
        events = buffer.events(receipt_id=receipt_id)
        assert [e["to_state"] for e in events if e["kind"] == "receipt"][-1] == "synced"
        (delivered,) = [e for e in events if e["kind"] == DELIVERED_BY_DEVICE]
        assert "delivered by the KKT itself" in delivered["detail"]
        assert "reports nothing unsent" in delivered["detail"]
    stored = buffer.get(ids[0])
    assert stored is not None and stored.synced_at == clock.time()


async def test_a_document_printed_after_the_poll_read_the_fn_stays_pending(
    buffer: Buffer, driver: FakeDriver, clock: FakeClock
) -> None:
    """ "Nothing unsent" covers the documents the FN had when asked, not one printed between the read and the mark."""
    ids = sell(buffer, driver, 2)
    driver.acknowledge([1, 2])

    async def read_then_print() -> FNStatus:
        status = driver.fn_status()
        ids.extend(sell(buffer, driver, 1, prefix="late"))  # lands on the device after its answer
        return status

    tracker = DeviceTracker(FnExchange(read_then_print, clock), DeviceMarks(buffer.db, clock=clock), clock)
    outcome = await tracker.step()
    assert isinstance(outcome, Tracked) and outcome.marked == (1, 2)
    assert states(buffer, ids) == ["synced", "synced", "pending"]


async def test_dead_letters_of_an_earlier_http_run_are_synced_once_the_fn_sent_them(
    buffer: Buffer, driver: FakeDriver, clock: FakeClock
) -> None:
    """A document an OFD API refused (DLQ) is delivered by the KKT itself: the FN's word settles it."""
    (rid,) = sell(buffer, driver, 1)
    outbox = Outbox(buffer.db, clock=clock, max_attempts=3, hlc_max_offset_ms=0)
    (claim,) = outbox.claim_due("w", limit=1, lease_seconds=30)
    outbox.record([Rejected(claim, "bad")])
    assert states(buffer, [rid]) == ["dlq"]
    driver.acknowledge([1])
    await make_tracker(buffer, driver, clock).step()
    assert states(buffer, [rid]) == ["synced"]


async def test_documents_of_a_replaced_fn_are_left_and_counted(
    buffer: Buffer, driver: FakeDriver, clock: FakeClock
) -> None:
    """After the FN is replaced, the old FN's unsent documents are not marked (the KKT no longer reports on them)."""
    old_fn = driver.FN_NUMBER
    old = sell(buffer, driver, 3, prefix="old")
    driver.replace_fn("9999078900009999")
    new = sell(buffer, driver, 2, prefix="new")
    driver.acknowledge([1, 2])  # the new FN's FD 1 and 2; the old FN's FD 1 and 2 share the numbers
    tracker = make_tracker(buffer, driver, clock)
    outcome = await tracker.step()
    assert outcome == Tracked("9999078900009999", 0, None, marked=(1, 2), untracked={old_fn: 3})
    assert states(buffer, old) == ["pending"] * 3
    assert states(buffer, new) == ["synced"] * 2
    assert tracker.status()["untracked"] == {old_fn: 3}


async def test_an_unreachable_device_changes_nothing_and_says_why(
    buffer: Buffer, driver: FakeDriver, clock: FakeClock
) -> None:
    """A poll the device does not answer marks nothing, keeps the last answer, and records the reason."""
    ids = sell(buffer, driver, 3)
    driver.acknowledge([1])
    tracker = make_tracker(buffer, driver, clock)
    await tracker.step()
    driver.acknowledge([2, 3])
    driver.fail_fn_status = DeviceUnavailable("offline", "device offline")
    outcome = await tracker.step()
    assert isinstance(outcome, DeviceUnreachable)
    assert "device offline" in outcome.reason
    assert states(buffer, ids) == ["synced", "pending", "pending"]
    assert tracker.exchange.error is not None and "device offline" in tracker.exchange.error
    assert tracker.exchange.status is not None and tracker.exchange.status.first_unsent_fd_number == 2
    assert tracker.last_ok is False
    driver.fail_fn_status = None
    outcome = await tracker.step()
    assert isinstance(outcome, Tracked) and outcome.marked == (2, 3)
    assert tracker.exchange.error is None and tracker.last_ok is True


async def test_after_a_restart_synced_documents_stay_synced(path: Path, driver: FakeDriver, clock: FakeClock) -> None:
    """A new tracker on the reopened buffer marks nothing twice; what was synced stays synced, even offline."""
    first = Buffer(path, clock=clock)
    ids = sell(first, driver, 3)
    driver.acknowledge([1, 2])
    await make_tracker(first, driver, clock).step()
    first.close()
    again = Buffer(path, clock=clock)
    try:
        tracker = make_tracker(again, driver, clock)
        outcome = await tracker.step()
        assert isinstance(outcome, Tracked) and outcome.marked == ()
        driver.fail_fn_status = DeviceUnavailable("offline", "device offline")
        assert isinstance(await tracker.step(), DeviceUnreachable)
        assert states(again, ids) == ["synced", "synced", "pending"]
        delivered = [e for e in again.events(limit=1000) if e["kind"] == DELIVERED_BY_DEVICE]
        assert len(delivered) == 2, "one event per delivered document, not one per poll"
    finally:
        again.close()


async def test_the_loop_polls_until_stopped(buffer: Buffer, driver: FakeDriver, clock: FakeClock) -> None:
    """The loop picks up the FN's progress at its interval and ends when stopped."""
    ids = sell(buffer, driver, 2)
    tracker = make_tracker(buffer, driver, clock)
    task = asyncio.create_task(tracker.run())
    try:
        driver.acknowledge([1, 2])
        # The tracker counts a poll once its marking has committed: wait for the count, then read the rows.
        await asyncio.to_thread(wait_for, lambda: tracker.marked_total == 2, what="both marked")
        assert tracker.polls >= 1
        assert states(buffer, ids) == ["synced", "synced"]
    finally:
        tracker.stop()
        async with asyncio.timeout(5):
            await task
    assert tracker.state == "stopped"
