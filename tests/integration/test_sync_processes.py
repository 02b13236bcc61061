"""Phase 2 with real processes: two adapters on one buffer, and SIGKILL while sending."""

from __future__ import annotations

import random
import threading
import time
from pathlib import Path
from typing import Any

import httpx

from kkt_adapter.testing import bodies, wait_for
from kkt_adapter.testing.process import AdapterProcess
from kkt_emulators.ofd import MockOFDServer
from ready_device import ready_device

FAST = {
    "KKT_HLC_SYNC_INTERVAL": "0.05",
    "KKT_SYNC_BACKOFF_BASE": "0.01",
    "KKT_SYNC_BACKOFF_MAX": "0.1",
    "KKT_CIRCUIT_BREAKER_TIMEOUT": "0.1",
    "KKT_CIRCUIT_BREAKER_RECOVERY_TIMEOUT": "0.2",
    "KKT_SYNC_LEASE_SECONDS": "5",
    "KKT_OFD_TIMEOUT": "2",  # a send (timeout × 2 tries) must fit inside its lease
}


def sale(i: int) -> dict[str, Any]:
    amount = f"{1 + i % 900}.{i % 100:02d}"
    return bodies.sale(amount, name=f"Товар {i}", pos_id=f"POS-{i % 3}")


def post_all(urls: list[str], count: int, *, threads: int = 4) -> dict[str, str]:
    """Post ``count`` sales spread over ``urls`` from several threads; receipt id by key."""
    ids: dict[str, str] = {}
    lock = threading.Lock()

    def run(n: int) -> None:
        with httpx.Client(timeout=10) as http:
            for i in range(n, count, threads):
                key = f"sale-{i}"
                r = http.post(urls[i % len(urls)] + "/v1/kkt/receipt", json=sale(i), headers={"Idempotency-Key": key})
                assert r.status_code == 200, r.text
                with lock:
                    ids[key] = r.json()["receipt_id"]

    workers = [threading.Thread(target=run, args=(n,)) for n in range(threads)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    return ids


def synced_count(url: str) -> int:
    return int(httpx.get(url + "/v1/kkt/buffer/status", timeout=5).json()["synced"])


def test_two_processes_on_one_buffer_send_nothing_twice(tmp_path: Path) -> None:
    """Two adapters share one buffer and a flapping OFD: 1,000 receipts, all delivered, no duplicate at the OFD."""
    with MockOFDServer(port=0) as ofd:
        ofd.set_fail_every(3)
        env = FAST | {"KKT_OFD_API_URL": ofd.url, "KKT_BUFFER_MAX_SIZE": "5000"}
        ready_device(tmp_path / "data" / "kkt")
        with AdapterProcess(tmp_path / "data", env=env) as a, AdapterProcess(tmp_path / "data", env=env) as b:
            ids = post_all([a.url, b.url], 1000)
            wait_for(lambda: synced_count(a.url) == 1000, timeout=120, what="1,000 synced")
            workers = [httpx.get(p.url + "/v1/kkt/worker/status").json() for p in (a, b)]
        stats = ofd.get_stats()
    assert len(set(ids.values())) == 1000
    assert stats["unique_documents"] == 1000
    assert stats["duplicates"] == 0, "leases kept the two processes from sending a receipt twice"
    assert all(w["totals"]["synced"] > 0 for w in workers), "both processes took part"


def test_sigkill_while_sending_then_everything_is_delivered(tmp_path: Path) -> None:
    """Killed mid-send five times, the adapter delivers every receipt after restart; resends of documents the OFD
    already had are acknowledged as duplicates, never stored twice."""
    rng = random.Random(7)
    with MockOFDServer(port=0) as ofd:
        ofd.set_latency(30, jitter_ms=20)
        env = FAST | {
            "KKT_OFD_API_URL": ofd.url,
            "KKT_SYNC_LEASE_SECONDS": "0.5",
            "KKT_OFD_TIMEOUT": "0.2",
            "KKT_SYNC_BATCH_SIZE": "8",
        }
        ready_device(tmp_path / "data" / "kkt")
        adapter = AdapterProcess(tmp_path / "data", env=env | {"KKT_SYNC_ENABLED": "false"})
        with adapter:
            post_all([adapter.url], 300)
        adapter = AdapterProcess(tmp_path / "data", env=env)
        try:
            for _ in range(5):
                adapter.start()
                time.sleep(rng.uniform(0.1, 0.3))
                adapter.kill()
            adapter.start()
            wait_for(lambda: synced_count(adapter.url) == 300, timeout=60, what="300 synced")
        finally:
            adapter.stop()
        stats = ofd.get_stats()
    assert stats["unique_documents"] == 300, "each document stored once"
    # Calls cut off by a kill before the OFD read them are neither stored nor duplicates; all others are one or
    # the other.
    assert stats["calls"] >= 300 + stats["duplicates"]
