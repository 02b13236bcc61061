"""POST /v1/kkt/receipt and its neighbours through the ASGI app, with an in-memory driver."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from kkt_adapter.api.app import create_app
from kkt_adapter.config import load_settings
from kkt_adapter.domain.errors import DeviceRefused, DeviceUnavailable
from kkt_adapter.testing import FakeClock, FakeDriver, bodies, wait_for
from kkt_emulators.fiscal import QR_PATTERN

SALE: dict[str, Any] = bodies.sale()


@pytest.fixture
def driver() -> FakeDriver:
    return FakeDriver()


def make_client(tmp_path: Path, driver: FakeDriver, **env: str) -> TestClient:
    base = {"KKT_DATA_DIR": str(tmp_path), "KKT_SYNC_ENABLED": "false"}  # Phase 1 alone: nothing leaves the buffer
    settings = load_settings(base | {f"KKT_{k.upper()}": v for k, v in env.items()})
    return TestClient(create_app(settings, clock=FakeClock(), driver=driver))


@pytest.fixture
def client(tmp_path: Path, driver: FakeDriver) -> Iterator[TestClient]:
    with make_client(tmp_path, driver) as c:
        yield c


def post(client: TestClient, key: str | None, body: dict[str, Any] = SALE) -> Any:
    headers = {"Idempotency-Key": key} if key is not None else {}
    return client.post("/v1/kkt/receipt", json=body, headers=headers)


def test_sale_is_printed_with_fiscal_data(client: TestClient) -> None:
    """A sale answers 200 with the architecture's response shape and an FNS QR string."""
    response = post(client, "k1")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "printed"
    assert set(body["fiscal_doc"]) == {
        "fiscal_doc_number",
        "fiscal_sign",
        "fiscal_datetime",
        "fn_number",
        "kkt_number",
        "qr_code_data",
        "shift_number",
        "receipt_number",
        "total",
    }
    assert body["fiscal_doc"]["total"] == 100
    assert QR_PATTERN.fullmatch(body["fiscal_doc"]["qr_code_data"])


def test_replay_is_identical_and_prints_once(client: TestClient, driver: FakeDriver) -> None:
    """The same key and body again returns the identical bytes without printing again."""
    first = post(client, "k1")
    second = post(client, "k1")
    assert second.status_code == 200
    assert second.content == first.content
    assert len(driver.printed) == 1


def test_same_key_other_body_is_422(client: TestClient, driver: FakeDriver) -> None:
    """The same key with a different body is refused with 422 and prints nothing more."""
    post(client, "k1")
    other = {**SALE, "pos_id": "POS-002"}
    response = post(client, "k1", other)
    assert response.status_code == 422
    assert response.json()["error"] == "idempotency_conflict"
    assert len(driver.printed) == 1


def test_concurrent_requests_with_one_key_print_once(client: TestClient, driver: FakeDriver) -> None:
    """Eight concurrent requests with one key print one document and all get the same answer."""
    driver.gate = threading.Event()
    with ThreadPoolExecutor(8) as pool:
        futures = [pool.submit(post, client, "same") for _ in range(8)]
        driver.gate.set()
        responses = [f.result() for f in futures]
    assert {r.status_code for r in responses} == {200}
    assert len({r.content for r in responses}) == 1
    assert len(driver.printed) == 1


def test_missing_idempotency_key_is_422(client: TestClient, driver: FakeDriver) -> None:
    """Without an Idempotency-Key header the request is refused, naming the header."""
    response = post(client, None)
    assert response.status_code == 422
    assert ["header", "Idempotency-Key"] in [e["loc"] for e in response.json()["detail"]]
    assert driver.printed == []


def test_invalid_body_stores_and_prints_nothing(client: TestClient, driver: FakeDriver) -> None:
    """A body whose sums do not balance is a 422 naming ``payments``; nothing is stored or printed."""
    body = {**SALE, "payments": [{"type": "cash", "amount": 90}]}
    response = post(client, "bad", body)
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "payments"]
    assert driver.printed == []
    status = client.get("/v1/kkt/buffer/status").json()
    assert status["current_queued"] == 0


def test_buffer_full_refuses_without_printing(tmp_path: Path, driver: FakeDriver) -> None:
    """At capacity the next sale gets 503 "Buffer full" with Retry-After, and nothing is printed."""
    with make_client(tmp_path, driver, buffer_max_size="3") as client:
        for i in range(3):
            assert post(client, f"k{i}").status_code == 200
        response = post(client, "k3")
        assert response.status_code == 503
        assert "Buffer full" in response.json()["detail"]
        assert int(response.headers["Retry-After"]) >= 1
        assert len(driver.printed) == 3
        assert post(client, "k0").status_code == 200, "a replay of a printed key still answers"


@pytest.mark.parametrize(("poll_interval", "retry_after"), [("0.05", "45"), ("600", "7")])
def test_buffer_full_retry_after_is_its_own_setting(
    tmp_path: Path, driver: FakeDriver, poll_interval: str, retry_after: str
) -> None:
    """Retry-After on a full buffer is KKT_BUFFER_FULL_RETRY_AFTER, whatever the sync poll interval is."""
    env = {"buffer_max_size": "1", "hlc_sync_interval": poll_interval, "buffer_full_retry_after": retry_after}
    with make_client(tmp_path, driver, **env) as client:
        assert post(client, "k0").status_code == 200
        response = post(client, "k1")
    assert (response.status_code, response.headers["Retry-After"]) == (503, retry_after)


@pytest.mark.parametrize(
    ("query", "field"),
    [("offset=99999999999999999999", "offset"), ("offset=-1", "offset"), ("limit=0", "limit"), ("limit=5000", "limit")],
)
def test_dlq_paging_out_of_range_is_a_clear_422(client: TestClient, query: str, field: str) -> None:
    """DLQ paging outside its range is refused with the field named, never a 500 and never silently clamped."""
    response = client.get(f"/v1/kkt/dlq?{query}")
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["query", field]


def test_device_fault_is_503_and_nothing_half_done(client: TestClient, driver: FakeDriver) -> None:
    """Paper out answers 503 with the device's reason; after paper is loaded the same key prints once."""
    driver.fault = DeviceRefused("paper_out", "paper out")
    response = post(client, "k1")
    assert response.status_code == 503
    assert response.json() == {
        "detail": "paper out",
        "error": "paper_out",
        "code": "paper_out",
        "message": "В ККТ закончилась бумага: заправьте бумагу.",
    }
    assert client.get("/v1/kkt/buffer/status").json()["failed"] == 1
    driver.fault = None
    retried = post(client, "k1")
    assert retried.status_code == 200
    assert len(driver.printed) == 1
    receipt = client.get(f"/v1/kkt/receipt/{retried.json()['receipt_id']}").json()
    assert receipt["state"] == "pending"


def test_unknown_outcome_is_settled_from_the_journal(client: TestClient, driver: FakeDriver) -> None:
    """When the driver fails after printing, the device's journal supplies the fiscal data: one print, 200."""
    driver.crash_after_print = TimeoutError("no answer from the device")
    response = post(client, "k1")
    assert response.status_code == 200
    assert len(driver.printed) == 1


def test_unreachable_journal_leaves_receipt_for_reconciliation(tmp_path: Path, driver: FakeDriver) -> None:
    """If neither print nor journal answer, the client gets 503 and the next start recovers the printed receipt."""
    driver.crash_after_print = TimeoutError("no answer")
    driver.fail_lookup = ConnectionError("port closed")
    with make_client(tmp_path, driver) as client:
        assert post(client, "k1").status_code == 503
    driver.crash_after_print = driver.fail_lookup = None
    with make_client(tmp_path, driver) as client:
        replay = post(client, "k1")
        assert replay.status_code == 200
        assert replay.json()["fiscal_doc"]["fiscal_doc_number"] == 1
    assert len(driver.printed) == 1


def test_get_receipt_and_404(client: TestClient) -> None:
    """A receipt is readable by id with its state and fiscal data; an unknown id is 404."""
    receipt_id = post(client, "k1").json()["receipt_id"]
    body = client.get(f"/v1/kkt/receipt/{receipt_id}").json()
    assert body["state"] == "pending"
    assert body["fiscal_doc"]["fiscal_doc_number"] == 1
    assert body["total"] == "100.00"
    assert client.get("/v1/kkt/receipt/nope").status_code == 404


def test_buffer_status_fields(client: TestClient) -> None:
    """Buffer status reports the architecture's fields."""
    post(client, "k1")
    status = client.get("/v1/kkt/buffer/status").json()
    assert status["total_capacity"] == 10_000
    assert status["current_queued"] == 1
    assert status["pending"] == 1
    assert status["percent_full"] == 0.01
    assert {"synced", "failed", "dlq_size", "oldest_unsynced_age_seconds", "network_status"} <= set(status)


def test_health_is_503_when_device_unusable(client: TestClient, driver: FakeDriver) -> None:
    """Health is healthy with a working device and unhealthy (503) with the device offline."""
    assert client.get("/v1/health").json()["status"] == "healthy"
    driver.fault = DeviceUnavailable("offline", "device offline")
    response = client.get("/v1/health")
    assert response.status_code == 503
    assert response.json()["status"] == "unhealthy"
    assert "device: device offline" in response.json()["reasons"]


def test_abandoned_key_is_settled_or_reprinted_after_a_minute(tmp_path: Path, driver: FakeDriver) -> None:
    """A key left `accepted` by another process is 409 at first; after a minute with nobody printing it, a resend
    prints it once; a key the device's journal already has is completed from the journal, not printed again."""
    from kkt_adapter.api.schemas import ReceiptIn
    from kkt_adapter.buffer import Buffer

    clock = FakeClock()
    settings = load_settings({"KKT_DATA_DIR": str(tmp_path), "KKT_SYNC_ENABLED": "false"})
    with TestClient(create_app(settings, clock=clock, driver=driver)) as client:
        other_process = Buffer(settings.buffer_path, clock=clock)
        receipt = ReceiptIn.model_validate(SALE).to_receipt()
        other_process.begin_accept(key="abandoned", receipt=receipt, capacity=100)
        other_process.begin_accept(key="printed-elsewhere", receipt=receipt, capacity=100)
        driver.print_receipt(receipt, idempotency_key="printed-elsewhere")
        other_process.close()
        busy = post(client, "abandoned")
        assert (busy.status_code, busy.headers["Retry-After"]) == (409, "1")
        from_journal = post(client, "printed-elsewhere")
        assert from_journal.status_code == 200
        assert len(driver.printed) == 1
        clock.advance(61)
        taken_over = post(client, "abandoned")
        assert taken_over.status_code == 200
        assert len(driver.printed) == 2
        assert post(client, "abandoned").content == taken_over.content


def test_same_key_other_body_while_in_flight_is_422(client: TestClient, driver: FakeDriver) -> None:
    """A different body under a key being printed right now is a conflict, never the other sale's fiscal data."""
    driver.gate = threading.Event()
    with ThreadPoolExecutor(2) as pool:
        first = pool.submit(post, client, "k1")
        fiscalizer = client.app.state.adapter.devices.primary.fiscalizer  # type: ignore[attr-defined]
        wait_for(lambda: fiscalizer._in_flight, timeout=5, what="the first sale printing")
        other = post(client, "k1", {**SALE, "pos_id": "POS-002"})
        driver.gate.set()
        assert first.result().status_code == 200
    assert other.status_code == 422
    assert other.json()["error"] == "idempotency_conflict"
    assert len(driver.printed) == 1


def test_receipt_the_device_refuses_is_422_not_503(client: TestClient, driver: FakeDriver) -> None:
    """A receipt whose content the KKT refuses is a 422 (resending will not help), and nothing is printed."""
    from kkt_adapter.domain.errors import DeviceRejectedReceipt

    driver.fault = DeviceRejectedReceipt("invalid_task", "the device refuses this receipt")
    response = post(client, "k1")
    assert response.status_code == 422
    assert response.json()["error"] == "invalid_task"
    assert driver.printed == []


def test_maintenance_settles_a_receipt_its_client_abandoned(tmp_path: Path, driver: FakeDriver) -> None:
    """A receipt printed by a process that died, whose client never resends, is settled from the device's journal by
    the periodic reconciliation (pending, so it reaches the OFD); one never printed becomes print_failed."""
    from kkt_adapter.api.schemas import ReceiptIn
    from kkt_adapter.buffer import Buffer

    clock = FakeClock()
    settings = load_settings({"KKT_DATA_DIR": str(tmp_path), "KKT_SYNC_ENABLED": "false"})
    with TestClient(create_app(settings, clock=clock, driver=driver)) as client:
        other_process = Buffer(settings.buffer_path, clock=clock)
        receipt = ReceiptIn.model_validate(SALE).to_receipt()
        printed = other_process.begin_accept(key="printed", receipt=receipt, capacity=100)
        never = other_process.begin_accept(key="never", receipt=receipt, capacity=100)
        driver.print_receipt(receipt, idempotency_key="printed")
        other_process.close()
        recovery = client.app.state.adapter.devices.primary.recovery  # type: ignore[attr-defined]
        assert client.portal.call(recovery.reconcile_stale).recovered == 0, "not stale yet"  # type: ignore[union-attr]
        clock.advance(61)
        report = client.portal.call(recovery.reconcile_stale)  # type: ignore[union-attr]
        assert (report.recovered, report.not_printed) == (1, 1)
        assert client.get(f"/v1/kkt/receipt/{printed.receipt_id}").json()["state"] == "pending"  # type: ignore[union-attr]
        assert client.get(f"/v1/kkt/receipt/{never.receipt_id}").json()["state"] == "print_failed"  # type: ignore[union-attr]
