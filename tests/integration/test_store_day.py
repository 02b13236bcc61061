"""A store's fiscal day on a fake clock, end to end through the HTTP API: the emulated KKT and a validating mock OFD.

Every document the FN signs (registration, shift openings, receipts, refunds, a correction, the Z report) reaches
the OFD once, in FD order, with no gap; the shift policy, the daily closing time, the 30-day rule and the FN's end
of life behave as a real KKT does.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from kkt_adapter.api.app import create_app
from kkt_adapter.config import load_settings
from kkt_adapter.testing import FakeClock, bodies, wait_for
from kkt_emulators import EmulatedKKT, MockOFDServer

HOUR = 3600
DAY = 24 * HOUR
FAST = {
    "KKT_EMULATOR_PRINT_DELAY_MS": "0",
    "KKT_HLC_SYNC_INTERVAL": "0.05",
    "KKT_SYNC_BACKOFF_BASE": "0.01",
    "KKT_SYNC_BACKOFF_MAX": "0.05",
    "KKT_CIRCUIT_BREAKER_TIMEOUT": "0.2",
    "KKT_CIRCUIT_BREAKER_RECOVERY_TIMEOUT": "0.4",
}


def sale(i: int, *, kind: str = "sale", qty: str = "1", **extra: Any) -> dict[str, Any]:
    price = Decimal(100 + i) + Decimal("0.50")
    total = (price * Decimal(qty)).quantize(Decimal("0.01"))
    line = bodies.item(f"Товар {i}", str(price), qty)
    return bodies.sale(str(total), items=[line], pos_id=f"POS-{i % 3}", type=kind, **extra)


Day = Callable[..., tuple[TestClient, FakeClock]]


@pytest.fixture
def day(tmp_path: Path, mock_ofd_server: MockOFDServer) -> Iterator[Day]:
    """Start the adapter on a fake clock (``day(**KKT_settings)``), registering the new FN with the OFD."""
    clients: list[TestClient] = []

    def start(**env: str) -> tuple[TestClient, FakeClock]:
        clock = FakeClock()
        data = tmp_path / "data"
        values = {"KKT_DATA_DIR": str(data), "KKT_OFD_API_URL": mock_ofd_server.url} | FAST | env
        client = TestClient(create_app(load_settings(values), clock=clock))
        client.__enter__()
        clients.append(client)
        with EmulatedKKT(data / "kkt", print_delay_ms=0, create=False) as kkt:
            mock_ofd_server.register_fn(kkt.registration.fn_number, kkt.registration.fn_secret)
        mock_ofd_server.validate = True
        return client, clock

    yield start
    for client in clients:
        client.__exit__(None, None, None)


def post(client: TestClient, key: str, body: dict[str, Any], path: str = "/v1/kkt/receipt") -> Any:
    return client.post(path, json=body, headers={"Idempotency-Key": key})


def all_synced(client: TestClient) -> bool:
    status = client.get("/v1/kkt/buffer/status").json()
    return bool(status["current_queued"] == 0 and status["synced"] > 0)


def test_a_store_day(day: Day, mock_ofd_server: MockOFDServer, tmp_path: Path) -> None:
    """First sale opens the shift; 50 sales; X report; refunds (allowed, held back, too much); a correction; the Z
    report; next morning shift + 1 with receipt number 1. FD numbers are continuous and the OFD holds every document
    of the FN once, without a gap."""
    client, clock = day()
    first = post(client, "sale-0", sale(0))
    assert first.status_code == 200, first.text
    assert (first.json()["fiscal_doc"]["shift_number"], first.json()["fiscal_doc"]["receipt_number"]) == (1, 1)
    for i in range(1, 51):
        assert post(client, f"sale-{i}", sale(i, qty="2")).status_code == 200
    x = client.post("/v1/kkt/x_report").json()
    assert (x["open"], x["receipts"], x["shift_number"]) == (True, 51, 1)

    wait_for(lambda: all_synced(client), what="the morning's sales synced")
    sold = post(client, "sale-7", sale(7, qty="2")).json()  # a replay: the sale of 2 units
    check = client.post("/v1/pos/refund", json={"original_fiscal_doc_id": sold["receipt_id"]})
    assert check.json() == {
        "allowed": True,
        "receipt_id": sold["receipt_id"],
        "sync_status": "synced",
        "left_to_refund": f"{Decimal(str(sold['fiscal_doc']['total'])):.2f}",  # nothing refunded yet: the whole sale
    }
    refund = post(client, "refund-7", sale(7, kind="refund", original_receipt_id=sold["receipt_id"]))
    assert refund.status_code == 200, refund.text
    too_much = post(client, "refund-7b", sale(7, kind="refund", qty="2", original_receipt_id=sold["receipt_id"]))
    assert too_much.status_code == 422
    assert too_much.json()["detail"][0]["loc"][:3] == ["body", "items", 0]

    mock_ofd_server.hold()
    unsynced = post(client, "sale-late", sale(60)).json()
    held = client.post("/v1/pos/refund", json={"original_fiscal_doc_id": unsynced["fiscal_doc"]["fiscal_doc_number"]})
    assert (held.status_code, held.json()["allowed"]) == (409, False)
    mock_ofd_server.release()
    wait_for(
        lambda: (
            client.post("/v1/pos/refund", json={"original_fiscal_doc_id": unsynced["receipt_id"]}).status_code == 200
        ),
        what="the refund allowed once the sale reached the OFD",
    )

    correction = bodies.correction("10.00", name="Недобитый товар", basis_date="2025-11-29", pos_id="POS-1")
    assert post(client, "correction-1", correction, "/v1/kkt/correction").status_code == 200
    z = client.post("/v1/kkt/z_report").json()
    assert (z["status"], z["shift_number"], z["receipts"]) == ("closed", 1, 54)

    clock.advance(10 * HOUR)
    morning = post(client, "next-day-0", sale(1)).json()["fiscal_doc"]
    assert (morning["shift_number"], morning["receipt_number"]) == (2, 1)

    wait_for(lambda: all_synced(client), what="the whole day synced")
    with EmulatedKKT(tmp_path / "data" / "kkt", print_delay_ms=0, create=False) as kkt:
        journal = kkt.journal(limit=10_000)
        fn_number = kkt.registration.fn_number
        assert kkt.fn_status().unsent_count == 0, "the FN heard every acknowledgement"
    numbers = [d.fd_number for d in journal]
    assert numbers == list(range(1, len(numbers) + 1)), "FD numbers continuous over every document"
    stats = mock_ofd_server.get_stats()
    fn = stats["fn"][fn_number]
    assert (fn["documents"], fn["gaps"], stats["duplicates"], stats["conflicts"]) == (len(numbers), [], 0, 0)
    assert fn["by_type"] == {"1": 1, "2": 2, "3": 54, "31": 1, "5": 1}
    assert client.get("/v1/kkt/fn").json()["unsent_count"] == 0


def test_expired_shift_auto_closes_and_reopens(day: Day, tmp_path: Path) -> None:
    """Under ``auto`` the first sale after 24 hours closes the old shift (Z) and opens the next; both are kept."""
    client, clock = day()
    post(client, "a", sale(1))
    clock.advance(25 * HOUR)
    after = post(client, "b", sale(2))
    assert after.status_code == 200, after.text
    assert (after.json()["fiscal_doc"]["shift_number"], after.json()["fiscal_doc"]["receipt_number"]) == (2, 1)
    wait_for(lambda: all_synced(client), what="everything synced")
    with EmulatedKKT(tmp_path / "data" / "kkt", print_delay_ms=0, create=False) as kkt:
        types = [d.doc_type for d in kkt.journal(limit=100)]
    assert types == [1, 2, 3, 5, 2, 3]


def test_expired_shift_under_refuse(day: Day) -> None:
    """Under ``refuse``: degraded in the last hour, then 503 shift_expired and unhealthy until the Z report."""
    client, clock = day(KKT_SHIFT_EXPIRED_POLICY="refuse")
    post(client, "a", sale(1))
    clock.advance(23 * HOUR + 30 * 60)
    # Health reads the state the print left while a background job holds the device, and asks it afresh once it is
    # free: the shift's end is known only from a fresh answer.
    health = wait_for(
        lambda: (answer := client.get("/v1/health").json())["status"] == "degraded" and answer,
        what="degraded in the shift's last hour",
    )
    assert any("expires in 30 min" in reason for reason in health["reasons"])
    clock.advance(HOUR)
    refused = post(client, "b", sale(2))
    assert (refused.status_code, refused.json()["error"]) == (503, "shift_expired")
    health = client.get("/v1/health")
    assert health.status_code == 503
    assert any("close the shift" in reason for reason in health.json()["reasons"])
    assert client.post("/v1/kkt/shift/close").status_code == 200
    assert post(client, "b", sale(2)).status_code == 200


def test_shift_closes_at_its_time(day: Day) -> None:
    """``KKT_SHIFT_CLOSE_AT`` closes the open shift once its local time has passed."""
    # The fake clock starts at 2025-11-30 12:00 UTC, 15:00 in Moscow.
    client, clock = day(KKT_SHIFT_CLOSE_AT="15:30", KKT_SHIFT_CHECK_INTERVAL="0.02")
    post(client, "a", sale(1))
    clock.advance(20 * 60)
    assert client.get("/v1/kkt/shift").json()["open"] is True
    clock.advance(15 * 60)
    wait_for(lambda: client.get("/v1/kkt/shift").json()["open"] is False, what="the shift closed at 15:30")


def test_thirty_days_without_the_ofd_block_the_fn_until_it_returns(day: Day, mock_ofd_server: MockOFDServer) -> None:
    """30 days of OFD outage: the FN refuses documents and health says why; once the OFD is back and the documents
    drain, the FN takes sales again."""
    client, clock = day(KKT_OFD_WARN_DAYS="25")
    mock_ofd_server.set_permanent_failure(True)
    post(client, "a", sale(1))
    clock.advance(31 * DAY)
    refused = post(client, "b", sale(2))
    assert (refused.status_code, refused.json()["error"]) == (503, "fn_ofd_timeout_30_days")
    health = client.get("/v1/health")
    assert health.status_code == 503
    assert any("fiscal drive refuses" in reason for reason in health.json()["reasons"])
    mock_ofd_server.set_success()

    def drained() -> bool:
        # The breaker opened on the fake clock, and a send that failed just before set_success() may open it
        # again after any single advance: its next probe falls due only as that clock moves on, so keep moving it.
        clock.advance(60)
        return bool(client.get("/v1/kkt/fn").json()["unsent_count"] == 0)

    wait_for(drained, what="the documents drained")
    assert post(client, "b", sale(2)).status_code == 200


def test_the_fn_refuses_after_its_validity_date(day: Day) -> None:
    """Past the FN's validity date documents are refused with the FN's reason; health is unhealthy."""
    client, clock = day(KKT_EMULATOR_FN_LIFE_MONTHS="1")
    post(client, "a", sale(1))
    wait_for(lambda: all_synced(client), what="synced")
    assert "replace_soon" in client.get("/v1/kkt/fn").json()["warnings"]
    clock.advance(40 * DAY)
    refused = post(client, "b", sale(2))
    assert (refused.status_code, refused.json()["error"]) == (503, "fn_expired")
    assert client.get("/v1/health").status_code == 503
