"""The adapter with KKT_OFD_DELIVERY=device: documents become synced as the FN reports them sent, nothing is posted;
and the FN's unsent documents shown by health, the heartbeat and ``GET /v1/kkt/fn`` in both delivery modes."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from kkt_adapter.api.app import create_app
from kkt_adapter.config import load_settings
from kkt_adapter.domain.errors import DeviceUnavailable
from kkt_adapter.testing import FakeDriver, bodies, wait_for
from kkt_emulators.device import EmulatedKKT
from kkt_emulators.odoo import MockOdooServer
from kkt_emulators.ofd import MockOFDServer
from ready_device import ready_device

SALE: dict[str, Any] = bodies.sale()


def settings_for(tmp_path: Path, **env: str) -> dict[str, str]:
    return {
        "KKT_DATA_DIR": str(tmp_path / "data"),
        "KKT_EMULATOR_PRINT_DELAY_MS": "0",
        "KKT_OFD_DEVICE_POLL_S": "0.05",
        "KKT_HLC_SYNC_INTERVAL": "0.05",
    } | env


@pytest.fixture
def device_client(
    tmp_path: Path, mock_ofd_server: MockOFDServer, mock_odoo_server: MockOdooServer
) -> Iterator[TestClient]:
    """The adapter on the emulated KKT in device mode, with a mock OFD listening at KKT_OFD_API_URL all the same."""
    ready_device(tmp_path / "data" / "kkt")
    values = settings_for(
        tmp_path,
        KKT_OFD_DELIVERY="device",
        KKT_OFD_API_URL=mock_ofd_server.url,
        KKT_ODOO_API_URL=mock_odoo_server.url,
        KKT_HEARTBEAT_INTERVAL="0.05",
    )
    with TestClient(create_app(load_settings(values))) as client:
        yield client


def sell(client: TestClient, key: str) -> dict[str, Any]:
    response = client.post("/v1/kkt/receipt", json=SALE, headers={"Idempotency-Key": key})
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def state_of(client: TestClient, receipt_id: str) -> str:
    return str(client.get(f"/v1/kkt/receipt/{receipt_id}").json()["state"])


def fn_component(client: TestClient) -> dict[str, Any]:
    body: dict[str, Any] = client.get("/v1/health").json()["components"]["fn"]
    return body


def test_documents_become_synced_as_the_fn_reports_them_sent(
    device_client: TestClient, tmp_path: Path, mock_ofd_server: MockOFDServer, mock_odoo_server: MockOdooServer
) -> None:
    """Printed receipts wait until the FN's exchange passes them, then are synced; the mock OFD receives nothing."""
    client = device_client
    printed = [sell(client, f"k{i}") for i in range(3)]
    numbers = [p["fiscal_doc"]["fiscal_doc_number"] for p in printed]
    wait_for(lambda: fn_component(client)["unsent_count"] == 3, what="the FN's three unsent documents in health")
    fn = fn_component(client)
    assert fn["first_unsent_fd_number"] == numbers[0] and fn["first_unsent_at"] is not None
    assert client.get("/v1/kkt/fn").json()["unsent_count"] == 3
    assert "kkt_fn_unsent_documents 3.0" in client.get("/metrics").text
    beat: dict[str, Any] = wait_for(
        lambda: next(
            (b for b in reversed(mock_odoo_server.get_received_heartbeats()) if b["fn"]["unsent_count"] == 3), {}
        ),
        what="a heartbeat with the FN's unsent documents",
    )
    assert beat["fn"]["first_unsent_at"] == fn["first_unsent_at"]
    assert [state_of(client, p["receipt_id"]) for p in printed] == ["pending"] * 3

    # The FN's own exchange acknowledges the first two (as a real KKT's OFD link would).
    with EmulatedKKT(tmp_path / "data" / "kkt", print_delay_ms=0) as kkt:
        kkt.acknowledge(numbers[:2])
    wait_for(lambda: state_of(client, printed[1]["receipt_id"]) == "synced", what="the first two synced")
    assert [state_of(client, p["receipt_id"]) for p in printed] == ["synced", "synced", "pending"]
    with EmulatedKKT(tmp_path / "data" / "kkt", print_delay_ms=0) as kkt:
        kkt.acknowledge(numbers[2:])
    wait_for(lambda: state_of(client, printed[2]["receipt_id"]) == "synced", what="the last one synced")

    events = client.get(f"/v1/kkt/receipt/{printed[0]['receipt_id']}/events").json()["items"]
    assert any(e["kind"] == "delivered_by_device" for e in events)
    assert mock_ofd_server.get_received_receipts() == [], "the adapter posted nothing to the OFD"
    health = client.get("/v1/health").json()
    assert health["status"] == "healthy", health["reasons"]
    assert health["components"]["ofd"]["sync_mode"] == "device"
    wait_for(lambda: fn_component(client)["unsent_count"] == 0, what="health sees nothing unsent")
    worker = client.get("/v1/kkt/worker/status").json()
    assert (worker["sync_mode"], worker["marked_total"]) == ("device", 3)
    refused = client.post("/v1/kkt/buffer/sync")
    assert refused.status_code == 409 and "KKT_OFD_DELIVERY=device" in refused.json()["detail"]


def test_http_mode_posts_and_shows_the_fns_unsent_documents(tmp_path: Path, mock_ofd_server: MockOFDServer) -> None:
    """The default mode still posts each document to the OFD; health shows the FN's unsent count as it drains."""
    ready_device(tmp_path / "data" / "kkt")
    values = settings_for(tmp_path, KKT_OFD_API_URL=mock_ofd_server.url)
    with TestClient(create_app(load_settings(values))) as client:
        printed = sell(client, "k1")
        wait_for(lambda: state_of(client, printed["receipt_id"]) == "synced", what="synced over HTTP")
        assert len(mock_ofd_server.get_received_receipts()) == 1
        wait_for(lambda: fn_component(client)["unsent_count"] == 0, what="the FN's acknowledgement seen by health")
        health = client.get("/v1/health").json()
        assert health["components"]["ofd"]["sync_mode"] == "remote"
        assert health["components"]["fn"]["first_unsent_at"] is None


def test_an_unreachable_device_degrades_health_with_the_reason(tmp_path: Path) -> None:
    """In device mode, a status poll the device does not answer degrades health, says why, and changes no row."""
    driver = FakeDriver()
    values = settings_for(tmp_path, KKT_OFD_DELIVERY="device", KKT_SYNC_ENABLED="true")
    with TestClient(create_app(load_settings(values), driver=driver)) as client:
        printed = sell(client, "k1")
        wait_for(lambda: fn_component(client)["unsent_count"] == 1, what="the first poll")
        driver.fail_fn_status = DeviceUnavailable("offline", "no answer from the KKT")
        driver.acknowledge([printed["fiscal_doc"]["fiscal_doc_number"]])
        health = wait_for(
            lambda: (body := client.get("/v1/health").json())["status"] == "degraded" and body, what="degraded"
        )
        assert any("no answer from the KKT" in reason for reason in health["reasons"]), health["reasons"]
        assert health["components"]["fn"]["status"] == "stale"
        assert state_of(client, printed["receipt_id"]) == "pending"
        assert health["components"]["ofd"]["url"] is None, "no embedded mock OFD in device mode"
        driver.fail_fn_status = None
        wait_for(lambda: state_of(client, printed["receipt_id"]) == "synced", what="synced once the device answers")
        wait_for(lambda: client.get("/v1/health").json()["status"] == "healthy", what="healthy again")
