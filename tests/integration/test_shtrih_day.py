"""A store's fiscal day through the adapter (``KKT_DRIVER_TYPE=shtrih``) on the Shtrih-M emulator over real TCP.

The adapter and the emulated KKT share one manual clock, so the night between two days passes at once. Either the
FN delivers its own documents (``KKT_OFD_DELIVERY=device``: the emulator's OFD link, tracked from FF39h) or the
adapter posts them (``http``); either way the mock OFD ends up with every document the FN holds exactly once.
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
from kkt_emulators import MockOFDServer
from kkt_emulators.shtrih import MockShtrihServer

HOUR = 3600
FAST = {
    "KKT_HLC_SYNC_INTERVAL": "0.05",
    "KKT_OFD_DEVICE_POLL_S": "0.05",
    "KKT_SYNC_BACKOFF_BASE": "0.01",
    "KKT_SYNC_BACKOFF_MAX": "0.05",
    "KKT_SHTRIH_ANSWER_TIMEOUT": "2",
}

Day = Callable[[str], tuple[TestClient, FakeClock, MockShtrihServer]]


def sale(i: int, *, kind: str = "sale", **extra: Any) -> dict[str, Any]:
    price = Decimal(100 + i) + Decimal("0.50")
    line = bodies.item(f"Товар {i}", str(price), "1")
    return bodies.sale(str(price), items=[line], pos_id=f"POS-{i % 3}", type=kind, **extra)


def post(client: TestClient, key: str, body: dict[str, Any], path: str = "/v1/kkt/receipt") -> Any:
    response = client.post(path, json=body, headers={"Idempotency-Key": key})
    assert response.status_code == 200, response.text
    return response.json()


@pytest.fixture
def day(tmp_path: Path, mock_ofd_server: MockOFDServer) -> Iterator[Day]:
    """``day(delivery)``: the emulated Shtrih-M (its OFD link on in device mode) and the adapter driving it."""
    opened: list[Any] = []

    def start(delivery: str) -> tuple[TestClient, FakeClock, MockShtrihServer]:
        clock = FakeClock()
        ofd_url = mock_ofd_server.url if delivery == "device" else None
        server = MockShtrihServer(port=0, data_dir=tmp_path / "kkt", clock=clock, ofd_url=ofd_url, ofd_interval_s=0.05)
        registration = server.kkt.registration
        mock_ofd_server.register_fn(registration.fn_number, registration.fn_secret)
        # The FN's own delivery carries its whole documents; the adapter posts what the driver answers (FD, sign,
        # totals), not the FN's TLVs, so only the FN's documents are checked as fiscal documents.
        mock_ofd_server.validate = delivery == "device"
        server.start()
        opened.append(server)
        env = {
            "KKT_DATA_DIR": str(tmp_path / "data"),
            "KKT_DRIVER_TYPE": "shtrih",
            "KKT_SHTRIH_URL": server.url,
            "KKT_OFD_DELIVERY": delivery,
            "KKT_OFD_API_URL": mock_ofd_server.url,
        } | FAST
        client = TestClient(create_app(load_settings(env), clock=clock))
        client.__enter__()
        opened.append(client)
        return client, clock, server

    yield start
    for thing in reversed(opened):
        if isinstance(thing, TestClient):
            thing.__exit__(None, None, None)
        else:
            thing.stop()


def synced(client: TestClient, receipt_id: str) -> bool:
    return bool(client.get(f"/v1/kkt/receipt/{receipt_id}").json()["state"] == "synced")


@pytest.mark.parametrize("delivery", ["device", "http"])
def test_a_store_day_on_the_shtrih_emulator(day: Day, mock_ofd_server: MockOFDServer, delivery: str) -> None:
    """Shift open, 50 sales, a refund tied to its sale, a correction, X and Z with the shift's money, the next day's
    first sale: FD numbers are continuous in the FN's journal, and the mock OFD holds every document exactly once."""
    client, clock, server = day(delivery)
    assert client.post("/v1/kkt/shift/open").status_code == 200
    sales = [post(client, f"sale-{i}", sale(i)) for i in range(50)]
    first = sales[0]["fiscal_doc"]
    assert (first["shift_number"], first["receipt_number"]) == (1, 1)

    sold = sales[7]
    wait_for(lambda: synced(client, sold["receipt_id"]), what="the sale reached the OFD before its refund")
    refund = post(client, "refund-7", sale(7, kind="refund", original_receipt_id=sold["receipt_id"]))
    assert refund["fiscal_doc"]["fiscal_doc_number"] > sales[-1]["fiscal_doc"]["fiscal_doc_number"]
    left = client.post("/v1/pos/refund", json={"original_fiscal_doc_id": sold["receipt_id"]}).json()
    assert (left["allowed"], left["left_to_refund"]) == (False, "0.00"), "the refund is tied to its sale"

    correction = bodies.correction("10.00", name="Недобитый товар", basis_date="2025-11-29", pos_id="POS-1")
    post(client, "correction-1", correction, "/v1/kkt/correction")
    x = client.post("/v1/kkt/x_report").json()
    assert (x["open"], x["shift_number"]) == (True, 1)
    z = client.post("/v1/kkt/z_report").json()
    assert (z["status"], z["shift_number"]) == ("closed", 1)
    sold_total = sum(Decimal(100 + i) + Decimal("0.50") for i in range(50)) + Decimal("10.00")  # and the correction
    assert x["totals"]["by_operation"]["sale"] == str(sold_total), "the KKT's registers, read by the X report"
    assert x["totals"]["count_by_operation"] == {"sale": 51, "expense": 0, "refund": 1, "expense_refund": 0}
    assert x["totals"]["by_payment"]["cash"] == str(sold_total - Decimal("107.50"))
    assert z["totals"] == x["totals"], "the Z report's money, read before 41h cleared the registers"

    clock.advance(10 * HOUR)
    morning = post(client, "next-day-0", sale(1))["fiscal_doc"]
    assert (morning["shift_number"], morning["receipt_number"]) == (2, 1)

    if delivery == "device":
        wait_for(lambda: server.kkt.fn_status().unsent_count == 0, what="the FN sent everything")
    journal = server.kkt.journal(limit=10_000)
    numbers = [d.fd_number for d in journal]
    assert numbers == list(range(1, len(numbers) + 1)), "FD numbers continuous over every document"
    fn_number = server.kkt.registration.fn_number

    def all_there() -> bool:
        stats = mock_ofd_server.get_stats()
        return bool(stats["fn"].get(fn_number, {}).get("documents") == expected_documents(delivery, len(numbers)))

    wait_for(all_there, what="the OFD holds every document")
    stats = mock_ofd_server.get_stats()
    fn = stats["fn"][fn_number]
    assert (fn["gaps"], stats["duplicates"], stats["conflicts"]) == ([], 0, 0)
    assert fn["by_type"] == expected_types(delivery)


def expected_documents(delivery: str, in_fn: int) -> int:
    """The FN sends all its documents; the adapter sends what it printed (not the registration report)."""
    return in_fn if delivery == "device" else in_fn - 1


def expected_types(delivery: str) -> dict[str, int]:
    by_type = {"2": 2, "3": 52, "31": 1, "5": 1}
    return by_type | {"1": 1} if delivery == "device" else by_type
