"""A store's data directory written by release 0.1.0 runs under this release: nothing lost, nothing sent twice."""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

from fastapi.testclient import TestClient

from kkt_adapter.api.app import create_app
from kkt_adapter.config import load_settings
from kkt_adapter.testing import bodies, wait_for
from kkt_emulators import EmulatedKKT, MockOFDServer

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "release-0.1.0"


def _receipts(buffer: Path) -> dict[str, tuple[str, int | None]]:
    conn = sqlite3.connect(buffer)
    try:
        rows = conn.execute("SELECT idempotency_key, state, fd_number FROM receipts").fetchall()
    finally:
        conn.close()
    return {key: (state, fd) for key, state, fd in rows}


def test_a_release_0_1_0_store_upgrades_and_delivers_what_it_never_did(
    tmp_path: Path, mock_ofd_server: MockOFDServer
) -> None:
    """Every receipt keeps its key, FD number and state; the shift reports 0.1.0 never delivered are taken from the
    journal and delivered; a replay of an old key answers its old document; the FN hears every acknowledgement."""
    data = tmp_path / "data"
    shutil.copytree(FIXTURE, data, ignore=shutil.ignore_patterns("*.md", "*.txt"))
    before = _receipts(data / "buffer.sqlite3")
    settings = load_settings(
        {
            "KKT_DATA_DIR": str(data),
            "KKT_OFD_API_URL": mock_ofd_server.url,
            "KKT_EMULATOR_PRINT_DELAY_MS": "0",
            "KKT_HLC_SYNC_INTERVAL": "0.05",
        }
    )
    with TestClient(create_app(settings)) as client:
        sale = bodies.sale("100.50", name="Товар 0")
        replay = client.post("/v1/kkt/receipt", json=sale, headers={"Idempotency-Key": "synced-0"})
        assert replay.status_code == 200
        assert replay.json()["fiscal_doc"]["fiscal_doc_number"] == before["synced-0"][1]
        wait_for(lambda: client.get("/v1/kkt/buffer/status").json()["pending"] == 0, what="the backlog delivered")
        assert client.get("/v1/kkt/fn").json()["unsent_count"] == 1, "only the dead letter is still unsent"
    after = _receipts(data / "buffer.sqlite3")
    for key, (state, fd) in before.items():
        assert after[key][1] == fd, key
        expected = {"pending": "synced"}.get(state, state)  # the pending ones were delivered since
        assert after[key][0] == expected, key
    with EmulatedKKT(data / "kkt", print_delay_ms=0, create=False) as kkt:
        journal = {d.fd_number: d.doc_type for d in kkt.journal(limit=1000)}
    kept = {fd for _, fd in after.values() if fd is not None}
    assert kept == set(journal), "every document the device signed is in the buffer"
    by_fd = {fd: (key, state) for key, (state, fd) in after.items() if fd is not None}
    reports = {fd: by_fd[fd] for fd, doc_type in journal.items() if doc_type != 3}
    assert len(reports) >= 2, "the fixture has a registration and a shift opening"
    assert all(key.startswith("journal:") and state == "synced" for key, state in reports.values()), reports
