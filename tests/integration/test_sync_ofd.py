"""Phase 2 against the mock OFD over real HTTP: delivery, outage, recovery, DLQ, lost replies, validation."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from kkt_adapter.api.app import create_app
from kkt_adapter.buffer import Buffer
from kkt_adapter.config import load_settings
from kkt_adapter.testing import FakeClock, bodies, wait_for
from kkt_emulators.device import EmulatedKKT
from kkt_emulators.ofd import MockOFDServer
from ready_device import ready_device

SALE: dict[str, Any] = bodies.sale()

FAST = {
    "KKT_EMULATOR_PRINT_DELAY_MS": "0",
    "KKT_HLC_SYNC_INTERVAL": "0.05",
    "KKT_SYNC_BACKOFF_BASE": "0.01",
    "KKT_SYNC_BACKOFF_MAX": "0.05",
    "KKT_CIRCUIT_BREAKER_TIMEOUT": "0.2",
    "KKT_CIRCUIT_BREAKER_RECOVERY_TIMEOUT": "0.4",
}


@pytest.fixture
def make_client(tmp_path: Path, mock_ofd_server: MockOFDServer) -> Iterator[Callable[..., TestClient]]:
    clients: list[TestClient] = []

    def make(**env: str) -> TestClient:
        values = {"KKT_DATA_DIR": str(tmp_path / "data"), "KKT_OFD_API_URL": mock_ofd_server.url} | FAST | env
        ready_device(tmp_path / "data" / "kkt")
        client = TestClient(create_app(load_settings(values)))
        client.__enter__()
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.__exit__(None, None, None)


def post(client: TestClient, key: str) -> dict[str, Any]:
    response = client.post("/v1/kkt/receipt", json=SALE, headers={"Idempotency-Key": key})
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def state_of(client: TestClient, receipt_id: str) -> dict[str, Any]:
    body: dict[str, Any] = client.get(f"/v1/kkt/receipt/{receipt_id}").json()
    return body


def test_printing_wakes_the_worker(make_client: Callable[..., TestClient], mock_ofd_server: MockOFDServer) -> None:
    """With a healthy OFD and an hour's poll interval, a receipt is synced at once: printing wakes the worker."""
    client = make_client(KKT_HLC_SYNC_INTERVAL="3600")
    wait_for(lambda: client.get("/v1/kkt/worker/status").json()["state"] == "idle", what="the worker asleep")
    printed = post(client, "k1")
    wait_for(lambda: state_of(client, printed["receipt_id"])["state"] == "synced", timeout=10, what="sync")
    (received,) = mock_ofd_server.get_received_receipts()
    document = received["fiscal_document"]
    assert received["receipt_id"] == printed["receipt_id"]
    assert document["1040"] == printed["fiscal_doc"]["fiscal_doc_number"]
    assert str(document["1077"]) == printed["fiscal_doc"]["fiscal_sign"]
    assert document["1041"] == printed["fiscal_doc"]["fn_number"]
    receipt = state_of(client, printed["receipt_id"])
    assert receipt["sync"]["ofd_id"].startswith("OFD-")
    assert receipt["sync"]["hlc_server_ms"] is not None
    assert client.get("/v1/kkt/buffer/status").json()["network_status"] == "online"


def test_outage_opens_breaker_and_stops_calls(
    tmp_path: Path, make_client: Callable[..., TestClient], mock_ofd_server: MockOFDServer
) -> None:
    """With the OFD down, receipts still print and stay pending; after 5 failures the breaker opens and calls stop;
    the transition is in the audit trail."""
    mock_ofd_server.set_permanent_failure(True)
    # One send at a time makes the count exact; with concurrency c, up to c-1 sends already in flight also land.
    client = make_client(
        KKT_CIRCUIT_BREAKER_TIMEOUT="60", KKT_CIRCUIT_BREAKER_RECOVERY_TIMEOUT="60", KKT_SYNC_CONCURRENCY="1"
    )
    ids = [post(client, f"k{i}")["receipt_id"] for i in range(3)]
    wait_for(lambda: client.get("/v1/health").json()["components"]["circuit_breaker"]["state"] == "OPEN", what="open")
    calls = mock_ofd_server.get_call_count()
    assert calls == 5
    time.sleep(0.3)  # several poll intervals: the breaker keeps the OFD untouched
    assert mock_ofd_server.get_call_count() == calls
    states = [state_of(client, i) for i in ids]
    assert {s["state"] for s in states} == {"pending"}
    assert sum(s["sync"]["attempts"] for s in states) == 5
    status = client.get("/v1/kkt/buffer/status").json()
    assert status["network_status"] == "offline"
    health = client.get("/v1/health")
    assert health.status_code == 200
    assert health.json()["status"] == "degraded"
    assert post(client, "after-open")["status"] == "printed", "Phase 1 never depends on the OFD"
    events = Buffer(tmp_path / "data" / "buffer.sqlite3", clock=FakeClock())
    try:
        wait_for(lambda: any(e["kind"] == "circuit_breaker" for e in events.events()), what="the breaker's event")
        (opened,) = [e for e in events.events() if e["kind"] == "circuit_breaker"]
        assert opened["detail"].startswith("CLOSED -> OPEN")
    finally:
        events.close()


def test_recovery_syncs_everything_and_closes_breaker(
    make_client: Callable[..., TestClient], mock_ofd_server: MockOFDServer
) -> None:
    """After an outage every pending receipt syncs on its own, and the breaker closes."""
    mock_ofd_server.set_permanent_failure(True)
    client = make_client()
    ids = [post(client, f"k{i}")["receipt_id"] for i in range(6)]
    wait_for(lambda: client.get("/v1/kkt/worker/status").json()["circuit_breaker"]["times_opened"] >= 1, what="open")
    mock_ofd_server.set_success()
    wait_for(lambda: all(state_of(client, i)["state"] == "synced" for i in ids), what="all synced")
    wait_for(lambda: client.get("/v1/health").json()["components"]["circuit_breaker"]["state"] == "CLOSED")
    assert mock_ofd_server.get_stats()["unique_documents"] == 6
    assert mock_ofd_server.get_stats()["duplicates"] == 0


def test_manual_sync_runs_a_pass(make_client: Callable[..., TestClient], mock_ofd_server: MockOFDServer) -> None:
    """POST /v1/kkt/buffer/sync runs a pass through the same claiming and returns counts."""
    client = make_client(KKT_HLC_SYNC_INTERVAL="30")
    mock_ofd_server.hold()
    printed = post(client, "k1")
    wait_for(lambda: mock_ofd_server.get_held_count() == 1, what="worker's send held")
    assert client.post("/v1/kkt/buffer/sync").json()["claimed"] == 0, "the worker's lease keeps it from a resend"
    mock_ofd_server.release()
    wait_for(lambda: state_of(client, printed["receipt_id"])["state"] == "synced")
    mock_ofd_server.set_permanent_failure(True)
    post(client, "k2")
    time.sleep(0.05)
    mock_ofd_server.set_success()
    result = client.post("/v1/kkt/buffer/sync").json()
    assert {"claimed", "synced", "retried", "dead", "circuit_breaker"} <= set(result)
    assert mock_ofd_server.get_stats()["duplicates"] == 0


def test_lost_reply_is_resent_and_acknowledged_as_duplicate(
    make_client: Callable[..., TestClient], mock_ofd_server: MockOFDServer
) -> None:
    """When the OFD stores a document but the reply is lost, the resend with the same key is a duplicate ack."""
    mock_ofd_server.set_lose_reply(1)
    client = make_client()
    printed = post(client, "k1")
    wait_for(lambda: state_of(client, printed["receipt_id"])["state"] == "synced", what="sync")
    stats = mock_ofd_server.get_stats()
    assert (stats["unique_documents"], stats["duplicates"]) == (1, 1)
    assert state_of(client, printed["receipt_id"])["sync"]["attempts"] == 1, "a dropped connection is resent at once"


def test_dlq_after_max_attempts_and_requeue(
    make_client: Callable[..., TestClient], mock_ofd_server: MockOFDServer
) -> None:
    """With KKT_SYNC_MAX_ATTEMPTS=3 a receipt the OFD keeps failing lands in the DLQ; requeued, it syncs."""
    mock_ofd_server.set_permanent_failure(True)
    client = make_client(KKT_SYNC_MAX_ATTEMPTS="3", KKT_CIRCUIT_BREAKER_THRESHOLD="100")
    printed = post(client, "k1")
    wait_for(lambda: client.get("/v1/kkt/dlq").json()["count"] == 1, what="DLQ")
    (letter,) = client.get("/v1/kkt/dlq").json()["items"]
    assert letter["receipt_id"] == printed["receipt_id"]
    assert letter["attempts"] == 3
    assert "503" in letter["reason"]
    assert mock_ofd_server.get_call_count() == 3
    mock_ofd_server.set_success()
    assert client.post(f"/v1/kkt/dlq/{printed['receipt_id']}/requeue").status_code == 200
    wait_for(lambda: state_of(client, printed["receipt_id"])["state"] == "synced", what="sync after requeue")
    assert client.post("/v1/kkt/dlq/nope/requeue").status_code == 404


def test_validating_ofd_accepts_signed_documents_and_rejection_goes_to_dlq(
    tmp_path: Path, make_client: Callable[..., TestClient], mock_ofd_server: MockOFDServer
) -> None:
    """A validating OFD that knows the FN's secret accepts the adapter's documents; with a wrong secret it rejects
    them (4xx) and the receipt goes to the DLQ at once; requeued after the fix, it syncs."""
    client = make_client()
    with EmulatedKKT(tmp_path / "data" / "kkt", print_delay_ms=0) as kkt:
        registration = kkt.registration
    mock_ofd_server.validate = True
    mock_ofd_server.register_fn(registration.fn_number, registration.fn_secret)
    good = post(client, "good")
    wait_for(lambda: state_of(client, good["receipt_id"])["state"] == "synced", what="validated sync")
    mock_ofd_server.register_fn(registration.fn_number, b"not the secret")
    bad = post(client, "bad")
    wait_for(lambda: state_of(client, bad["receipt_id"])["state"] == "dlq", what="rejection to DLQ")
    assert state_of(client, bad["receipt_id"])["sync"]["attempts"] == 1
    mock_ofd_server.register_fn(registration.fn_number, registration.fn_secret)
    client.post(f"/v1/kkt/dlq/{bad['receipt_id']}/requeue")
    wait_for(lambda: state_of(client, bad["receipt_id"])["state"] == "synced", what="sync after requeue")
