"""Power loss: SIGKILL at random instants under concurrent sales and sync, restarting each time."""

from __future__ import annotations

import random
from pathlib import Path

from e2e.support import FAST, Spawn, buffer_status, device_journal, sigkills_under_tills, wait_for
from kkt_emulators.device import DOC_RECEIPT
from kkt_emulators.ofd import MockOFDServer

KILLS = 20


def test_sigkill_at_random_instants_loses_and_duplicates_nothing(
    spawn: Spawn, mock_ofd_server: MockOFDServer, tmp_path: Path
) -> None:
    """Scenario 12 — Power loss: 20 SIGKILLs at random instants under concurrent sales and sync, restarting each
    time → every acknowledged receipt reaches the OFD exactly once, FD numbers are unique and gap-free, and nothing
    is stuck (no accepted, pending or dead-lettered receipt remains)."""
    rng = random.Random(20261123)
    mock_ofd_server.set_latency(5, jitter_ms=10)  # sends take a while, so some kills land mid-send
    env = FAST | {
        "KKT_OFD_API_URL": mock_ofd_server.url,
        "KKT_EMULATOR_PRINT_DELAY_MS": "1",
        "KKT_SYNC_LEASE_SECONDS": "0.5",
        "KKT_OFD_TIMEOUT": "0.2",
        "KKT_BUFFER_MAX_SIZE": "100000",
    }
    adapter = spawn(env)
    acked = sigkills_under_tills(adapter, kills=KILLS, rng=rng)
    assert len(acked) > KILLS

    wait_for(lambda: buffer_status(adapter.url)["current_queued"] == 0, timeout=60, what="all delivered")
    status = buffer_status(adapter.url)
    assert (status["accepted"], status["pending"], status["dlq_size"], status["failed"]) == (0, 0, 0, 0)

    documents = device_journal(tmp_path / "data")
    numbers = [d.fd_number for d in documents]
    assert numbers == list(range(1, len(numbers) + 1)), "FD numbers unique and gap-free"
    receipts = [d for d in documents if d.doc_type == DOC_RECEIPT]
    keys = [d.idempotency_key for d in receipts]
    assert len(keys) == len(set(keys)), "no sale printed twice"
    fd_by_key = {d.idempotency_key: d.fd_number for d in receipts}
    for key, answer in acked.items():
        assert answer["fiscal_doc"]["fiscal_doc_number"] == fd_by_key[key], f"{key}: answer and journal differ"

    received = mock_ofd_server.get_received_receipts()
    sent_ids = [body["receipt_id"] for body in received]
    assert len(sent_ids) == len(set(sent_ids)), "no receipt stored twice at the OFD"
    acked_ids = {answer["receipt_id"] for answer in acked.values()}
    assert acked_ids <= set(sent_ids), "every acknowledged receipt reached the OFD"
    assert len(sent_ids) == len(receipts), "every printed receipt reached the OFD, once"
    stats = mock_ofd_server.get_stats()
    (fn,) = stats["fn"].values()
    assert (stats["unique_documents"], stats["conflicts"], fn["gaps"]) == (len(receipts), 0, [])
    print(f"\n{KILLS} kills: {len(acked)} sales acknowledged, {stats['duplicates']} resends answered as duplicates")
