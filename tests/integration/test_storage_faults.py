"""Storage faults, told honestly and survived: a lost WAL or buffer file is rebuilt from the device's journal at the
next start, a damaged file stops the start with the remedy, and a buffer that refuses writes answers 503
``storage_unavailable`` (saying whether the device printed) until it recovers, after which the resend of the key
returns the printed receipt.

Faults are injected on the buffer's writer connection with an SQLite authorizer that denies writes, and with
``PRAGMA query_only`` for a read-only file: the tests run as root, which ``chmod 0444`` would not stop.
"""

from __future__ import annotations

import random
import subprocess
import sys
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from integration.storage_support import allow_writes, deny_writes
from kkt_adapter.api.app import create_app
from kkt_adapter.buffer import Buffer
from kkt_adapter.buffer.connection import Database
from kkt_adapter.config import load_settings
from kkt_adapter.testing import AdapterProcess, FakeClock, FakeDriver, bodies, wait_for

#: Phase 1 alone: nothing is acknowledged by an OFD, so every document the device signed stays unsent.
NO_SYNC = {"KKT_SYNC_ENABLED": "false"}


def sale(kopecks: int) -> dict[str, Any]:
    return bodies.sale(bodies.rubles(kopecks), name="Оправа", paid_by="card")


def sell(url: str, keys: range) -> dict[str, tuple[dict[str, Any], int]]:
    """Post one sale per key; each key's body and the FD number it was printed with."""
    sold: dict[str, tuple[dict[str, Any], int]] = {}
    with httpx.Client(base_url=url, timeout=10) as http:
        for n in keys:
            body = sale(100 + n)
            response = http.post("/v1/kkt/receipt", json=body, headers={"Idempotency-Key": f"k{n}"})
            assert response.status_code == 200, response.text
            sold[f"k{n}"] = (body, response.json()["fiscal_doc"]["fiscal_doc_number"])
    return sold


def assert_all_present(url: str, sold: dict[str, tuple[dict[str, Any], int]]) -> None:
    """A replay of each key and body answers 200 with the original FD number, and the receipt is queued."""
    with httpx.Client(base_url=url, timeout=10) as http:
        for key, (body, fd_number) in sold.items():
            replay = http.post("/v1/kkt/receipt", json=body, headers={"Idempotency-Key": key})
            assert replay.status_code == 200, (key, replay.text)
            assert replay.json()["fiscal_doc"]["fiscal_doc_number"] == fd_number, key
            stored = http.get(f"/v1/kkt/receipt/{replay.json()['receipt_id']}").json()
            assert stored["state"] == "pending", (key, stored)


def restored_total(url: str) -> float:
    text = httpx.get(url + "/metrics", timeout=10).text
    (line,) = [line for line in text.splitlines() if line.startswith("kkt_documents_restored_total ")]
    return float(line.split()[1])


def remove(path: Path, *suffixes: str) -> None:
    for suffix in suffixes:
        path.with_name(path.name + suffix).unlink(missing_ok=True)


class TestLostFiles:
    def test_a_wal_deleted_after_sigkill_is_rebuilt_from_the_journal(self, tmp_path: Path) -> None:
        """SIGKILL, then the -wal is deleted (the last sales' commits with it): at the next start every receipt the
        device signed is present as pending, the restore is counted and audited."""
        data = tmp_path / "data"
        adapter = AdapterProcess(data, env=NO_SYNC)
        adapter.start()
        try:
            sold = sell(adapter.url, range(5))
            adapter.stop()
            # A clean stop checkpoints and removes the WAL: these five are in the main file.
            assert not (data / "buffer.sqlite3-wal").exists()
            adapter.start()
            sold |= sell(adapter.url, range(5, 10))
            adapter.kill()
            remove(data / "buffer.sqlite3", "-wal")
            adapter.start()
            assert restored_total(adapter.url) >= 5
            assert_all_present(adapter.url, sold)
        finally:
            adapter.stop()
        buffer = Buffer(data / "buffer.sqlite3", clock=FakeClock())
        try:
            # The first start restored the device's registration too; the last restore is the lost WAL's.
            event = [e for e in buffer.events(limit=10_000) if e["kind"] == "restore"][-1]
            assert event["detail"].endswith(f"-{max(fd for _, fd in sold.values())}")
        finally:
            buffer.close()

    def test_a_deleted_buffer_file_is_rebuilt_from_the_journal(self, tmp_path: Path) -> None:
        """SIGKILL, then the whole buffer (file, -wal, -shm) is deleted: the next start restores every receipt."""
        data = tmp_path / "data"
        adapter = AdapterProcess(data, env=NO_SYNC)
        adapter.start()
        try:
            sold = sell(adapter.url, range(8))
            adapter.kill()
            remove(data / "buffer.sqlite3", "", "-wal", "-shm")
            adapter.start()
            assert restored_total(adapter.url) >= 8
            assert_all_present(adapter.url, sold)
        finally:
            adapter.stop()


class TestDamagedFile:
    def test_serve_refuses_a_damaged_file_and_recover_rebuilds_it(self, tmp_path: Path) -> None:
        """16 KB of garbage mid-file: ``serve`` exits 3 with one line naming the file and the remedy (no traceback);
        ``buffer verify`` fails; ``buffer recover`` moves it aside and restores; the adapter then serves every key."""
        data = tmp_path / "data"
        adapter = AdapterProcess(data, env=NO_SYNC)
        adapter.start()
        try:
            sold = sell(adapter.url, range(40))
        finally:
            adapter.stop()
        path = data / "buffer.sqlite3"
        middle = path.stat().st_size // 2 // 4096 * 4096
        with path.open("r+b") as file:
            file.seek(middle)
            file.write(random.Random(54).randbytes(16 * 1024))

        env = adapter.environment()

        def cli(*args: str) -> subprocess.CompletedProcess[str]:
            command = [sys.executable, "-m", "kkt_adapter", *args]
            return subprocess.run(command, env=env, cwd=data, capture_output=True, text=True, timeout=120)

        served = cli("serve")
        assert served.returncode == 3, served.stderr
        assert str(path) in served.stderr
        assert "damaged" in served.stderr
        assert "kkt-adapter buffer recover" in served.stderr
        assert "Traceback" not in served.stderr

        verified = cli("buffer", "verify")
        assert verified.returncode == 1
        assert "damaged" in verified.stderr

        recovered = cli("buffer", "recover")
        assert recovered.returncode == 0, recovered.stderr
        assert "restored from the device's journal" in recovered.stdout
        assert [p.name for p in data.glob("buffer.sqlite3.damaged-*")]

        verified = cli("buffer", "verify")
        assert verified.returncode == 0, verified.stdout + verified.stderr

        adapter.start()
        try:
            assert_all_present(adapter.url, sold)
        finally:
            adapter.stop()

    def test_verify_names_what_the_buffer_lacks_and_backup_copies_it(self, tmp_path: Path) -> None:
        """A buffer file that lost its WAL lacks the last receipts: verify lists their FD numbers and fails; an
        online backup of the running adapter's buffer passes quick_check."""
        data = tmp_path / "data"
        adapter = AdapterProcess(data, env=NO_SYNC)
        adapter.start()
        env = adapter.environment()
        try:
            sell(adapter.url, range(3))
            copy = tmp_path / "copy.sqlite3"
            backed = subprocess.run(
                [sys.executable, "-m", "kkt_adapter", "buffer", "backup", str(copy)],
                env=env,
                cwd=data,
                capture_output=True,
                text=True,
                timeout=60,
            )
            assert backed.returncode == 0, backed.stderr
            assert Database(copy).probe_write()
            adapter.stop()
            adapter.start()
            late = sell(adapter.url, range(3, 5))
            adapter.kill()
        finally:
            adapter.stop()
        remove(data / "buffer.sqlite3", "-wal")
        verified = subprocess.run(
            [sys.executable, "-m", "kkt_adapter", "buffer", "verify"],
            env=env,
            cwd=data,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert verified.returncode == 1
        for _, fd_number in late.values():
            assert str(fd_number) in verified.stderr


# -- a buffer that refuses writes, through the HTTP API ------------------------------------------------------------


@pytest.fixture
def driver() -> FakeDriver:
    return FakeDriver()


@pytest.fixture
def client(tmp_path: Path, driver: FakeDriver) -> Iterator[TestClient]:
    settings = load_settings({"KKT_DATA_DIR": str(tmp_path), **NO_SYNC})
    with TestClient(create_app(settings, clock=FakeClock(), driver=driver)) as c:
        yield c


def writer(client: TestClient) -> Database:
    db: Database = client.app.state.adapter.buffer.db  # type: ignore[attr-defined]
    return db


def post(client: TestClient, key: str, body: dict[str, Any] | None = None) -> Any:
    return client.post("/v1/kkt/receipt", json=body or sale(100), headers={"Idempotency-Key": key})


class TestRefusedWrites:
    def test_a_refused_write_before_printing_is_503_and_health_says_why_until_it_recovers(
        self, client: TestClient, driver: FakeDriver
    ) -> None:
        """Writes denied: the sale is 503 storage_unavailable with Retry-After and nothing printed; health is 503
        unhealthy naming the database and its error; allowed again, both recover by themselves."""
        db = writer(client)
        deny_writes(db)
        response = post(client, "s1")
        assert response.status_code == 503
        assert response.json()["error"] == "storage_unavailable"
        assert "nothing was printed" in response.json()["detail"]
        assert int(response.headers["Retry-After"]) > 0
        assert driver.printed == []

        health = client.get("/v1/health")
        assert health.status_code == 503
        assert health.json()["status"] == "unhealthy"
        assert "database not writable" in health.json()["reasons"]
        assert "not authorized" in health.json()["components"]["database"]["last_error"]

        allow_writes(db)
        health = client.get("/v1/health")
        assert health.status_code == 200
        assert health.json()["components"]["database"]["status"] == "ok"
        assert post(client, "s1").status_code == 200
        assert len(driver.printed) == 1

    def test_a_buffer_failing_after_the_print_keeps_the_receipt_for_the_resend(
        self, client: TestClient, driver: FakeDriver
    ) -> None:
        """The device prints, then the buffer refuses the fiscal data: 503 saying it printed and to resend; the
        resend while storage is down says the same (not 409); once storage is back the resend gets the receipt
        with the same FD number, printed once, queued for the OFD."""
        db = writer(client)
        driver.gate = threading.Event()
        with ThreadPoolExecutor(1) as pool:
            first = pool.submit(post, client, "p1")
            buffer = client.app.state.adapter.buffer  # type: ignore[attr-defined]
            wait_for(lambda: buffer.counts().accepted == 1, what="the sale stored as accepted")
            deny_writes(db)
            driver.gate.set()
            response = first.result(timeout=30)
        assert response.status_code == 503, response.text
        assert response.json()["error"] == "storage_unavailable"
        detail = response.json()["detail"]
        fd_number = driver.printed[0][1].fiscal_doc_number
        assert f"printed this receipt (FD {fd_number})" in detail
        assert "resend the same Idempotency-Key" in detail
        assert "Retry-After" in response.headers

        again = post(client, "p1")
        assert again.status_code == 503, again.text
        assert f"FD {fd_number}" in again.json()["detail"]

        allow_writes(db)
        resent = post(client, "p1")
        assert resent.status_code == 200, resent.text
        assert resent.json()["fiscal_doc"]["fiscal_doc_number"] == fd_number
        assert len(driver.printed) == 1
        stored = client.get(f"/v1/kkt/receipt/{resent.json()['receipt_id']}").json()
        assert stored["state"] == "pending"
        assert post(client, "p1").content == resent.content

    def test_a_read_only_buffer_is_503_for_every_sale_until_it_is_writable(
        self, client: TestClient, driver: FakeDriver
    ) -> None:
        """A buffer that refuses every write (query_only, as a read-only file would) answers 503 with its reason,
        prints nothing, and serves again once writable."""
        db = writer(client)
        with db._lock:
            db._conn.execute("PRAGMA query_only = ON")
        response = post(client, "r1")
        assert response.status_code == 503
        assert "readonly" in response.json()["detail"]
        assert driver.printed == []
        with db._lock:
            db._conn.execute("PRAGMA query_only = OFF")
        assert post(client, "r1").status_code == 200
