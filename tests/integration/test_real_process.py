"""Against a real ``kkt-adapter serve`` process with the emulated KKT: concurrency and SIGKILL at random instants."""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from kkt_adapter.buffer import Buffer
from kkt_adapter.testing import FakeClock, bodies
from kkt_adapter.testing.process import AdapterProcess
from kkt_emulators.device import DOC_RECEIPT, EmulatedKKT
from kkt_emulators.fiscal import QR_PATTERN


def sale(kopecks: int) -> dict[str, Any]:
    return bodies.sale(bodies.rubles(kopecks), name="Оправа", paid_by="card")


@pytest.fixture
def adapter(tmp_path: Path) -> Iterator[AdapterProcess]:
    process = AdapterProcess(tmp_path / "data")
    process.start()
    try:
        yield process
    finally:
        process.stop()


def journal_receipts(data_dir: Path) -> tuple[list[int], dict[str, int]]:
    """All FD numbers in the device's journal, and the FD number of each receipt by its key."""
    with EmulatedKKT(data_dir / "kkt", print_delay_ms=0) as kkt:
        documents = kkt.journal(limit=1_000_000)
    numbers = [d.fd_number for d in documents]
    keys = [d.idempotency_key for d in documents if d.doc_type == DOC_RECEIPT]
    assert len(keys) == len(set(keys)), "a key was printed twice"
    return numbers, {d.idempotency_key: d.fd_number for d in documents if d.idempotency_key}


def test_ten_threads_get_unique_gap_free_fd_numbers(adapter: AdapterProcess) -> None:
    """10 threads × 10 receipts → 100 receipts with unique, gap-free FD numbers and valid QR strings."""
    results: list[dict[str, Any]] = []
    lock = threading.Lock()

    def worker(n: int) -> None:
        with httpx.Client(base_url=adapter.url, timeout=10) as http:
            for i in range(10):
                r = http.post("/v1/kkt/receipt", json=sale(100 + i), headers={"Idempotency-Key": f"t{n}-{i}"})
                assert r.status_code == 200, r.text
                with lock:
                    results.append(r.json())

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(10)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    numbers = sorted(r["fiscal_doc"]["fiscal_doc_number"] for r in results)
    assert len(numbers) == 100
    assert numbers == list(range(numbers[0], numbers[0] + 100))
    assert all(QR_PATTERN.fullmatch(r["fiscal_doc"]["qr_code_data"]) for r in results)


def test_sigkill_at_random_instants_loses_nothing(tmp_path: Path) -> None:
    """20 SIGKILLs at random instants under concurrent load: every 200 is kept once, FD numbers unique, gap-free."""
    rng = random.Random(20261123)
    data_dir = tmp_path / "data"
    adapter = AdapterProcess(data_dir, env={"KKT_EMULATOR_PRINT_DELAY_MS": "1"})
    acked: dict[str, dict[str, Any]] = {}
    lock = threading.Lock()
    stop = threading.Event()
    errors: list[str] = []

    def client(n: int) -> None:
        with httpx.Client(timeout=5) as http:
            i = 0
            while not stop.is_set():
                key, body = f"c{n}-{i}", sale(rng.randint(1, 10**6))
                deadline = time.monotonic() + 60
                # Like a careful POS: after a lost answer, resend the same key until it gets a final answer.
                while time.monotonic() < deadline:
                    try:
                        r = http.post(adapter.url + "/v1/kkt/receipt", json=body, headers={"Idempotency-Key": key})
                    except httpx.TransportError:
                        time.sleep(0.01)
                        continue
                    if r.status_code == 200:
                        with lock:
                            acked[key] = r.json()
                        break
                    if r.status_code in (409, 503):
                        time.sleep(0.01)
                        continue
                    errors.append(f"{key}: {r.status_code} {r.text}")
                    return
                i += 1

    adapter.start()
    threads = [threading.Thread(target=client, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    kills = 0
    try:
        for _ in range(20):
            time.sleep(rng.uniform(0.02, 0.2))
            adapter.kill()
            kills += 1
            adapter.start()
        time.sleep(0.05)
    finally:
        stop.set()
        for t in threads:
            t.join(timeout=60)
        adapter.stop()

    assert kills == 20
    assert not errors, errors
    assert len(acked) > 20
    numbers, fd_by_key = journal_receipts(data_dir)
    assert numbers == list(range(1, len(numbers) + 1)), "FD numbers must be continuous"
    buffer = Buffer(data_dir / "buffer.sqlite3", clock=FakeClock())
    try:
        assert buffer.counts().accepted == 0, "nothing stuck between store and print"
        for key, response in acked.items():
            stored = buffer.get_by_key(key)
            assert stored is not None, f"acknowledged receipt {key} lost"
            assert stored.state in ("pending", "synced")
            assert stored.fiscal is not None
            assert stored.fiscal.fiscal_doc_number == response["fiscal_doc"]["fiscal_doc_number"] == fd_by_key[key]
        with buffer.db.read() as conn:
            rows = conn.execute("SELECT idempotency_key, state, fd_number FROM receipts").fetchall()
        printed = [row for row in rows if row["fd_number"] is not None]
        receipt_rows = {
            r["idempotency_key"]: r["fd_number"] for r in printed if not r["idempotency_key"].startswith("journal:")
        }
        assert receipt_rows == fd_by_key, "every printed receipt has exactly its one buffer row"
        assert sorted(r["fd_number"] for r in printed) == numbers, "every document the device signed is kept once"
    finally:
        buffer.close()


def test_json_log_format_is_one_object_per_line(tmp_path: Path) -> None:
    """With KKT_LOG_FORMAT=json every line the process writes is one JSON object with time, level and message."""
    process = AdapterProcess(tmp_path / "data", env={"KKT_LOG_FORMAT": "json", "KKT_SYNC_ENABLED": "false"})
    with process, httpx.Client(base_url=process.url) as http:
        assert http.post("/v1/kkt/receipt", json=sale(100), headers={"Idempotency-Key": "j1"}).status_code == 200
    lines = [line for line in process.log_path.read_text().splitlines() if line.strip()]
    assert len(lines) >= 3
    entries = [json.loads(line) for line in lines]
    assert all({"time", "level", "logger", "message"} <= set(entry) for entry in entries)


def test_wrong_setting_stops_the_start_with_its_name(tmp_path: Path) -> None:
    """A wrong KKT_* value stops `kkt-adapter serve` with exit code 2, naming the variable and what is allowed."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("KKT_")} | {"KKT_BUFFER_MAX_SIZE": "lots"}
    result = subprocess.run(
        [sys.executable, "-m", "kkt_adapter", "serve"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert "KKT_BUFFER_MAX_SIZE" in result.stderr
    assert "valid integer" in result.stderr
