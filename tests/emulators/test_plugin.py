"""The pytest plugin: fixtures give running servers with fresh state on free ports."""

from __future__ import annotations

import sys

import httpx
import pytest

from kkt_emulators.atol import MockAtolServer
from kkt_emulators.odoo import MockOdooServer
from kkt_emulators.ofd import MockOFDServer


@pytest.mark.parametrize("round_", [1, 2])
def test_each_test_gets_a_fresh_ofd(mock_ofd_server: MockOFDServer, client: httpx.Client, round_: int) -> None:
    """Whatever an earlier test did, the OFD fixture starts with no calls and no faults."""
    assert mock_ofd_server.running
    assert mock_ofd_server.port != 9000
    assert mock_ofd_server.get_call_count() == 0
    assert client.post(f"{mock_ofd_server.url}/ofd/v1/receipt", json={}).status_code == 200
    mock_ofd_server.set_permanent_failure()


@pytest.mark.parametrize("round_", [1, 2])
def test_each_test_gets_a_fresh_odoo(mock_odoo_server: MockOdooServer, client: httpx.Client, round_: int) -> None:
    """Whatever an earlier test did, the ERP fixture starts with no heartbeats and no faults."""
    assert mock_odoo_server.port != 8069
    assert mock_odoo_server.get_received_heartbeats() == []
    assert client.post(f"{mock_odoo_server.url}/api/v1/kkt/heartbeat", json={}).status_code == 200
    mock_odoo_server.set_permanent_failure()


@pytest.mark.parametrize("round_", [1, 2])
def test_each_test_gets_a_fresh_atol(mock_atol_server: MockAtolServer, client: httpx.Client, round_: int) -> None:
    """Whatever an earlier test did, the ATOL fixture has a fresh device (only its registration), no jobs, no faults."""
    assert mock_atol_server.port != 16732
    status = client.post(f"{mock_atol_server.url}/api/v2/operations/queryFnStatus").json()
    assert status["fnStatus"]["fiscalDocumentNumber"] == 1
    assert client.get(f"{mock_atol_server.url}/api/v2/getRequestsQueueStatus").json()["ready"] == 0
    job = {"uuid": "same-uuid-each-round", "request": [{"type": "openShift", "operator": {"name": "Иванов И.И."}}]}
    assert client.post(f"{mock_atol_server.url}/api/v2/requests", json=job).status_code == 201
    mock_atol_server.faults.disconnect()


def test_plugin_import_is_cheap() -> None:
    """Loading the plugin does not import the servers (nor uvicorn): it loads in every pytest run."""
    import subprocess

    code = (
        "import sys, kkt_emulators.pytest_plugin; "
        "heavy = ('uvicorn', 'starlette', 'kkt_emulators.ofd', 'kkt_emulators.atol'); "
        "print(any(m.startswith(heavy) for m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60)
    assert out.stdout.strip() == "False"
