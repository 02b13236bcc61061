"""Phase 2 against a failing OFD, real processes over loopback: offline, recovery, cascade prevention, DLQ, lost
replies."""

from __future__ import annotations

import time
from pathlib import Path

import httpx
import pytest

from e2e.support import FAST, Spawn, all_synced, breaker, buffer_status, holds_for, print_receipt, receipt, wait_for
from kkt_emulators.device import EmulatedKKT
from kkt_emulators.ofd import MockOFDServer


def test_offline_receipts_print_and_breaker_stops_calls(spawn: Spawn, mock_ofd_server: MockOFDServer) -> None:
    """Scenario 2 — Offline: with the OFD down receipts still print and stay pending with growing attempts; the
    breaker opens after 5 failures and the OFD's call count stops growing while it is open."""
    mock_ofd_server.set_permanent_failure(True)
    # One send at a time makes the count exact (with concurrency c, up to c - 1 sends in flight also land).
    env = FAST | {
        "KKT_OFD_API_URL": mock_ofd_server.url,
        "KKT_SYNC_CONCURRENCY": "1",
        "KKT_CIRCUIT_BREAKER_TIMEOUT": "60",
        "KKT_CIRCUIT_BREAKER_RECOVERY_TIMEOUT": "60",
    }
    adapter = spawn(env)
    ids = [print_receipt(adapter.url, i)["receipt_id"] for i in range(3)]
    seen_attempts: list[int] = []

    def opened() -> bool:
        seen_attempts.append(sum(receipt(adapter.url, i)["sync"]["attempts"] for i in ids))
        return breaker(adapter.url)["state"] == "OPEN"

    wait_for(opened, what="breaker open")
    assert seen_attempts == sorted(seen_attempts), "attempts only grow"
    assert mock_ofd_server.get_call_count() == 5
    holds_for(lambda: mock_ofd_server.get_call_count() == 5, seconds=0.4, what="no OFD call while open")
    states = [receipt(adapter.url, i) for i in ids]
    assert {s["state"] for s in states} == {"pending"}
    assert sum(s["sync"]["attempts"] for s in states) == 5
    assert all("503" in (s["sync"]["last_error"] or "") for s in states if s["sync"]["attempts"])
    status = buffer_status(adapter.url)
    assert (status["pending"], status["synced"], status["network_status"]) == (3, 0, "offline")
    health = httpx.get(adapter.url + "/v1/health", timeout=5).json()
    assert health["status"] == "degraded"
    assert print_receipt(adapter.url, 99)["status"] == "printed", "Phase 1 never depends on the OFD"
    assert mock_ofd_server.get_call_count() == 5


def test_recovery_syncs_everything_on_its_own_and_closes_breaker(spawn: Spawn, mock_ofd_server: MockOFDServer) -> None:
    """Scenario 3 — Recovery: after an outage that opened the breaker, the OFD comes back and every pending receipt
    syncs on its own; the breaker closes; nothing is duplicated."""
    mock_ofd_server.set_permanent_failure(True)
    adapter = spawn(FAST | {"KKT_OFD_API_URL": mock_ofd_server.url})
    ids = [print_receipt(adapter.url, i)["receipt_id"] for i in range(8)]
    wait_for(lambda: breaker(adapter.url)["times_opened"] >= 1, what="breaker opened")
    mock_ofd_server.set_success()
    wait_for(lambda: all_synced(adapter.url, ids), what="all synced")
    wait_for(lambda: breaker(adapter.url)["state"] == "CLOSED", what="breaker closed")
    stats = mock_ofd_server.get_stats()
    assert (stats["unique_documents"], stats["duplicates"]) == (8, 0)
    assert buffer_status(adapter.url)["network_status"] == "online"


def test_recovery_through_manual_sync(spawn: Spawn, mock_ofd_server: MockOFDServer, tmp_path: Path) -> None:
    """Scenario 3 — Recovery: POST /v1/kkt/buffer/sync alone delivers every pending receipt once the OFD is back,
    and closes the breaker (the syncing process's own worker sleeps through it: a 30 s poll interval, and the sales
    are printed by another process on the same buffer, so nothing wakes it)."""
    mock_ofd_server.set_permanent_failure(True)
    # The breaker opens at the sixth failure: at five, on a loaded machine the last send can find it open already
    # (the other sends' failures are handled before its turn comes) and is released unsent.
    syncer = spawn(
        FAST
        | {"KKT_OFD_API_URL": mock_ofd_server.url, "KKT_HLC_SYNC_INTERVAL": "30", "KKT_CIRCUIT_BREAKER_THRESHOLD": "6"},
        data_dir=tmp_path / "data",
    )
    wait_for(lambda: httpx.get(syncer.url + "/v1/kkt/worker/status").json()["state"] == "idle", what="worker idle")
    till = spawn({"KKT_SYNC_ENABLED": "false"}, data_dir=tmp_path / "data")
    ids = [print_receipt(till.url, i)["receipt_id"] for i in range(6)]

    def manual_pass() -> dict[str, int]:
        result: dict[str, int] = httpx.post(syncer.url + "/v1/kkt/buffer/sync", timeout=10).json()
        return result

    failed = manual_pass()
    assert failed["claimed"] == 6 and failed["synced"] == 0 and failed["retried"] == 6, repr(failed)
    assert failed["circuit_breaker"]["state"] == "OPEN"  # type: ignore[index]
    mock_ofd_server.set_success()
    synced = 0
    deadline = time.monotonic() + 10
    while synced < 6 and time.monotonic() < deadline:
        synced += manual_pass()["synced"]
        time.sleep(0.02)
    assert synced == 6, "the manual passes synced every receipt"
    assert all_synced(syncer.url, ids)
    assert breaker(syncer.url)["state"] == "CLOSED"
    worker = httpx.get(syncer.url + "/v1/kkt/worker/status").json()
    assert worker["state"] == "idle" and worker["next_wake_at"] - time.time() > 15, "its own loop slept throughout"
    assert mock_ofd_server.get_stats()["duplicates"] == 0


def test_slow_failing_ofd_does_not_slow_sales(spawn: Spawn, mock_ofd_server: MockOFDServer) -> None:
    """Scenario 4 — Cascade prevention: sales are answered while a send to the OFD hangs (no accept waits for the
    OFD); then 20 sales while the OFD fails slowly (300 ms, then 503) are all printed, and the OFD is called about
    threshold times (5, plus at most the sends already in flight), not 20."""
    adapter = spawn(
        FAST
        | {
            "KKT_OFD_API_URL": mock_ofd_server.url,
            "KKT_CIRCUIT_BREAKER_TIMEOUT": "60",
            "KKT_CIRCUIT_BREAKER_RECOVERY_TIMEOUT": "60",
            "KKT_OFD_TIMEOUT": "10",
            "KKT_SYNC_LEASE_SECONDS": "30",
        }
    )
    mock_ofd_server.hold()
    print_receipt(adapter.url, 0, key="held")
    wait_for(lambda: mock_ofd_server.get_held_count() == 1, what="the first send hanging at the OFD")
    for i in range(5):
        print_receipt(adapter.url, i, key=f"while-held-{i}")
    assert mock_ofd_server.get_held_count() == 1, "five sales were answered while the first send still hung"
    mock_ofd_server.release()
    wait_for(lambda: buffer_status(adapter.url)["synced"] == 6, what="warm-up synced")
    before = mock_ofd_server.get_call_count()

    mock_ofd_server.set_latency(300)
    mock_ofd_server.set_permanent_failure(True)
    for i in range(20):
        print_receipt(adapter.url, i)
    wait_for(lambda: breaker(adapter.url)["state"] == "OPEN", what="breaker open")
    concurrency = 4
    calls = mock_ofd_server.get_call_count() - before
    assert 5 <= calls <= 5 + concurrency - 1, calls
    holds_for(lambda: mock_ofd_server.get_call_count() - before == calls, seconds=0.4, what="no call while open")
    assert buffer_status(adapter.url)["pending"] == 20


def test_dead_letters_and_requeue(spawn: Spawn, mock_ofd_server: MockOFDServer, tmp_path: Path) -> None:
    """Scenario 5 — DLQ: a permanent 503 with KKT_SYNC_MAX_ATTEMPTS=3 dead-letters a receipt after 3 attempts; a
    4xx rejection dead-letters one at once; requeued after the OFD recovers, both sync."""
    mock_ofd_server.set_permanent_failure(True)
    adapter = spawn(
        FAST
        | {
            "KKT_OFD_API_URL": mock_ofd_server.url,
            "KKT_SYNC_MAX_ATTEMPTS": "3",
            "KKT_CIRCUIT_BREAKER_THRESHOLD": "100",
        }
    )
    exhausted = print_receipt(adapter.url, 1)["receipt_id"]
    wait_for(lambda: receipt(adapter.url, exhausted)["state"] == "dlq", what="DLQ after 3 attempts")
    assert mock_ofd_server.get_call_count() == 3
    assert receipt(adapter.url, exhausted)["sync"]["attempts"] == 3

    # A validating OFD with the wrong secret for this FN rejects the document itself (4xx): no retry helps.
    with EmulatedKKT(tmp_path / "data" / "kkt", print_delay_ms=0) as kkt:
        registration = kkt.registration
    mock_ofd_server.set_success()
    mock_ofd_server.validate = True
    mock_ofd_server.register_fn(registration.fn_number, b"not the secret")
    calls = mock_ofd_server.get_call_count()
    rejected = print_receipt(adapter.url, 2)["receipt_id"]
    wait_for(lambda: receipt(adapter.url, rejected)["state"] == "dlq", what="rejection to DLQ")
    assert receipt(adapter.url, rejected)["sync"]["attempts"] == 1
    assert mock_ofd_server.get_call_count() == calls + 1

    letters = {item["receipt_id"]: item for item in httpx.get(adapter.url + "/v1/kkt/dlq").json()["items"]}
    assert set(letters) == {exhausted, rejected}
    assert "3 attempts" in letters[exhausted]["reason"] and "503" in letters[exhausted]["reason"]
    assert "rejected by the OFD" in letters[rejected]["reason"]
    assert buffer_status(adapter.url)["dlq_size"] == 2

    mock_ofd_server.register_fn(registration.fn_number, registration.fn_secret)
    for receipt_id in (exhausted, rejected):
        assert httpx.post(f"{adapter.url}/v1/kkt/dlq/{receipt_id}/requeue").status_code == 200
    wait_for(lambda: all_synced(adapter.url, [exhausted, rejected]), what="requeued receipts synced")
    assert buffer_status(adapter.url)["dlq_size"] == 0
    assert (mock_ofd_server.get_stats()["unique_documents"], mock_ofd_server.get_stats()["duplicates"]) == (2, 0)


@pytest.mark.parametrize("mode", ["drop", "503"])
def test_lost_reply_is_resent_with_the_same_key(spawn: Spawn, mock_ofd_server: MockOFDServer, mode: str) -> None:
    """Scenario 13 — Lost reply: the OFD stores the document but the reply is lost (connection dropped, or a 503
    after processing); the adapter resends with the same key, the OFD counts one document and one duplicate, and
    the receipt ends synced with the first acknowledgement."""
    mock_ofd_server.set_lose_reply(1, mode=mode)  # type: ignore[arg-type]
    adapter = spawn(FAST | {"KKT_OFD_API_URL": mock_ofd_server.url})
    printed = print_receipt(adapter.url, 1)
    wait_for(lambda: receipt(adapter.url, printed["receipt_id"])["state"] == "synced", what="synced")
    stats = mock_ofd_server.get_stats()
    assert (stats["calls"], stats["unique_documents"], stats["duplicates"], stats["lost_replies"]) == (2, 1, 1, 1)
    assert stats["conflicts"] == 0, "the resend carried the same document"
    stored = receipt(adapter.url, printed["receipt_id"])
    # A dropped connection is resent at once within the same attempt; a 503 waits for the backoff (a new attempt).
    assert stored["sync"]["attempts"] == (1 if mode == "drop" else 2)
    assert stored["sync"]["ofd_id"] == "OFD-000001", "the first acknowledgement, returned again"
