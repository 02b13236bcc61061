"""The ERP heartbeat against the mock ERP, with a real adapter process."""

from __future__ import annotations

import httpx

from e2e.support import FAST, Spawn, buffer_status, print_receipt, receipt, wait_for
from kkt_emulators.odoo import MockOdooServer
from kkt_emulators.ofd import MockOFDServer

CADENCE_S = 0.2


def heartbeat_state(url: str) -> str:
    state: str = httpx.get(url + "/v1/kkt/heartbeat/status", timeout=5).json()["state"]
    return state


def test_heartbeat_cadence_and_erp_outage_does_not_touch_sales(
    spawn: Spawn, mock_odoo_server: MockOdooServer, mock_ofd_server: MockOFDServer
) -> None:
    """Scenario 14 — Heartbeat: beats keep reaching the mock ERP with the adapter's state; with
    the ERP down the heartbeat goes OFFLINE while receipts still print and sync, and it comes back ONLINE."""
    env = FAST | {
        "KKT_OFD_API_URL": mock_ofd_server.url,
        "KKT_ODOO_API_URL": mock_odoo_server.url,
        "KKT_HEARTBEAT_INTERVAL": str(CADENCE_S),
        "KKT_ADAPTER_ID": "till-7",
    }
    adapter = spawn(env)
    wait_for(lambda: (mock_odoo_server.get_adapter("till-7") or {}).get("beats", 0) >= 6, what="six beats")
    assert mock_odoo_server.get_adapter("till-7", cadence_s=CADENCE_S) is not None
    beat = mock_odoo_server.get_received_heartbeats()[-1]
    assert beat["adapter_id"] == "till-7"
    assert {"total_capacity", "current_queued", "percent_full"} <= set(beat["buffer_status"])
    assert beat["circuit_breaker"]["state"] == "CLOSED"
    assert heartbeat_state(adapter.url) == "ONLINE"

    mock_odoo_server.set_permanent_failure(True)
    wait_for(lambda: heartbeat_state(adapter.url) == "OFFLINE", what="heartbeat offline")
    printed = [print_receipt(adapter.url, i) for i in range(5)]  # sales go on with the ERP gone
    wait_for(lambda: all(receipt(adapter.url, p["receipt_id"])["state"] == "synced" for p in printed), what="synced")
    assert buffer_status(adapter.url)["synced"] == 5

    mock_odoo_server.set_success()
    wait_for(lambda: heartbeat_state(adapter.url) == "ONLINE", what="heartbeat back online")
    assert mock_odoo_server.get_received_heartbeats()[-1]["buffer_status"]["synced"] == 5
