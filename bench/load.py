"""The load generator: N concurrent asyncio workers with httpx, in one or more client processes, loopback only.

Each run stops by itself: after ``duration`` seconds or ``max_requests`` requests, whichever comes first. Every
accept request carries a fresh Idempotency-Key. Client processes report their own CPU time, so that a report can
tell whether the client or the server was the bottleneck.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import time
import uuid
from dataclasses import dataclass
from typing import Any, Literal

import httpx
import psutil

from bench.common import sale_body

Kind = Literal["accept", "status", "ofd"]
# Spawned client processes need this long to import and connect before the common start instant.
_START_DELAY_S = 1.5


@dataclass(frozen=True)
class LoadResult:
    """What one load run did: requests completed, failures, wall time, latencies, and the client's CPU."""

    count: int
    errors: int
    elapsed: float
    latencies_ms: list[float]
    client_cpu_cores: float
    processes: int

    @property
    def rps(self) -> float:
        return self.count / self.elapsed if self.elapsed > 0 else 0.0


@dataclass(frozen=True)
class _Job:
    url: str
    kind: Kind
    workers: int
    max_requests: int
    start_at: float
    stop_at: float
    tag: str


@dataclass(frozen=True)
class _Part:
    latencies_ms: list[float]
    errors: int
    first: float
    last: float
    cpu_seconds: float


async def _drive(job: _Job) -> _Part:
    body = sale_body()
    latencies: list[float] = []
    errors = 0
    issued = 0
    limits = httpx.Limits(max_connections=job.workers, max_keepalive_connections=job.workers)
    async with httpx.AsyncClient(base_url=job.url, timeout=30.0, limits=limits) as client:

        async def worker() -> None:
            nonlocal errors, issued
            while issued < job.max_requests and time.time() < job.stop_at:
                issued += 1
                started = time.perf_counter()
                try:
                    if job.kind == "accept":
                        headers = {"Idempotency-Key": f"{job.tag}-{uuid.uuid4().hex}"}
                        response = await client.post("/v1/kkt/receipt", json=body, headers=headers)
                    elif job.kind == "ofd":
                        # A distinct document each time (a fresh key and FD number), as an adapter would send.
                        key = f"{job.tag}-{uuid.uuid4().hex}"
                        document = {"1040": issued, "1041": job.tag, "1020": 10_000, "1077": issued}
                        payload = {"receipt_id": key, "pos_id": "POS-1", "fiscal_document": document}
                        response = await client.post("/ofd/v1/receipt", json=payload, headers={"Idempotency-Key": key})
                    else:
                        response = await client.get("/v1/kkt/buffer/status")
                except httpx.HTTPError:
                    errors += 1
                    continue
                if response.status_code == 200:
                    latencies.append((time.perf_counter() - started) * 1000)
                else:
                    errors += 1

        await asyncio.sleep(max(0.0, job.start_at - time.time()))
        cpu_before = sum(psutil.Process().cpu_times()[:2])
        first = time.time()
        await asyncio.gather(*(worker() for _ in range(job.workers)))
        last = time.time()
        cpu_seconds = sum(psutil.Process().cpu_times()[:2]) - cpu_before
    return _Part(latencies, errors, first, last, cpu_seconds)


def _child(job: _Job) -> _Part:
    return asyncio.run(_drive(job))


def run_load(
    url: str,
    *,
    kind: Kind,
    concurrency: int,
    duration: float,
    max_requests: int,
    processes: int = 1,
) -> LoadResult:
    """Run ``concurrency`` workers split over ``processes`` client processes against ``url`` (127.0.0.1 only)."""
    if not url.startswith("http://127.0.0.1:"):
        raise ValueError(f"load generators talk to loopback only, not {url}")
    processes = max(1, min(processes, concurrency))
    start_at = time.time() + (_START_DELAY_S if processes > 1 else 0.05)
    jobs = [
        _Job(
            url=url,
            kind=kind,
            workers=concurrency // processes + (1 if i < concurrency % processes else 0),
            max_requests=max_requests // processes + (1 if i < max_requests % processes else 0),
            start_at=start_at,
            stop_at=start_at + duration,
            tag=f"b{uuid.uuid4().hex[:8]}p{i}",
        )
        for i in range(processes)
    ]
    parts: list[_Part]
    if processes == 1:
        parts = [_child(jobs[0])]
    else:
        with multiprocessing.get_context("spawn").Pool(processes) as pool:
            parts = pool.map(_child, jobs)
    latencies = [value for part in parts for value in part.latencies_ms]
    elapsed = max(part.last for part in parts) - min(part.first for part in parts)
    return LoadResult(
        count=len(latencies),
        errors=sum(part.errors for part in parts),
        elapsed=elapsed,
        latencies_ms=latencies,
        client_cpu_cores=sum(part.cpu_seconds for part in parts) / elapsed if elapsed > 0 else 0.0,
        processes=processes,
    )


def describe(result: LoadResult) -> dict[str, Any]:
    """A JSON-safe summary of a run for the results' notes."""
    return {
        "requests": result.count,
        "errors": result.errors,
        "seconds": round(result.elapsed, 2),
        "client_processes": result.processes,
        "client_cpu_cores": round(result.client_cpu_cores, 2),
    }
