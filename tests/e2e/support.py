"""Helpers of the end-to-end suite: sales, polling with deadlines, and reading an adapter over HTTP."""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import httpx

from kkt_adapter.testing import bodies
from kkt_adapter.testing import wait_for as wait_for  # the scenarios import every helper from here
from kkt_adapter.testing.process import AdapterProcess
from kkt_emulators.device import DOC_RECEIPT, FiscalDocument
from ready_device import journal

T = TypeVar("T")

#: The ``spawn`` fixture: ``spawn(env, data_dir=..., start=True)`` → a started adapter process.
Spawn = Callable[..., AdapterProcess]

#: Intervals shortened so that outages, probes and retries happen in fractions of a second.
FAST = {
    "KKT_HLC_SYNC_INTERVAL": "0.05",
    "KKT_SYNC_BACKOFF_BASE": "0.01",
    "KKT_SYNC_BACKOFF_MAX": "0.1",
    "KKT_CIRCUIT_BREAKER_TIMEOUT": "0.2",
    "KKT_CIRCUIT_BREAKER_RECOVERY_TIMEOUT": "0.4",
    "KKT_SYNC_LEASE_SECONDS": "5",
    "KKT_OFD_TIMEOUT": "2",  # a send (timeout × 2 tries) must fit inside its lease
}

#: Polling step of every wait; far below the 0.5 s any test may sleep at once.
POLL_S = 0.02


def sale(i: int = 0, *, pos_id: str = "POS-001") -> dict[str, Any]:
    """A valid sale of one item whose amount depends on ``i`` (so that documents differ)."""
    amount = f"{1 + i % 900}.{i % 100:02d}"
    return bodies.sale(amount, name=f"Товар {i}", pos_id=pos_id)


def holds_for(predicate: Callable[[], bool], *, seconds: float, what: str) -> None:
    """Poll ``predicate`` for ``seconds`` and fail at the first moment it is false."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        assert predicate(), f"stopped holding: {what}"
        time.sleep(POLL_S)


def post_receipt(url: str, body: dict[str, Any], key: str, *, http: httpx.Client | None = None) -> httpx.Response:
    """``POST /v1/kkt/receipt`` with an idempotency key."""
    if http is None:
        return httpx.post(url + "/v1/kkt/receipt", json=body, headers={"Idempotency-Key": key}, timeout=10)
    return http.post(url + "/v1/kkt/receipt", json=body, headers={"Idempotency-Key": key})


def print_receipt(url: str, i: int, *, key: str | None = None) -> dict[str, Any]:
    """Sell ``sale(i)`` and return the 200 answer (fails the test otherwise)."""
    response = post_receipt(url, sale(i), key or f"sale-{i}")
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def get_json(url: str) -> Any:
    response = httpx.get(url, timeout=10)
    assert response.status_code < 500 or response.status_code == 503, response.text
    return response.json()


def receipt(url: str, receipt_id: str) -> dict[str, Any]:
    """``GET /v1/kkt/receipt/{id}``."""
    body: dict[str, Any] = get_json(f"{url}/v1/kkt/receipt/{receipt_id}")
    return body


def buffer_status(url: str) -> dict[str, Any]:
    body: dict[str, Any] = get_json(url + "/v1/kkt/buffer/status")
    return body


def breaker(url: str) -> dict[str, Any]:
    """The circuit breaker's snapshot, from ``GET /v1/kkt/worker/status``."""
    body: dict[str, Any] = get_json(url + "/v1/kkt/worker/status")["circuit_breaker"]
    return body


def all_synced(url: str, ids: list[str]) -> bool:
    return all(receipt(url, receipt_id)["state"] == "synced" for receipt_id in ids)


def device_journal(data_dir: Path) -> list[FiscalDocument]:
    """Every document the adapter's emulated KKT has issued (read from its device directory, safe while it runs)."""
    return journal(data_dir / "kkt")


def printed_receipts(data_dir: Path) -> list[FiscalDocument]:
    return [document for document in device_journal(data_dir) if document.doc_type == DOC_RECEIPT]


def run_threads(target: Callable[[int], None], count: int) -> None:
    """Run ``target(n)`` in ``count`` threads and re-raise the first failure in the caller."""
    errors: list[BaseException] = []

    def guarded(n: int) -> None:
        try:
            target(n)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=guarded, args=(n,)) for n in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=100)
    if errors:
        raise errors[0]


def careful_till(
    adapter: AdapterProcess,
    n: int,
    stop: threading.Event,
    acked: dict[str, dict[str, Any]],
    sent: dict[str, dict[str, Any]] | None = None,
) -> None:
    """Sell until ``stop``; after a lost answer, a 409 or a 503 resend the same key until a final answer, like a
    careful POS (the keys are ``c{n}-{i}``; ``sent`` collects each key's body, before its first send)."""
    rng = random.Random(n)
    with httpx.Client(timeout=5) as http:
        i = 0
        while not stop.is_set():
            key, body = f"c{n}-{i}", sale(rng.randint(0, 10**6))
            if sent is not None:
                sent[key] = body
            deadline = time.monotonic() + 60
            while True:
                assert time.monotonic() < deadline, f"{key} got no final answer"
                try:
                    response = http.post(adapter.url + "/v1/kkt/receipt", json=body, headers={"Idempotency-Key": key})
                except httpx.TransportError:
                    time.sleep(0.01)
                    continue
                if response.status_code in (409, 503):
                    time.sleep(0.01)
                    continue
                assert response.status_code == 200, f"{key}: {response.status_code} {response.text}"
                acked[key] = response.json()
                break
            i += 1


def sigkills_under_tills(
    adapter: AdapterProcess,
    *,
    kills: int,
    rng: random.Random,
    tills: int = 4,
    sent: dict[str, dict[str, Any]] | None = None,
) -> dict[str, dict[str, Any]]:
    """SIGKILL and restart ``adapter`` ``kills`` times at random instants while ``tills`` careful tills sell; the
    answers the tills got, by key (fails the test if a till failed; ``sent`` collects the bodies sent, by key)."""
    acked: dict[str, dict[str, Any]] = {}
    stop = threading.Event()
    failures: list[BaseException] = []

    def run(n: int) -> None:
        try:
            careful_till(adapter, n, stop, acked, sent)
        except BaseException as exc:
            failures.append(exc)

    threads = [threading.Thread(target=run, args=(n,)) for n in range(tills)]
    for thread in threads:
        thread.start()
    try:
        for _ in range(kills):
            time.sleep(rng.uniform(0.05, 0.3))
            adapter.kill()
            adapter.start()
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=70)
    assert not failures, failures[0]
    return acked
