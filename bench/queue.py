"""The buffer as a durable queue, side by side with persist-queue's ``SQLiteAckQueue`` on the same rows and disk.

Buffer: ``begin_accept`` + ``complete_print`` per receipt (what a receipt costs the buffer: two commits, triggers,
audit events, HLC), then ``Outbox.claim_due`` + ``Outbox.record(Synced ...)`` in batches of the sync default (50).
persist-queue: ``put`` per receipt, then ``get`` + ``ack`` per receipt (it has no batch claim). Both in WAL mode
with ``synchronous=FULL`` set explicitly and read back; both store the same JSON (the receipt and its fiscal data).
Beside them, ``kkt_print_rps``: the emulated KKT alone (delay 0), the other half of what an accept costs.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import persistqueue
from persistqueue.serializers import json as pq_json

from bench.common import Figure, workdir
from bench.preload import sample_receipt
from kkt_adapter.buffer import Buffer
from kkt_adapter.buffer.outbox import Outbox, Synced
from kkt_adapter.devices.emulated import EmulatedDriver
from kkt_adapter.testing import FakeDriver
from kkt_clock import SystemClock

BATCH = 50


def run(quick: bool) -> tuple[list[Figure], dict[str, Any]]:
    """Enqueue and drain the same number of rows through both queues."""
    count = 2_000 if quick else 20_000
    receipt = sample_receipt()
    results = _results(count)
    with workdir("queue") as tmp:
        enqueue_rps, claim_rps = _buffer(tmp / "buffer.sqlite3", receipt, results)
        put_rps, get_ack_rps = _persist_queue(str(tmp / "pq"), receipt.canonical(), results)
        print_rps = _device(tmp / "kkt", receipt, count)
    ref_put = "persist-queue SQLiteAckQueue put/s (WAL, synchronous=FULL), same rows"
    ref_get = "persist-queue SQLiteAckQueue get+ack/s (WAL, synchronous=FULL), same rows"
    figures = [
        Figure("buffer_enqueue_rps", enqueue_rps, "receipts/s", ref_put, put_rps),
        Figure("buffer_claim_complete_rps", claim_rps, "receipts/s", ref_get, get_ack_rps),
        Figure("pq_put_rps", put_rps, "items/s"),
        Figure("pq_get_ack_rps", get_ack_rps, "items/s"),
        Figure("kkt_print_rps", print_rps, "receipts/s"),
    ]
    return figures, {"rows": count, "claim_batch": BATCH}


def _results(count: int) -> list[Any]:
    driver = FakeDriver()
    receipt = sample_receipt()
    return [driver.print_receipt(receipt, idempotency_key=f"q-{i}") for i in range(count)]


def _device(state_dir: Path, receipt: Any, count: int) -> float:
    """Receipts per second the emulated KKT prints in-process with no print delay (its own fsynced journal)."""
    driver = EmulatedDriver(state_dir, print_delay_ms=0, clock=SystemClock())
    try:
        started = time.perf_counter()
        for i in range(count):
            driver.print_receipt(receipt, idempotency_key=f"k-{i}")
        return count / (time.perf_counter() - started)
    finally:
        driver.close()


def _buffer(path: Any, receipt: Any, results: list[Any]) -> tuple[float, float]:
    clock = SystemClock()
    buffer = Buffer(path, clock=clock)
    try:
        started = time.perf_counter()
        for i, result in enumerate(results):
            decision = buffer.begin_accept(key=f"q-{i}", receipt=receipt, capacity=len(results) + 1)
            buffer.complete_print(decision.receipt_id, result)  # type: ignore[union-attr]
        enqueue_rps = len(results) / (time.perf_counter() - started)
        outbox = Outbox(buffer.db, clock=clock, max_attempts=20, hlc_max_offset_ms=60_000)
        done = 0
        started = time.perf_counter()
        while claims := outbox.claim_due("bench", limit=BATCH, lease_seconds=60):
            report = outbox.record(
                [Synced(claim, f"OFD-{claim.receipt_id}", "2025-11-30T12:00:01+00:00", None) for claim in claims]
            )
            done += report.synced
        claim_rps = done / (time.perf_counter() - started)
        if done != len(results):
            raise RuntimeError(f"buffer drained {done} of {len(results)}")
        return enqueue_rps, claim_rps
    finally:
        buffer.close()


def _persist_queue(path: str, request: dict[str, Any], results: list[Any]) -> tuple[float, float]:
    queue = persistqueue.SQLiteAckQueue(path, serializer=pq_json, auto_commit=True)
    try:
        for conn in {id(c): c for c in (queue._conn, queue._putter, queue._getter)}.values():
            conn.execute("PRAGMA synchronous = FULL")
            if conn.execute("PRAGMA synchronous").fetchone()[0] != 2:
                raise RuntimeError("persist-queue: cannot set synchronous=FULL")
        started = time.perf_counter()
        for result in results:
            queue.put({"request": request, "fiscal": result.to_dict()})
        put_rps = len(results) / (time.perf_counter() - started)
        done = 0
        started = time.perf_counter()
        for _ in results:
            item = queue.get(block=False)
            queue.ack(item)
            done += 1
        get_ack_rps = done / (time.perf_counter() - started)
        return put_rps, get_ack_rps
    finally:
        queue.close()
