"""Thread safety: many clients at once give exact counts."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import httpx

from kkt_emulators.odoo import MockOdooServer
from kkt_emulators.ofd import MockOFDServer

THREADS = 10
POSTS = 100


def test_ten_threads_of_a_hundred_posts_count_exactly(mock_ofd_server: MockOFDServer) -> None:
    """10 threads × 100 posts (every tenth a resend) → exact calls, documents and duplicates, unique ofd_ids."""
    url = f"{mock_ofd_server.url}/ofd/v1/receipt"

    def worker(thread: int) -> list[str]:
        ids = []
        with httpx.Client(timeout=10) as client:
            for n in range(POSTS):
                key = f"t{thread}-{n - 1 if n % 10 == 9 else n}"
                answer = client.post(url, json={"thread": thread, "n": n}, headers={"Idempotency-Key": key})
                assert answer.status_code == 200
                if not answer.json().get("duplicate"):
                    ids.append(answer.json()["ofd_id"])
        return ids

    with ThreadPoolExecutor(THREADS) as pool:
        ofd_ids = [ofd_id for ids in pool.map(worker, range(THREADS)) for ofd_id in ids]
    stats = mock_ofd_server.get_stats()
    assert stats["calls"] == THREADS * POSTS
    assert stats["duplicates"] == THREADS * POSTS // 10
    assert stats["unique_documents"] == len(set(ofd_ids)) == THREADS * POSTS * 9 // 10


def test_concurrent_failure_count_is_consumed_exactly(mock_odoo_server: MockOdooServer) -> None:
    """A failure count of 250 under 10 concurrent clients fails exactly 250 heartbeats."""
    mock_odoo_server.set_failure_count(250)
    url = f"{mock_odoo_server.url}/api/v1/kkt/heartbeat"

    def worker(thread: int) -> int:
        with httpx.Client(timeout=10) as client:
            return sum(client.post(url, json={"adapter_id": f"a{thread}"}).status_code == 503 for _ in range(POSTS))

    with ThreadPoolExecutor(THREADS) as pool:
        failed = sum(pool.map(worker, range(THREADS)))
    assert failed == 250
    assert mock_odoo_server.get_call_count() == THREADS * POSTS
    assert len(mock_odoo_server.get_received_heartbeats()) == THREADS * POSTS - 250
