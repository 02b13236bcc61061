"""Accept over HTTP: a real ``kkt-adapter serve`` process, print delay 0, synchronous=FULL, 1/8/32 connections.

The figures come from ``wrk`` (``bench/wrk.py``: a compiled client using a few hundredths of a core, every request
with its own Idempotency-Key); the same levels measured with the Python load client (``bench/load.py``) are kept as a
second column, as a Python POS sees the adapter. The adapter's CPU and wrk's are recorded per level, so that the
notes say which side was the limit.

Reference: raw SQLite single-row commits per second (WAL, synchronous=FULL) on the same disk, same run. A batch of
receipts costs two buffer commits and the emulated device's own commit, so the reference bounds what is possible.
"""

from __future__ import annotations

import json
from typing import Any

from bench.common import Figure, adapter_env, percentile, sale_body, sqlite_commit_rps, workdir
from bench.load import LoadResult, describe, run_load
from bench.server import cpu_cores
from bench.wrk import WrkResult, ensure_wrk, run_wrk
from kkt_adapter.testing.process import AdapterProcess

GOALS_RPS = {8: 1_500, 32: 2_000}
GOAL_P99_MS_C8 = 20.0
GOAL_CPU_MS = 0.6
#: The accept rate at 8 connections should reach this share of the raw SQLite commits/s (same disk, same run).
GOAL_SHARE_OF_SQLITE = 0.25
LEVELS = (1, 8, 32)
# One Python client process drives 8 workers; at 32 one httpx process saturates a core, so they are split.
WORKERS_PER_CLIENT_PROCESS = 8
PATH = "/v1/kkt/receipt"


def run(quick: bool) -> tuple[list[Figure], dict[str, Any]]:
    """Measure the accept path at each level with wrk, then with the Python client; return figures and details."""
    ensure_wrk()
    duration = 3.0 if quick else 10.0
    notes: dict[str, Any] = {"duration_s": duration, "levels": {}, "python_client": {}}
    by_wrk: dict[int, WrkResult] = {}
    cpu_ms: dict[int, float] = {}
    by_python: dict[int, LoadResult] = {}
    body = json.dumps(sale_body())
    with workdir("accept") as tmp:
        reference = sqlite_commit_rps(tmp, seconds=1.0 if quick else 3.0)
        with AdapterProcess(tmp / "data", env=adapter_env()) as adapter:
            assert adapter.pid is not None
            run_wrk(adapter.url, PATH, body, connections=4, seconds=1)  # warm-up
            for level in LEVELS:
                with cpu_cores(adapter.pid) as server_cpu:
                    result = run_wrk(adapter.url, PATH, body, connections=level, seconds=duration)
                if result.errors:
                    raise RuntimeError(f"accept at {level} connections: {result.errors} failed requests (wrk)")
                by_wrk[level] = result
                cores = server_cpu()
                cpu_ms[level] = 1000 * cores / result.rps if result.rps else 0.0
                notes["levels"][str(level)] = result.describe() | {
                    "adapter_cpu_cores": round(cores, 3),
                    "adapter_cpu_ms_per_receipt": round(cpu_ms[level], 3),
                }
            for level in LEVELS:
                with cpu_cores(adapter.pid) as server_cpu:
                    loaded = run_load(
                        adapter.url,
                        kind="accept",
                        concurrency=level,
                        duration=min(duration, 5.0),
                        max_requests=1_000_000,
                        processes=max(1, level // WORKERS_PER_CLIENT_PROCESS),
                    )
                by_python[level] = loaded
                notes["python_client"][str(level)] = describe(loaded) | {"adapter_cpu_cores": round(server_cpu(), 3)}
    return _figures(by_wrk, by_python, cpu_ms, reference), notes


def _figures(
    by_wrk: dict[int, WrkResult], by_python: dict[int, LoadResult], cpu_ms: dict[int, float], reference: float
) -> list[Figure]:
    ref = "raw SQLite single-row commits/s (WAL, synchronous=FULL), same disk"
    figures: list[Figure] = []
    for level in LEVELS:
        rps = by_wrk[level].rps
        goal = GOALS_RPS.get(level)
        if level == 8:
            text = f">= {goal} receipts/s and >= {GOAL_SHARE_OF_SQLITE:.0%} of the reference"
            met: bool | None = rps >= GOALS_RPS[8] and rps >= GOAL_SHARE_OF_SQLITE * reference
        else:
            text = None if goal is None else f">= {goal} receipts/s"
            met = None if goal is None else rps >= goal
        figures.append(
            Figure(f"accept_rps_c{level}", rps, "receipts/s", ref, reference, text, met, by_python[level].rps)
        )
    figures.append(
        Figure(
            "accept_adapter_cpu_ms_per_receipt_c8",
            cpu_ms[8],
            "ms CPU",
            goal=f"<= {GOAL_CPU_MS} ms",
            met=cpu_ms[8] <= GOAL_CPU_MS,
        )
    )
    for level in LEVELS:
        latencies = by_python[level].latencies_ms
        figures.append(
            Figure(f"accept_p50_ms_c{level}", by_wrk[level].p50_ms, "ms", python_client=percentile(latencies, 50))
        )
        p99 = by_wrk[level].p99_ms
        goal_text = f"<= {GOAL_P99_MS_C8:.0f} ms" if level == 8 else None
        figures.append(
            Figure(
                f"accept_p99_ms_c{level}",
                p99,
                "ms",
                goal=goal_text,
                met=p99 <= GOAL_P99_MS_C8 if level == 8 else None,
                python_client=percentile(latencies, 99),
            )
        )
    return figures
