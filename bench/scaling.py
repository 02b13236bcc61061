"""Scaling with the buffer's size: status and accept latency with 1k, 100k and 1M receipts already stored.

The buffer is grown in place between sizes by writing rows straight into its SQLite file (``bench.preload``) while
the adapter is stopped; the adapter is started afresh on the file for each size. Status and accept latencies are
measured one request at a time (p50 of sequential requests); throughput with 8 clients is measured for the plot.
The full run measures 1k twice (first, and again on a fresh 1k buffer at the end) and keeps the lower p50 as the
goal's reference. Quick mode stops at 100k.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from bench.common import Figure, adapter_env, percentile, sale_body, workdir
from bench.load import describe, run_load
from bench.preload import existing_rows, preload
from bench.wrk import run_wrk
from kkt_adapter.testing.process import AdapterProcess

SIZES = {"1k": 1_000, "100k": 100_000, "1m": 1_000_000}
QUICK_SIZES = ("1k", "100k")


def run(quick: bool) -> tuple[list[Figure], dict[str, Any]]:
    """Grow one buffer through the sizes and measure at each; return the figures and the details."""
    labels = QUICK_SIZES if quick else tuple(SIZES)
    status_requests = 200 if quick else 1_000
    accept_requests = 100 if quick else 500
    throughput_s = 1.5 if quick else 5.0
    notes: dict[str, Any] = {"sizes": {}, "stopped_at": labels[-1]}
    measured: dict[str, dict[str, float]] = {}
    with workdir("scaling") as tmp:
        data = tmp / "data"
        data.mkdir()
        path = data / "buffer.sqlite3"
        for label in labels:
            present = existing_rows(path) if path.exists() else 0
            seconds = preload(path, rows=max(0, SIZES[label] - present))
            measured[label], notes["sizes"][label] = _measure(data, status_requests, accept_requests, throughput_s)
            notes["sizes"][label]["preload_s"] = round(seconds, 1)
        if not quick:
            # The 1k figures are the goal's reference: measure them once more on a fresh 1k buffer after the big
            # sizes, and keep the lower (a neighbour's burst during the first pass must not make 1M look good).
            again = tmp / "again"
            again.mkdir()
            preload(again / "buffer.sqlite3", rows=SIZES["1k"])
            second, notes["sizes"]["1k_again"] = _measure(again, status_requests, accept_requests, throughput_s)
            for metric in ("status_p50_ms", "accept_p50_ms"):
                measured["1k"][metric] = min(measured["1k"][metric], second[metric])
    figures: list[Figure] = []
    base = measured["1k"]
    for metric in ("status_p50_ms", "accept_p50_ms"):
        for label in labels:
            value = measured[label][metric]
            if label == "1k":
                figures.append(Figure(f"{metric}_{label}", value, "ms"))
            else:
                within = label == "1m"
                figures.append(
                    Figure(
                        f"{metric}_{label}",
                        value,
                        "ms",
                        f"{metric}_1k",
                        base[metric],
                        "<= 2 x reference" if within else None,
                        value <= 2 * base[metric] if within else None,
                    )
                )
    for label in labels:
        figures.append(Figure(f"accept_rps_c8_{label}", measured[label]["accept_rps_c8"], "receipts/s"))
    return figures, notes


def _measure(
    data: Path, status_requests: int, accept_requests: int, throughput_s: float
) -> tuple[dict[str, float], dict[str, Any]]:
    """Start an adapter on ``data`` and measure status and accept latency (sequential) and accept throughput (8)."""
    stored = existing_rows(data / "buffer.sqlite3")
    with AdapterProcess(data, env=adapter_env()) as adapter:
        url = adapter.url
        run_load(url, kind="status", concurrency=1, duration=5, max_requests=50)
        run_load(url, kind="accept", concurrency=1, duration=5, max_requests=50)
        status = run_load(url, kind="status", concurrency=1, duration=30, max_requests=status_requests)
        accept = run_load(url, kind="accept", concurrency=1, duration=30, max_requests=accept_requests)
        burst = run_wrk(url, "/v1/kkt/receipt", json.dumps(sale_body()), connections=8, seconds=throughput_s)
    if burst.errors:
        raise RuntimeError(f"accept at 8 connections on {stored} receipts: {burst.errors} failed requests (wrk)")
    figures = {
        "status_p50_ms": percentile(status.latencies_ms, 50),
        "accept_p50_ms": percentile(accept.latencies_ms, 50),
        "accept_rps_c8": burst.rps,
    }
    notes = {
        "receipts_before": stored,
        "status": describe(status),
        "status_p50_ms": round(figures["status_p50_ms"], 3),
        "accept": describe(accept),
        "accept_p50_ms": round(figures["accept_p50_ms"], 3),
        "accept_c8": burst.describe(),
    }
    return figures, notes
