"""Accept over HTTP: a real ``kkt-adapter serve`` process, print delay 0, synchronous=FULL, 1/8/32 clients.

Reference: raw SQLite single-row commits per second (WAL, synchronous=FULL) on the same disk, same run. One receipt
costs at least two buffer commits and the emulated device's own commit, so the reference bounds what is possible.
"""

from __future__ import annotations

from typing import Any

from bench.common import Figure, adapter_env, percentile, sqlite_commit_rps, workdir
from bench.load import LoadResult, describe, run_load
from bench.server import cpu_cores
from kkt_adapter.testing.process import AdapterProcess

GOAL_RPS = 1_000
LEVELS = (1, 8, 32)
# One client process drives 8 workers without being the bottleneck here; at 32 a single httpx process saturates a
# core, so the workers are split over several processes.
WORKERS_PER_CLIENT_PROCESS = 8


def run(quick: bool) -> tuple[list[Figure], dict[str, Any]]:
    """Measure the accept path at each concurrency level; return the figures and the runs' details."""
    duration = 2.0 if quick else 10.0
    notes: dict[str, Any] = {"duration_s": duration, "levels": {}}
    results: dict[int, LoadResult] = {}
    with workdir("accept") as tmp:
        reference = sqlite_commit_rps(tmp, seconds=1.0 if quick else 3.0)
        with AdapterProcess(tmp / "data", env=adapter_env()) as adapter:
            assert adapter.pid is not None
            run_load(adapter.url, kind="accept", concurrency=4, duration=0.5, max_requests=500)  # warm-up
            for level in LEVELS:
                with cpu_cores(adapter.pid) as server_cpu:
                    result = run_load(
                        adapter.url,
                        kind="accept",
                        concurrency=level,
                        duration=duration,
                        max_requests=1_000_000,
                        processes=max(1, level // WORKERS_PER_CLIENT_PROCESS),
                    )
                if result.errors:
                    raise RuntimeError(f"accept at {level} clients: {result.errors} failed requests")
                results[level] = result
                notes["levels"][str(level)] = describe(result) | {"adapter_cpu_cores": round(server_cpu(), 3)}
    ref = "raw SQLite single-row commits/s (WAL, synchronous=FULL), same disk"
    goal = f">= {GOAL_RPS} receipts/s"
    figures: list[Figure] = []
    for level in LEVELS:
        rps = results[level].rps
        figures.append(
            Figure(
                f"accept_rps_c{level}",
                rps,
                "receipts/s",
                ref,
                reference,
                goal if level == 8 else None,
                rps >= GOAL_RPS if level == 8 else None,
            )
        )
    cpu = notes["levels"]["8"]["adapter_cpu_cores"]
    figures.append(Figure("accept_adapter_cpu_ms_per_receipt_c8", 1000 * cpu / results[8].rps, "ms CPU"))
    for level in LEVELS:
        latencies = results[level].latencies_ms
        figures.append(Figure(f"accept_p50_ms_c{level}", percentile(latencies, 50), "ms"))
        figures.append(Figure(f"accept_p99_ms_c{level}", percentile(latencies, 99), "ms"))
    return figures, notes
