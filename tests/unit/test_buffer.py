"""The buffer on a real SQLite file, closed and reopened: idempotency, capacity, counts, HLC, audit trail."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from kkt_adapter.buffer import Buffer
from kkt_adapter.buffer import accept as s
from kkt_adapter.buffer.connection import SCHEMA_VERSION
from kkt_adapter.domain import hlc
from kkt_adapter.domain.receipt import Item, Payment, Receipt
from kkt_adapter.testing import FakeClock, FakeDriver


def receipt(total_kop: int = 10000, pos_id: str = "POS-001") -> Receipt:
    from decimal import Decimal

    return Receipt(
        pos_id=pos_id,
        operation="sale",
        items=(Item("A", total_kop, Decimal(1), total_kop, 1),),
        payments=(Payment("cash", total_kop),),
    )


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


def open_buffer(tmp_path: Path, clock: FakeClock) -> Buffer:
    return Buffer(tmp_path / "buffer.sqlite3", clock=clock)


def print_one(buffer: Buffer, driver: FakeDriver, key: str, r: Receipt | None = None) -> str:
    r = r or receipt()
    decision = buffer.begin_accept(key=key, receipt=r, capacity=100)
    assert isinstance(decision, s.Fresh | s.Retry)
    return buffer.complete_print(decision.receipt_id, driver.print_receipt(r, idempotency_key=key))


def test_storage_rules_are_read_back(tmp_path: Path, clock: FakeClock) -> None:
    """The file is in WAL mode with synchronous=FULL and the schema version set."""
    buffer = open_buffer(tmp_path, clock)
    buffer.close()
    conn = sqlite3.connect(tmp_path / "buffer.sqlite3")
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION


def test_printed_receipt_survives_reopen(tmp_path: Path, clock: FakeClock) -> None:
    """A completed print is pending with its fiscal data after the file is closed and reopened."""
    buffer = open_buffer(tmp_path, clock)
    response = print_one(buffer, FakeDriver(), "k1")
    buffer.close()
    buffer = open_buffer(tmp_path, clock)
    stored = buffer.get_by_key("k1")
    assert stored is not None
    assert stored.state == "pending"
    assert stored.response_json == response
    assert stored.fiscal is not None and stored.fiscal.fiscal_doc_number == 1
    assert buffer.counts().pending == 1


def test_replay_returns_stored_response(tmp_path: Path, clock: FakeClock) -> None:
    """The same key and body after printing is a replay with the identical response."""
    buffer = open_buffer(tmp_path, clock)
    response = print_one(buffer, FakeDriver(), "k1")
    decision = buffer.begin_accept(key="k1", receipt=receipt(), capacity=100)
    assert decision == s.Replay(decision.receipt_id, response)  # type: ignore[union-attr]


def test_same_key_other_body_conflicts(tmp_path: Path, clock: FakeClock) -> None:
    """The same key with a different body is a conflict, before or after printing."""
    buffer = open_buffer(tmp_path, clock)
    buffer.begin_accept(key="k1", receipt=receipt(), capacity=100)
    assert isinstance(buffer.begin_accept(key="k1", receipt=receipt(20000), capacity=100), s.Conflict)


def test_unfinished_key_is_in_flight(tmp_path: Path, clock: FakeClock) -> None:
    """A key stored but not yet printed is in flight; nothing else is stored for it."""
    buffer = open_buffer(tmp_path, clock)
    buffer.begin_accept(key="k1", receipt=receipt(), capacity=100)
    assert isinstance(buffer.begin_accept(key="k1", receipt=receipt(), capacity=100), s.InFlight)
    assert buffer.counts().accepted == 1


def test_capacity_counts_unsynced(tmp_path: Path, clock: FakeClock) -> None:
    """At capacity a new key is refused and nothing is stored; print failures do not count."""
    buffer = open_buffer(tmp_path, clock)
    driver = FakeDriver()
    print_one(buffer, driver, "a")
    failed = buffer.begin_accept(key="b", receipt=receipt(), capacity=2)
    assert isinstance(failed, s.Fresh)
    buffer.fail_print(failed.receipt_id, code="paper_out", reason="paper out")
    print_one(buffer, driver, "c")
    assert buffer.begin_accept(key="d", receipt=receipt(), capacity=2) == s.Full(unsynced=2, capacity=2)
    assert buffer.get_by_key("d") is None


def test_failed_print_is_retried_by_replay(tmp_path: Path, clock: FakeClock) -> None:
    """After a print failure, the same key and body prints again under the same receipt id."""
    buffer = open_buffer(tmp_path, clock)
    first = buffer.begin_accept(key="k", receipt=receipt(), capacity=10)
    assert isinstance(first, s.Fresh)
    buffer.fail_print(first.receipt_id, code="paper_out", reason="paper out")
    assert buffer.begin_accept(key="k", receipt=receipt(), capacity=10) == s.Retry(first.receipt_id)


def test_counts_match_rows_after_reopen(tmp_path: Path, clock: FakeClock) -> None:
    """Trigger-kept counts equal COUNT(*) by state, also after reopening."""
    buffer = open_buffer(tmp_path, clock)
    driver = FakeDriver()
    for i in range(7):
        print_one(buffer, driver, f"k{i}")
    buffer.begin_accept(key="x", receipt=receipt(), capacity=100)
    buffer.close()
    buffer = open_buffer(tmp_path, clock)
    counts = buffer.counts()
    with buffer.db.read() as conn:
        actual = dict(conn.execute("SELECT state, COUNT(*) FROM receipts GROUP BY state").fetchall())
    assert (counts.pending, counts.accepted) == (actual["pending"], actual["accepted"]) == (7, 1)
    assert counts.unsynced == 8


def test_hlc_is_monotonic_across_clock_set_back_and_reopen(tmp_path: Path, clock: FakeClock) -> None:
    """Stamps keep increasing when the wall clock is set back and the buffer reopened."""
    buffer = open_buffer(tmp_path, clock)
    driver = FakeDriver()
    print_one(buffer, driver, "a")
    buffer.close()
    clock.set_wall(clock.time() - 3600)
    buffer = open_buffer(tmp_path, clock)
    print_one(buffer, driver, "b")
    a, b = buffer.get_by_key("a"), buffer.get_by_key("b")
    assert a is not None and b is not None and a.hlc is not None and b.hlc is not None
    assert b.hlc > a.hlc
    assert b.hlc == hlc.HLCStamp(a.hlc.wall_ms, 1)
    assert buffer.hlc_high_water() == b.hlc


def test_every_transition_is_audited(tmp_path: Path, clock: FakeClock) -> None:
    """The events table records a receipt's creation and each change of state."""
    buffer = open_buffer(tmp_path, clock)
    print_one(buffer, FakeDriver(), "a")
    stored = buffer.get_by_key("a")
    assert stored is not None
    moves = [(e["from_state"], e["to_state"]) for e in buffer.events(receipt_id=stored.receipt_id)]
    assert moves == [(None, "accepted"), ("accepted", "pending")]


def test_in_flight_lists_unfinished(tmp_path: Path, clock: FakeClock) -> None:
    """Receipts stored but not printed are listed for reconciliation, oldest first."""
    buffer = open_buffer(tmp_path, clock)
    buffer.begin_accept(key="a", receipt=receipt(), capacity=10)
    print_one(buffer, FakeDriver(), "b")
    buffer.begin_accept(key="c", receipt=receipt(), capacity=10)
    assert [r.idempotency_key for r in buffer.in_flight()] == ["a", "c"]


def test_oldest_unsynced_age(tmp_path: Path, clock: FakeClock) -> None:
    """The oldest unsynced receipt's creation time is reported."""
    buffer = open_buffer(tmp_path, clock)
    assert buffer.oldest_unsynced_at() is None
    driver = FakeDriver()
    start = clock.time()
    print_one(buffer, driver, "a")
    clock.advance(60)
    print_one(buffer, driver, "b")
    assert buffer.oldest_unsynced_at() == start


def test_retention_removes_only_old_synced(tmp_path: Path, clock: FakeClock) -> None:
    """Retention deletes synced receipts older than the cutoff and never an unsynced one, however old."""
    buffer = open_buffer(tmp_path, clock)
    driver = FakeDriver()
    for key in ("old-synced", "old-pending", "new-synced"):
        print_one(buffer, driver, key)
        if key == "old-synced":
            clock.advance(1)
    with buffer.db.write() as conn:
        conn.execute("UPDATE receipts SET state = 'synced' WHERE idempotency_key IN ('old-synced', 'new-synced')")
        conn.execute("UPDATE receipts SET created_at = created_at - 100 WHERE idempotency_key LIKE 'old-%'")
    removed = buffer.purge_synced(older_than=clock.time() - 50)
    assert removed == 1
    assert buffer.get_by_key("old-synced") is None
    assert buffer.get_by_key("old-pending") is not None
    assert buffer.get_by_key("new-synced") is not None
    assert (buffer.counts().synced, buffer.counts().pending) == (1, 1)


def test_retention_removes_a_former_dead_letter_with_its_history(tmp_path: Path, clock: FakeClock) -> None:
    """A receipt that went DLQ → requeue → synced is purged with its DLQ history row (no foreign-key error)."""
    from kkt_adapter.buffer.outbox import Outbox, Rejected

    buffer = open_buffer(tmp_path, clock)
    print_one(buffer, FakeDriver(), "k")
    outbox = Outbox(buffer.db, clock=clock, max_attempts=20, hlc_max_offset_ms=0)
    (claim,) = outbox.claim_due("w", limit=1, lease_seconds=30)
    outbox.record([Rejected(claim, "bad")])
    assert outbox.requeue(claim.receipt_id)
    with buffer.db.write() as conn:
        conn.execute("UPDATE receipts SET state = 'synced', created_at = 0")
    assert buffer.purge_synced(older_than=clock.time()) == 1
    with buffer.db.read() as conn:
        assert conn.execute("SELECT COUNT(*) FROM dlq").fetchone()[0] == 0


def test_closed_buffer_refuses_writes_and_a_cancelled_job_does_not_stop_the_writer(
    tmp_path: Path, clock: FakeClock
) -> None:
    """After close, a write raises at once instead of hanging; a job whose caller gave up is skipped, and later
    jobs still commit."""
    import threading

    from kkt_adapter.buffer.connection import StorageError

    buffer = open_buffer(tmp_path, clock)
    started, release = threading.Event(), threading.Event()

    def slow(conn: object) -> None:
        started.set()
        release.wait(5)

    blocker = buffer.db.submit(slow)
    started.wait(5)
    abandoned = buffer.db.submit(lambda conn: 1)
    assert abandoned.cancel()
    release.set()
    blocker.result(5)
    assert buffer.db.run(lambda conn: 2) == 2
    buffer.close()
    with pytest.raises(StorageError, match="closed"):
        buffer.db.submit(lambda conn: 3)
