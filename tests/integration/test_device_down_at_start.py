"""A KKT that does not answer when the adapter starts does not stop it (real processes): the adapter serves, health
is unhealthy naming the device and what to check, a sale is refused 503 with nothing printed; once the KKT's Web
Requests server answers, the device is settled from its journal and the sale prints."""

from __future__ import annotations

import time
from pathlib import Path

import httpx
import pytest

from kkt_adapter.domain.device import DOC_RECEIPT
from kkt_adapter.testing import AdapterProcess, bodies
from kkt_adapter.testing.process import free_port
from kkt_emulators.atol import MockAtolServer

pytestmark = pytest.mark.slow


def _wait_healthy(http: httpx.Client, *, within_s: float = 30.0) -> dict[str, object]:
    deadline = time.monotonic() + within_s
    while time.monotonic() < deadline:
        health = http.get("/v1/health")
        if health.status_code == 200:
            return dict(health.json())
        time.sleep(0.2)
    raise AssertionError(f"health did not recover: {health.text}")


def test_web_requests_down_at_start_serves_unhealthy_then_prints_once_it_answers(tmp_path: Path) -> None:
    """ATOL Web Requests down at start: the adapter answers, health is 503 naming the device and what to check, a sale
    is 503 ``offline`` with nothing printed; the server started, health recovers and the same key prints once."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = {"KKT_DRIVER_TYPE": "atol", "KKT_ATOL_URL": url, "KKT_SYNC_ENABLED": "false"}
    body = bodies.sale("100.50", items=[bodies.item("Товар", "100.50", vat_rate=22)], paid_by="card", pos_id="POS-1")
    key = {"Idempotency-Key": "till-1:0001"}
    with AdapterProcess(tmp_path / "data", env=env) as adapter, httpx.Client(base_url=adapter.url, timeout=30) as http:
        health = http.get("/v1/health")
        assert health.status_code == 503, health.text
        reasons = " ".join(health.json()["reasons"])
        assert "not answering" in reasons and url in reasons and "Web Requests service runs" in reasons
        refused = http.post("/v1/kkt/receipt", json=body, headers=key)
        assert refused.status_code == 503, refused.text
        assert refused.json()["error"] == "offline"
        assert "Web Requests" in refused.text

        with MockAtolServer(port=port, data_dir=tmp_path / "kkt") as server:
            _wait_healthy(http)
            printed = http.post("/v1/kkt/receipt", json=body, headers=key)
            assert printed.status_code == 200, printed.text
            receipts = [doc for doc in server.kkt.journal() if doc.doc_type == DOC_RECEIPT]
            assert len(receipts) == 1
            assert http.post("/v1/kkt/receipt", json=body, headers=key).content == printed.content
        log = adapter.log_path.read_text()
        assert "Traceback" not in log
