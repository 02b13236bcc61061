"""Restores are restores (real processes): a fresh install with two devices counts no restore, a deleted buffer
after sales counts its sales as restored."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient

from kkt_adapter.api.app import create_app
from kkt_adapter.config import load_settings
from kkt_adapter.testing import AdapterProcess, bodies

pytestmark = pytest.mark.slow


def _devices(**state_dirs: Path) -> str:
    return json.dumps(
        [{"name": name, "driver": "emulated", "state_dir": str(path)} for name, path in state_dirs.items()]
    )


def _restored(http: httpx.Client | TestClient) -> float:
    """``kkt_documents_restored_total`` as ``/metrics`` reads."""
    for line in http.get("/metrics").text.splitlines():
        if line.startswith("kkt_documents_restored_total "):
            return float(line.split()[1])
    raise AssertionError("kkt_documents_restored_total is not in /metrics")


def test_a_fresh_install_counts_no_restore_in_process(tmp_path: Path) -> None:
    """The emulated KKT's first start, in process: its registration is in the buffer, and /metrics counts 0."""
    settings = load_settings({"KKT_DATA_DIR": str(tmp_path / "data"), "KKT_SYNC_ENABLED": "false"})
    with TestClient(create_app(settings)) as client:
        assert _restored(client) == 0
        assert client.get("/v1/kkt/buffer/status").json()["pending"] >= 1, "the registration is stored"
        assert client.post("/v1/kkt/receipt", json=bodies.sale(10), headers={"Idempotency-Key": "k"}).status_code == 200
        assert _restored(client) == 0


def test_a_fresh_install_with_two_devices_counts_no_restore(tmp_path: Path) -> None:
    """Two new emulated KKTs: their registrations are stored, /metrics counts 0 restores, and the log has no restore
    WARNING; a sale on each still counts none."""
    env = {"KKT_DEVICES": _devices(main=tmp_path / "a", spare=tmp_path / "b"), "KKT_SYNC_ENABLED": "false"}
    with AdapterProcess(tmp_path / "data", env=env) as adapter, httpx.Client(base_url=adapter.url, timeout=30) as http:
        assert _restored(http) == 0
        for n, device in enumerate(("main", "spare")):
            body = bodies.sale(10, pos_id="POS-1") | {"device": device}
            assert http.post("/v1/kkt/receipt", json=body, headers={"Idempotency-Key": f"k{n}"}).status_code == 200
        assert _restored(http) == 0
        log = adapter.log_path.read_text()
    assert "the buffer lacked" not in log


def test_a_buffer_deleted_after_sales_counts_them_as_restored(tmp_path: Path) -> None:
    """Two sales, the adapter stopped and its buffer file deleted: the next start restores the sales (and counts
    them), but not the FN's registration."""
    env = {"KKT_DEVICES": _devices(main=tmp_path / "a"), "KKT_SYNC_ENABLED": "false"}
    data = tmp_path / "data"
    with AdapterProcess(data, env=env) as adapter, httpx.Client(base_url=adapter.url, timeout=30) as http:
        for n in range(2):
            body = bodies.sale(10, pos_id="POS-1")
            assert http.post("/v1/kkt/receipt", json=body, headers={"Idempotency-Key": f"k{n}"}).status_code == 200
    for suffix in ("", "-wal", "-shm"):
        (data / f"buffer.sqlite3{suffix}").unlink(missing_ok=True)
    with AdapterProcess(data, env=env) as adapter, httpx.Client(base_url=adapter.url, timeout=30) as http:
        assert _restored(http) == 2
        assert "the buffer lacked" in adapter.log_path.read_text()
