"""The adapter seen from outside: heartbeat to the mock ERP, health verdicts on a fake clock, metrics, JSON logs."""

from __future__ import annotations

import json
import logging
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from kkt_adapter.api.app import create_app
from kkt_adapter.config import load_settings
from kkt_adapter.domain.errors import DeviceUnavailable
from kkt_adapter.logs import JsonFormatter
from kkt_adapter.status.heartbeat import wait_before_next
from kkt_adapter.testing import FakeClock, FakeDriver, bodies, wait_for
from kkt_emulators.odoo import MockOdooServer

SALE: dict[str, Any] = bodies.sale()
DAY = 86_400


def client_for(
    tmp_path: Path, *, clock: FakeClock | None = None, driver: FakeDriver | None = None, **env: str
) -> TestClient:
    values = {"KKT_DATA_DIR": str(tmp_path / "data"), "KKT_SYNC_ENABLED": "false", "KKT_ADAPTER_ID": "shop-7-till-2"}
    values |= {f"KKT_{k.upper()}": v for k, v in env.items()}
    return TestClient(create_app(load_settings(values), clock=clock, driver=driver or FakeDriver()))


@pytest.fixture
def heartbeat_client(tmp_path: Path, mock_odoo_server: MockOdooServer) -> Iterator[TestClient]:
    with client_for(tmp_path, odoo_api_url=mock_odoo_server.url, heartbeat_interval="0.05") as client:
        yield client


def test_heartbeat_reaches_the_erp_at_its_cadence(
    heartbeat_client: TestClient, mock_odoo_server: MockOdooServer
) -> None:
    """Beats keep arriving under the configured adapter id with the promised payload (the cadence's arithmetic is
    :func:`test_heartbeat_waits_out_the_rest_of_its_interval`)."""
    wait_for(lambda: len(mock_odoo_server.get_received_heartbeats()) >= 6, what="six beats")
    beat = mock_odoo_server.get_received_heartbeats()[-1]
    assert beat["adapter_id"] == "shop-7-till-2"
    assert {
        "timestamp",
        "version",
        "buffer_status",
        "circuit_breaker",
        "oldest_unsynced_age_seconds",
        "shift",
        "device",
    } <= set(beat)
    assert {"total_capacity", "current_queued", "percent_full"} <= set(beat["buffer_status"])
    assert set(beat["circuit_breaker"]) == {"state", "failure_count"}
    assert mock_odoo_server.get_adapter("shop-7-till-2") is not None
    status = heartbeat_client.get("/v1/kkt/heartbeat/status").json()
    assert status["state"] == "ONLINE"
    assert status["sent"] >= 6


@pytest.mark.parametrize(
    ("interval", "spent", "wait"),
    [(30.0, 0.0, 30.0), (30.0, 0.25, 29.75), (30.0, 30.0, 0.0), (30.0, 45.0, 0.0), (0.2, -1.0, 0.2)],
)
def test_heartbeat_waits_out_the_rest_of_its_interval(interval: float, spent: float, wait: float) -> None:
    """A beat starts every interval: the time a beat took is taken off the wait, never below zero or above it."""
    assert wait_before_next(interval, spent) == pytest.approx(wait)


def test_heartbeat_hysteresis(heartbeat_client: TestClient, mock_odoo_server: MockOdooServer) -> None:
    """Two successes make the ERP link ONLINE; it turns OFFLINE only after three failures in a row."""
    status = lambda: heartbeat_client.get("/v1/kkt/heartbeat/status").json()  # noqa: E731
    wait_for(lambda: status()["state"] == "ONLINE", what="ONLINE")
    mock_odoo_server.set_failure_count(2)
    wait_for(lambda: status()["consecutive_successes"] >= 1 and status()["failed"] >= 2, what="two failures passed")
    assert status()["state"] == "ONLINE", "two failures in a row do not flip the state"
    mock_odoo_server.set_permanent_failure(True)
    wait_for(lambda: status()["state"] == "OFFLINE", what="OFFLINE")
    assert status()["consecutive_failures"] >= 3
    mock_odoo_server.set_success()
    wait_for(lambda: status()["state"] == "ONLINE", what="ONLINE again")


def test_stuck_erp_never_slows_receipts(heartbeat_client: TestClient, mock_odoo_server: MockOdooServer) -> None:
    """With the ERP holding every request, receipts keep being printed: the heartbeat is off the receipt path."""
    mock_odoo_server.hold()
    try:
        wait_for(lambda: mock_odoo_server.get_held_count() >= 1, what="a held beat")
        for i in range(20):
            response = heartbeat_client.post("/v1/kkt/receipt", json=SALE, headers={"Idempotency-Key": f"k{i}"})
            assert response.status_code == 200
    finally:
        mock_odoo_server.release()


def test_no_erp_url_means_heartbeat_off(tmp_path: Path) -> None:
    """Without KKT_ODOO_API_URL the heartbeat is off and its status says so."""
    with client_for(tmp_path) as client:
        status = client.get("/v1/kkt/heartbeat/status").json()
    assert status["enabled"] is False
    assert "KKT_ODOO_API_URL" in status["reason"]


def test_health_verdicts_on_a_fake_clock(tmp_path: Path) -> None:
    """Healthy at first; degraded past the warning age; unhealthy (503) at 30 days, the FN's blocking age."""
    clock = FakeClock()
    with client_for(tmp_path, clock=clock, ofd_warn_days="25") as client:
        client.post("/v1/kkt/receipt", json=SALE, headers={"Idempotency-Key": "old"})
        assert client.get("/v1/health").json()["status"] == "healthy"
        clock.advance(25 * DAY + 1)
        degraded = client.get("/v1/health")
        assert (degraded.status_code, degraded.json()["status"]) == (200, "degraded")
        assert "25.0 days old" in degraded.json()["reasons"][0]
        clock.advance(5 * DAY)
        unhealthy = client.get("/v1/health")
        assert (unhealthy.status_code, unhealthy.json()["status"]) == (503, "unhealthy")
        assert "30 days" in unhealthy.json()["reasons"][0]
        status = client.get("/v1/kkt/buffer/status").json()
        assert status["oldest_unsynced_age_seconds"] == pytest.approx(30 * DAY + 1)


def test_health_degraded_past_alert_threshold_and_unhealthy_when_full(tmp_path: Path) -> None:
    """The buffer past its alert threshold degrades health; a full buffer makes it unhealthy."""
    with client_for(tmp_path, buffer_max_size="5", buffer_alert_threshold="0.6") as client:
        for i in range(3):
            client.post("/v1/kkt/receipt", json=SALE, headers={"Idempotency-Key": f"k{i}"})
        assert client.get("/v1/health").json()["status"] == "degraded"
        for i in range(3, 5):
            client.post("/v1/kkt/receipt", json=SALE, headers={"Idempotency-Key": f"k{i}"})
        full = client.get("/v1/health")
        assert full.status_code == 503
        assert any(reason.startswith("buffer full") for reason in full.json()["reasons"])


def test_health_unhealthy_when_device_offline(tmp_path: Path) -> None:
    """An offline device makes health unhealthy with the device's reason."""
    driver = FakeDriver()
    with client_for(tmp_path, driver=driver) as client:
        driver.fault = DeviceUnavailable("offline", "device offline")
        body = client.get("/v1/health").json()
    assert body["status"] == "unhealthy"
    assert body["components"]["device"]["online"] is False


def test_metrics_in_prometheus_format(tmp_path: Path) -> None:
    """GET /metrics exposes kkt_ counters and gauges that follow the receipts."""
    with client_for(tmp_path) as client:
        for i in range(3):
            client.post("/v1/kkt/receipt", json=SALE, headers={"Idempotency-Key": f"k{i}"})
        client.post("/v1/kkt/receipt", json=SALE, headers={"Idempotency-Key": "k0"})  # a replay prints nothing
        response = client.get("/metrics")
    assert response.headers["content-type"].startswith("text/plain")
    lines = set(response.text.splitlines())
    assert "kkt_receipts_accepted_total 3.0" in lines
    assert "kkt_receipts_printed_total 3.0" in lines
    assert 'kkt_buffer_receipts{state="pending"} 3.0' in lines
    assert 'kkt_circuit_breaker_state{state="CLOSED"} 1.0' in lines
    assert "kkt_device_usable 1.0" in lines
    assert any(line.startswith("kkt_oldest_unsynced_age_seconds ") for line in lines)
    assert "# TYPE kkt_ofd_request_duration_seconds histogram" in response.text


def test_json_logs_carry_receipt_id_and_key(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    """In JSON format each line is one object; lines about a receipt carry its id and idempotency key."""
    driver = FakeDriver()
    driver.crash_after_print = TimeoutError("no answer")  # makes the fiscalizer log about this receipt
    with caplog.at_level(logging.INFO), client_for(tmp_path, driver=driver) as client:
        receipt_id = client.post("/v1/kkt/receipt", json=SALE, headers={"Idempotency-Key": "key-42"}).json()[
            "receipt_id"
        ]
    formatter = JsonFormatter()
    about = [json.loads(formatter.format(r)) for r in caplog.records if getattr(r, "receipt_id", None) == receipt_id]
    assert about, "a line about the receipt was logged"
    assert all(entry["key"] == "key-42" for entry in about)
    assert all({"time", "level", "logger", "message"} <= set(entry) for entry in about)


def test_secrets_never_logged(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    """The OFD token appears in no log line or settings repr."""
    with (
        caplog.at_level(logging.DEBUG),
        client_for(tmp_path, ofd_api_url="http://127.0.0.1:9", ofd_api_token="tok-SECRET-1", sync_enabled="true") as c,
    ):
        c.post("/v1/kkt/receipt", json=SALE, headers={"Idempotency-Key": "k"})
        c.get("/v1/health")
    assert all("tok-SECRET-1" not in JsonFormatter().format(r) for r in caplog.records)


def test_health_unhealthy_when_database_not_writable(tmp_path: Path) -> None:
    """A buffer that cannot be written makes health unhealthy (503), naming the database."""
    with client_for(tmp_path) as client:
        adapter = client.app.state.adapter  # type: ignore[attr-defined]
        # The writer's connection refuses every change, as a read-only or failing file would.
        writes = {sqlite3.SQLITE_INSERT, sqlite3.SQLITE_UPDATE, sqlite3.SQLITE_DELETE}
        adapter.buffer.db._conn.set_authorizer(
            lambda action, *_: sqlite3.SQLITE_DENY if action in writes else sqlite3.SQLITE_OK
        )
        response = client.get("/v1/health")
    assert response.status_code == 503
    assert "database not writable" in response.json()["reasons"]
    assert "not authorized" in response.json()["components"]["database"]["last_error"]


def test_a_crashed_background_task_makes_health_unhealthy(tmp_path: Path) -> None:
    """A supervised task that dies is reported by health (503, with its name and error), not silently lost."""

    async def crash() -> None:
        raise RuntimeError("worker lost its database")

    with client_for(tmp_path) as client:
        runtime = client.app.state.adapter.runtime  # type: ignore[attr-defined]
        client.portal.call(lambda: _spawn(runtime, crash))  # type: ignore[union-attr]
        wait_for(lambda: client.get("/v1/health").status_code == 503, what="health to see the crash")
        body = client.get("/v1/health").json()
    assert "background task boom stopped: RuntimeError: worker lost its database" in body["reasons"]
    assert body["components"]["tasks"]["boom"].startswith("failed")


async def _spawn(runtime: Any, work: Any) -> None:
    runtime.spawn("boom", work())


def test_a_clock_set_back_is_reported_and_does_not_make_receipts_younger(tmp_path: Path) -> None:
    """With the wall clock set back a day, the oldest unsynced age is counted from the newest time the buffer has
    seen (not understated), and health says the clock went back."""
    clock = FakeClock()
    with client_for(tmp_path, clock=clock) as client:
        client.post("/v1/kkt/receipt", json=SALE, headers={"Idempotency-Key": "before"})
        clock.advance(3600)
        client.post("/v1/kkt/receipt", json=SALE, headers={"Idempotency-Key": "an-hour-later"})
        assert client.get("/v1/health").json()["status"] == "healthy"
        clock.set_wall(clock.time() - DAY)
        age = client.get("/v1/kkt/buffer/status").json()["oldest_unsynced_age_seconds"]
        assert age == pytest.approx(3600, abs=1)
        health = client.get("/v1/health").json()
    assert health["status"] == "degraded"
    assert any("clock is 1440 min behind" in reason for reason in health["reasons"])
