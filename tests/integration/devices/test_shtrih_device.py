"""A Shtrih-M entry in ``KKT_DEVICES`` (driver ``shtrih``, its ``url`` and ``protocol``) beside an emulated device: the
adapter prints on the Shtrih-M emulator over real TCP, and a definite refusal of either device (paper out) moves the
sale to the other one, each device's FN holding what its answers say."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from integration.devices_support import emulated, failovers, fd, ready, sell, set_fault, state_dir
from kkt_adapter.api.app import create_app
from kkt_adapter.config import load_settings
from kkt_emulators.shtrih import MockShtrihServer


@pytest.fixture
def shtrih(tmp_path: Path) -> Iterator[MockShtrihServer]:
    with MockShtrihServer(port=0, data_dir=tmp_path / "shtrih-kkt") as server:
        server.kkt.open_shift()
        yield server


def adapter(data_dir: Path, shtrih: MockShtrihServer, *, shtrih_first: bool) -> TestClient:
    ready(state_dir(data_dir, "main"))
    entry = {"name": "shtrih", "driver": "shtrih", "url": shtrih.url, "protocol": "v2"}
    devices = [entry, emulated(data_dir, "main")] if shtrih_first else [emulated(data_dir, "main"), entry]
    env = {
        "KKT_DATA_DIR": str(data_dir),
        "KKT_SYNC_ENABLED": "false",
        "KKT_DEVICES": json.dumps(devices),
        "KKT_FAILOVER_RECHECK_S": "0",
    }
    return TestClient(create_app(load_settings(env)))


def test_an_emulated_primary_out_of_paper_moves_sales_to_the_shtrih_backup(
    tmp_path: Path, shtrih: MockShtrihServer
) -> None:
    """The primary prints first; out of paper, the sale prints on the Shtrih-M, whose FN holds it under the answer's
    FD number; paper back, sales return to the primary."""
    data = tmp_path / "data"
    with adapter(data, shtrih, shtrih_first=False) as client:
        assert sell(client, "k1")["device"] == "main"
        set_fault(state_dir(data, "main"), "paper_out")
        moved = sell(client, "k2")
        assert moved["device"] == "shtrih"
        document = shtrih.kkt.find_by_number(fd(moved))
        assert document is not None and document.doc_type == 3
        assert str(document.fiscal_sign) == moved["fiscal_doc"]["fiscal_sign"]
        set_fault(state_dir(data, "main"), "paper_out", False)
        assert sell(client, "k3")["device"] == "main"


def test_the_shtrih_primary_refusing_for_paper_moves_the_sale_to_the_emulated_backup(
    tmp_path: Path, shtrih: MockShtrihServer
) -> None:
    """The Shtrih-M's 6Bh before anything printed is a definite refusal: the sale prints on the backup, the failover
    says why, and the Shtrih-M's FN holds no document for it."""
    data = tmp_path / "data"
    with adapter(data, shtrih, shtrih_first=True) as client:
        assert sell(client, "k1")["device"] == "shtrih"
        last = shtrih.kkt.status().last_fd_number
        shtrih.faults.program(paper_out=True)
        moved = sell(client, "k2")
        assert moved["device"] == "main"
        (detail,) = failovers(client, moved["receipt_id"])
        assert detail.startswith("shtrih -> main: paper_out"), detail
        assert shtrih.kkt.status().last_fd_number == last
        shtrih.faults.program(paper_out=False)
        assert sell(client, "k3")["device"] == "shtrih"
