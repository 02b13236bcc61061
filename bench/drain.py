"""Drain: pending receipts delivered by the adapter's sync worker to the mock OFD over loopback.

10,000 pending receipts (2,000 in quick mode) are written into a fresh buffer (``bench.preload``), the adapter is
started with ``KKT_OFD_API_URL`` pointing at an in-process ``MockOFDServer``, and ``synced`` is polled through
``GET /v1/kkt/buffer/status`` until all are delivered or a deadline passes. Reference: the same mock OFD's own rate
with ``wrk`` at the sync worker's default concurrency (4 connections, every request a distinct document), same run;
the same documents as bare httpx POSTs are the Python client's column. The adapter's CPU and the mock OFD's (this
process) during the drain are in the notes: they say which side was the limit.
Skipped, with the reason, until both the mock OFD and the adapter's sync worker exist.
"""

from __future__ import annotations

import asyncio
import importlib
import json
import os
import sqlite3
import time
from pathlib import Path
from typing import Any

import httpx

from bench.common import Figure, Skipped, adapter_env, workdir
from bench.preload import preload
from bench.server import cpu_cores
from bench.wrk import run_wrk
from kkt_adapter.testing.process import AdapterProcess

GOAL_RPS = 1_500
REFERENCE_CONCURRENCY = 4  # KKT_SYNC_CONCURRENCY's default
#: One distinct document per request (wrk puts a fresh key and number in), as the adapter would send.
OFD_BODY = (
    '{"receipt_id": "@KEY@", "pos_id": "POS-1", '
    '"fiscal_document": {"1040": @N@, "1041": "9999078900001234", "1020": 10000, "1077": @N@}}'
)


def _mock_ofd_class() -> Any:
    try:
        module = importlib.import_module("kkt_emulators.ofd")
    except ModuleNotFoundError as exc:
        raise Skipped("the mock OFD (kkt_emulators.ofd.MockOFDServer) is not in this tree yet") from exc
    server = getattr(module, "MockOFDServer", None)
    if server is None:
        raise Skipped("kkt_emulators.ofd has no MockOFDServer yet")
    return server


def run(quick: bool) -> tuple[list[Figure], dict[str, Any]]:
    """Drain the receipts through the adapter, then post the same documents bare; compare."""
    mock_ofd = _mock_ofd_class()
    count = 2_000 if quick else 10_000
    deadline_s = 60.0 if quick else 180.0
    with workdir("drain") as tmp:
        data = tmp / "data"
        data.mkdir()
        preload(data / "buffer.sqlite3", rows=count, all_pending=True)
        documents = _documents(data / "buffer.sqlite3")
        with mock_ofd(port=0) as ofd:
            env = adapter_env(KKT_SYNC_ENABLED="true", KKT_OFD_API_URL=ofd.url, KKT_HLC_SYNC_INTERVAL="0.2")
            with AdapterProcess(data, env=env) as adapter:
                assert adapter.pid is not None
                if httpx.get(adapter.url + "/v1/kkt/worker/status", timeout=5).status_code != 200:
                    raise Skipped("the adapter has no sync worker yet (GET /v1/kkt/worker/status is not there)")
                with cpu_cores(adapter.pid) as adapter_cpu, cpu_cores(os.getpid()) as ofd_cpu:
                    drain_rps, drained, seconds = _poll(adapter.url, count, deadline_s)
            ofd.reset()
            python_rps = asyncio.run(_bare_posts(ofd.url, documents))
            ofd.reset()
            with cpu_cores(os.getpid()) as wrk_ofd_cpu:
                by_wrk = run_wrk(
                    ofd.url, "/ofd/v1/receipt", OFD_BODY, connections=REFERENCE_CONCURRENCY, seconds=2 if quick else 5
                )
    notes = {
        "receipts": count,
        "drained": drained,
        "seconds": round(seconds, 2),
        "deadline_s": deadline_s,
        "adapter_cpu_cores": round(adapter_cpu(), 3),
        "ofd_process_cpu_cores": round(ofd_cpu(), 3),
        "reference_wrk": by_wrk.describe() | {"ofd_process_cpu_cores": round(wrk_ofd_cpu(), 3)},
        "python_client_rps": round(python_rps, 1),
    }
    if drained < count:
        notes["incomplete"] = f"only {drained} of {count} synced before the deadline"
    figure = Figure(
        "drain_rps",
        drain_rps,
        "receipts/s",
        f"the same mock OFD with wrk, {REFERENCE_CONCURRENCY} connections",
        by_wrk.rps,
        f">= {GOAL_RPS} receipts/s",
        drain_rps >= GOAL_RPS,
        python_client=python_rps,
    )
    return [figure], notes


def _poll(url: str, count: int, deadline_s: float) -> tuple[float, int, float]:
    """Poll the buffer's status until ``count`` receipts are synced; rate is counted from the first poll."""
    with httpx.Client(base_url=url, timeout=10) as client:
        started = time.perf_counter()
        first = int(client.get("/v1/kkt/buffer/status").json()["synced"])
        synced = first
        while synced < count and time.perf_counter() - started < deadline_s:
            time.sleep(0.05)
            synced = int(client.get("/v1/kkt/buffer/status").json()["synced"])
        seconds = time.perf_counter() - started
    return (synced - first) / seconds if seconds > 0 else 0.0, synced, seconds


def _documents(path: Path) -> list[dict[str, Any]]:
    conn = sqlite3.connect(path)
    try:
        rows = conn.execute("SELECT receipt_id, pos_id, fiscal_json FROM receipts ORDER BY seq").fetchall()
    finally:
        conn.close()
    return [{"receipt_id": rid, "pos_id": pos, **json.loads(fiscal)["document"]} for rid, pos, fiscal in rows]


async def _bare_posts(url: str, documents: list[dict[str, Any]]) -> float:
    """POST every document once, ``REFERENCE_CONCURRENCY`` at a time; documents per second."""
    queue = list(reversed(documents))
    limits = httpx.Limits(max_connections=REFERENCE_CONCURRENCY)
    async with httpx.AsyncClient(base_url=url, timeout=10, limits=limits) as client:

        async def worker() -> None:
            while queue:
                document = queue.pop()
                headers = {"Idempotency-Key": str(document["receipt_id"])}
                response = await client.post("/ofd/v1/receipt", json=document, headers=headers)
                response.raise_for_status()

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(REFERENCE_CONCURRENCY)))
        return len(documents) / (time.perf_counter() - started)
