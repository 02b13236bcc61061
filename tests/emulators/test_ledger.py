"""The OFD's memory: per-FN order and gaps, dedupe eviction, the bounded journal, flat memory at volume."""

from __future__ import annotations

import tracemalloc

import pytest

from kkt_clock import ManualClock
from kkt_emulators.ledger import Ack, DedupeLedger, FnSequence, Journal
from kkt_emulators.ofd import OFDCore


@pytest.mark.parametrize(
    ("arrivals", "out_of_order", "gaps"),
    [
        ([1, 2, 3], 0, []),
        ([1, 3], 0, [[2, 2]]),
        ([1, 5], 0, [[2, 4]]),
        ([1, 5, 3], 1, [[2, 2], [4, 4]]),
        ([1, 5, 2, 3, 4], 3, []),
        ([5, 3], 1, [[4, 4]]),
        ([5, 4], 1, []),
        ([10, 12, 1], 1, [[2, 9], [11, 11]]),
        ([1, 2, 2], 1, []),
    ],
)
def test_fn_sequence_order_and_gaps(arrivals: list[int], out_of_order: int, gaps: list[list[int]]) -> None:
    """Arrivals below the highest FD seen are out of order; missing FD numbers are reported as ranges."""
    sequence = FnSequence()
    for fd in arrivals:
        sequence.arrive(fd)
    assert sequence.out_of_order == out_of_order
    assert sequence.gaps() == gaps
    assert sequence.as_dict()["missing"] == sum(high - low + 1 for low, high in gaps)
    assert sequence.first_fd == min(arrivals)
    assert sequence.last_fd == max(arrivals)


def test_dedupe_ledger_finds_a_fiscal_document_by_fn_fd_and_other_bodies_by_key() -> None:
    """A fiscal document is found by its FN and FD number, whatever the key; a body without them by its key."""
    ledger = DedupeLedger(10)
    ack = Ack(1, 0, b"d", "key", ("fn", 1))
    ledger.remember(ack)
    assert ledger.find("key", None) is ack
    assert ledger.find("other", ("fn", 1)) is ack
    assert ledger.find(None, ("fn", 1)) is ack
    assert ledger.find("other", ("fn", 2)) is None
    assert ledger.find("key", ("fn", 2)) is None, "another fiscal document under a known key is new"
    assert ledger.find("key", ("other-fn", 1)) is None
    assert ledger.holder_of("key") is ack
    assert ledger.holder_of("other") is None


def test_a_reused_key_points_to_its_latest_document() -> None:
    """After a key is reused, it names the newer document; evicting the older one leaves the key in place."""
    ledger = DedupeLedger(1)
    older, newer = Ack(1, 0, b"", "key", ("fn", 1)), Ack(2, 0, b"", "key", ("fn", 2))
    ledger.remember(older)
    ledger.remember(newer)
    assert ledger.holder_of("key") is newer
    assert ledger.find(None, ("fn", 1)) is None
    assert ledger.find(None, ("fn", 2)) is newer


def test_fn_sequence_counts_documents_by_type() -> None:
    """Each arrival is counted under its type; the statistics list types in numeric order, "unknown" last."""
    sequence = FnSequence()
    for fd, doc_type in ((1, "1"), (2, "2"), (3, "3"), (4, "31"), (5, "3"), (6, "5"), (7, "unknown"), (8, "2")):
        sequence.arrive(fd, doc_type)
    stats = sequence.as_dict()
    assert stats["by_type"] == {"1": 1, "2": 2, "3": 2, "5": 1, "31": 1, "unknown": 1}
    assert list(stats["by_type"]) == ["1", "2", "3", "5", "31", "unknown"]
    assert (stats["documents"], stats["gaps"]) == (8, [])


def test_dedupe_ledger_forgets_the_oldest_beyond_capacity() -> None:
    """With capacity 2 the third document evicts the first one from both indexes."""
    ledger = DedupeLedger(2)
    for seq in (1, 2, 3):
        ledger.remember(Ack(seq, 0, b"", f"k{seq}", ("fn", seq)))
    assert len(ledger) == 2
    assert ledger.find("k1", ("fn", 1)) is None
    assert ledger.find("k3", None) is not None


def test_journal_keeps_the_last_items_and_counts_all() -> None:
    """A journal of size 3 keeps the last three payloads and counts every one."""
    journal = Journal(3)
    for n in range(10):
        journal.append({"n": n})
    assert [item["n"] for item in journal] == [7, 8, 9]
    assert (journal.total, len(journal), journal.size) == (10, 3, 3)


def test_journal_of_size_zero_only_counts() -> None:
    """``journal_size=0`` keeps nothing and still counts."""
    journal = Journal(0)
    journal.append({})
    assert (len(journal), journal.total) == (0, 1)


def test_memory_stays_flat_over_100_000_documents() -> None:
    """100,000 distinct documents through the OFD core: journal and ledger stay at their bounds, memory flat."""
    core = OFDCore(clock=ManualClock(), journal_size=1_000, ledger_size=1_000)

    def submit(start: int, count: int) -> None:
        for n in range(start, start + count):
            body = {"receipt_id": f"r-{n}", "fiscal_document": {"1041": "9999078900001234", "1040": n, "1020": n}}
            core.submit(body, f"key-{n}")

    submit(0, 80_000)
    tracemalloc.start()  # traced only at the end: tracing slows every allocation down
    try:
        submit(80_000, 5_000)
        after_warmup, _ = tracemalloc.get_traced_memory()
        submit(85_000, 15_000)
        after_all, _ = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    stats = core.stats()
    assert stats["unique_documents"] == 100_000
    assert stats["journal"]["kept"] == 1_000
    assert stats["ledger"]["kept"] == 1_000
    assert after_all - after_warmup < 64 * 1024
