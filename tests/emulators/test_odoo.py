"""The mock ERP heartbeat endpoint: contract, faults, per-adapter intervals and missed beats."""

from __future__ import annotations

import httpx
import pytest

from kkt_clock import ManualClock
from kkt_emulators.odoo import MockOdooServer, missed_in

HEARTBEAT = {
    "timestamp": "2025-10-09T12:00:00Z",
    "adapter_id": "KKT-001",
    "buffer_status": {"total_capacity": 200, "current_queued": 5, "percent_full": 2.5},
    "circuit_breaker": {"state": "CLOSED", "failure_count": 0},
}


def beat(client: httpx.Client, odoo: MockOdooServer, adapter_id: str = "KKT-001") -> httpx.Response:
    """Send one heartbeat."""
    return client.post(f"{odoo.url}/api/v1/kkt/heartbeat", json={**HEARTBEAT, "adapter_id": adapter_id})


def test_heartbeat_is_acknowledged_and_recorded(mock_odoo_server: MockOdooServer, client: httpx.Client) -> None:
    """A heartbeat gets 200 with the field's body and is kept as received."""
    answer = beat(client, mock_odoo_server)
    assert answer.status_code == 200
    assert answer.json() == {"status": "ok", "message": "Heartbeat received"}
    assert mock_odoo_server.get_received_heartbeats() == [HEARTBEAT]
    assert mock_odoo_server.get_call_count() == 1


def test_health(mock_odoo_server: MockOdooServer, client: httpx.Client) -> None:
    """GET /health answers ``{"status": "ok"}`` even while heartbeats fail."""
    mock_odoo_server.set_permanent_failure()
    assert client.get(f"{mock_odoo_server.url}/health").json() == {"status": "ok"}


def test_only_successful_heartbeats_are_received(mock_odoo_server: MockOdooServer, client: httpx.Client) -> None:
    """Failed heartbeats (503) are counted as calls, never as received."""
    mock_odoo_server.set_failure_count(2)
    statuses = [beat(client, mock_odoo_server).status_code for _ in range(3)]
    assert statuses == [503, 503, 200]
    assert mock_odoo_server.get_call_count() == 3
    assert len(mock_odoo_server.get_received_heartbeats()) == 1
    assert mock_odoo_server.get_stats()["faulted"] == 2


def test_permanent_failure_and_back(mock_odoo_server: MockOdooServer, client: httpx.Client) -> None:
    """Permanent failure answers 503 with an error body until disabled."""
    mock_odoo_server.set_permanent_failure(True)
    answer = beat(client, mock_odoo_server)
    assert answer.status_code == 503
    assert "error" in answer.json()
    mock_odoo_server.set_permanent_failure(False)
    assert beat(client, mock_odoo_server).status_code == 200


def test_same_fault_programs_as_the_ofd(mock_odoo_server: MockOdooServer, client: httpx.Client) -> None:
    """Rate limit, fail-every, connection reset and lost replies work on the ERP too."""
    mock_odoo_server.set_rate_limit(3, count=1)
    assert beat(client, mock_odoo_server).headers["Retry-After"] == "3"
    mock_odoo_server.set_fail_every(2)
    assert [beat(client, mock_odoo_server).status_code for _ in range(2)] == [200, 503]
    mock_odoo_server.set_success()
    mock_odoo_server.set_connection_reset(1)
    with pytest.raises(httpx.TransportError):
        beat(client, mock_odoo_server)
    mock_odoo_server.set_lose_reply(1)
    with pytest.raises(httpx.TransportError):
        beat(client, mock_odoo_server)
    assert len(mock_odoo_server.get_received_heartbeats()) == 2


def test_down_for_on_a_manual_clock(client: httpx.Client) -> None:
    """``set_down_for`` brings the ERP back when the injected clock says so."""
    clock = ManualClock()
    with MockOdooServer(port=0, clock=clock) as odoo:
        odoo.set_down_for(30)
        assert beat(client, odoo).status_code == 503
        clock.advance(30)
        assert beat(client, odoo).status_code == 200


def test_admin_api_under_test_prefix(mock_odoo_server: MockOdooServer, client: httpx.Client) -> None:
    """Faults, stats, heartbeats and reset are under ``/_test/``."""
    base = f"{mock_odoo_server.url}/_test"
    client.post(f"{base}/failure-count", json={"count": 1})
    assert beat(client, mock_odoo_server).status_code == 503
    assert beat(client, mock_odoo_server).status_code == 200
    assert client.get(f"{base}/stats").json()["calls"] == 2
    assert client.get(f"{base}/heartbeats").json() == [HEARTBEAT]
    assert client.get(f"{base}/faults").json()["failure_count"] == 0
    assert client.post(f"{base}/reset").json() == {"status": "ok"}
    assert mock_odoo_server.get_call_count() == 0


def test_intervals_and_missed_beats_per_adapter(client: httpx.Client) -> None:
    """Per adapter: beats, last seen, intervals on the server's clock, and beats missed at a given cadence."""
    clock = ManualClock(start_wall=1_764_504_000.0)
    with MockOdooServer(port=0, clock=clock) as odoo:
        for step in (0, 30, 30, 90, 31):  # one on time, one on time, two missed, one slightly late
            clock.advance(step)
            beat(client, odoo)
        beat(client, odoo, adapter_id="KKT-002")
        clock.advance(65)
        record = odoo.get_adapter("KKT-001", cadence_s=30)
        assert record is not None
        assert record["beats"] == 5
        assert record["intervals_s"] == [30, 30, 90, 31]
        assert record["last_seen"] == "2025-11-30T12:03:01.000Z"
        assert record["seconds_since_last"] == 65
        assert (record["missed_between"], record["missed_since_last"]) == (2, 1)
        assert odoo.missed_beats("KKT-001", 30) == 3
        assert odoo.missed_beats("never-seen", 30) == 0
        over_http = client.get(f"{odoo.url}/_test/adapters", params={"cadence_s": 30}).json()
        assert over_http["KKT-001"] == record
        assert set(over_http) == {"KKT-001", "KKT-002"}
        assert client.get(f"{odoo.url}/_test/adapters", params={"cadence_s": 0}).status_code == 400


@pytest.mark.parametrize(
    ("interval", "cadence", "missed"),
    [(30, 30, 0), (44, 30, 0), (46, 30, 1), (60, 30, 1), (90, 30, 2), (0.5, 30, 0), (300, 60, 4)],
)
def test_missed_beats_arithmetic(interval: float, cadence: float, missed: int) -> None:
    """An interval of d seconds at cadence c misses round(d / c) - 1 beats (never fewer than 0)."""
    assert missed_in(interval, cadence) == missed


def test_heartbeat_without_adapter_id_is_recorded_as_unknown(
    mock_odoo_server: MockOdooServer, client: httpx.Client
) -> None:
    """Any JSON object is a heartbeat; one without ``adapter_id`` is filed under ``unknown``."""
    assert client.post(f"{mock_odoo_server.url}/api/v1/kkt/heartbeat", json={}).status_code == 200
    assert "unknown" in mock_odoo_server.get_adapters()
    assert client.post(f"{mock_odoo_server.url}/api/v1/kkt/heartbeat", content=b"[]").status_code == 400
