"""A swapped device is caught (real processes): a device name pointed at another emulated KKT while a receipt bound
to it is undecided stops the start with one line and exit 6; pointed back it settles, and with nothing undecided the
new FN is recorded."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import httpx
import pytest

from kkt_adapter.buffer import Buffer
from kkt_adapter.domain.receipt import Item, Payment, Receipt
from kkt_adapter.server import EXIT_DEVICE
from kkt_adapter.testing import AdapterProcess, FakeClock, bodies
from kkt_adapter.testing.process import free_port

pytestmark = pytest.mark.slow

SALE = Receipt(
    pos_id="POS-001",
    operation="sale",
    items=(Item("Линза", 1000, Decimal(1), 1000, 1),),
    payments=(Payment("cash", 1000),),
)


def _devices(**state_dirs: Path) -> str:
    return json.dumps(
        [{"name": name, "driver": "emulated", "state_dir": str(path)} for name, path in state_dirs.items()]
    )


def _serve(data: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """``kkt-adapter serve`` expected to refuse the start (it exits by itself)."""
    clean = {key: value for key, value in os.environ.items() if not key.upper().startswith("KKT_")}
    environment = (
        clean | {"KKT_DATA_DIR": str(data), "KKT_API_PORT": str(free_port()), "KKT_API_HOST": "127.0.0.1"} | env
    )
    return subprocess.run(
        [sys.executable, "-m", "kkt_adapter", "serve"],
        env=environment,
        cwd=data,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_a_name_pointed_at_another_kkt_under_an_undecided_receipt_stops_the_start(tmp_path: Path) -> None:
    """``main`` printed on KKT A and left a receipt ``accepted``; pointed at KKT B the start exits 6 with one line
    naming both FNs; pointed back at A it starts and settles the receipt; then pointed at B (nothing undecided) it
    starts and records the new FN."""
    data, kkt_a, kkt_b = tmp_path / "data", tmp_path / "a", tmp_path / "b"
    on_a = {"KKT_DEVICES": _devices(main=kkt_a), "KKT_SYNC_ENABLED": "false"}
    on_b = {"KKT_DEVICES": _devices(main=kkt_b), "KKT_SYNC_ENABLED": "false"}
    for kkt in (kkt_a, kkt_b):  # each emulated KKT registers its own FN on its first start
        with AdapterProcess(tmp_path / f"first-{kkt.name}", env={"KKT_DEVICES": _devices(main=kkt)}):
            pass
    with AdapterProcess(data, env=on_a) as adapter, httpx.Client(base_url=adapter.url, timeout=30) as http:
        sale = http.post("/v1/kkt/receipt", json=bodies.sale(10), headers={"Idempotency-Key": "k0"})
        fn_a = sale.json()["fiscal_doc"]["fn_number"]
    buffer = Buffer(data / "buffer.sqlite3", clock=FakeClock())
    try:  # killed between storing a sale and printing it
        buffer.begin_accept(key="undecided", receipt=SALE, capacity=100, device="main")
    finally:
        buffer.close()

    refused = _serve(data, on_b)
    assert refused.returncode == EXIT_DEVICE, refused.stderr
    (line,) = refused.stderr.strip().splitlines()
    assert line.startswith("kkt-adapter: cannot start: device 'main' now reaches a KKT with FN ")
    assert f"sent to the KKT with FN {fn_a}" in line and "point 'main' back" in line

    with AdapterProcess(data, env=on_a) as adapter, httpx.Client(base_url=adapter.url, timeout=30) as http:
        assert http.get("/v1/health").status_code == 200
    with AdapterProcess(data, env=on_b) as adapter, httpx.Client(base_url=adapter.url, timeout=30) as http:
        sale = http.post("/v1/kkt/receipt", json=bodies.sale(10), headers={"Idempotency-Key": "k1"})
        assert sale.status_code == 200, sale.text
        assert sale.json()["fiscal_doc"]["fn_number"] != fn_a
        assert "fiscal drive was replaced" in adapter.log_path.read_text()
