"""Scaling with the buffer's size: status and accept latency with 1k, 100k and 1M receipts already stored.

The buffer is grown in place between sizes by writing rows straight into its SQLite file (``bench.preload``) while
the adapter is stopped; the adapter is started afresh on the file for each size. Status and accept latencies are
measured one request at a time (p50 of sequential requests); throughput with 8 clients is measured for the plot.
Quick mode stops at 100k.
"""

from __future__ import annotations

from typing import Any

from bench.common import Figure, adapter_env, percentile, workdir
from bench.load import describe, run_load
from bench.preload import existing_rows, preload
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
            stored = existing_rows(path)
            adapter = AdapterProcess(data, env=adapter_env())
            with adapter:
                url = adapter.url
                run_load(url, kind="status", concurrency=1, duration=5, max_requests=50)
                run_load(url, kind="accept", concurrency=1, duration=5, max_requests=50)
                status = run_load(url, kind="status", concurrency=1, duration=30, max_requests=status_requests)
                accept = run_load(url, kind="accept", concurrency=1, duration=30, max_requests=accept_requests)
                burst = run_load(url, kind="accept", concurrency=8, duration=throughput_s, max_requests=1_000_000)
            measured[label] = {
                "status_p50_ms": percentile(status.latencies_ms, 50),
                "accept_p50_ms": percentile(accept.latencies_ms, 50),
                "accept_rps_c8": burst.rps,
            }
            notes["sizes"][label] = {
                "receipts_before": stored,
                "preload_s": round(seconds, 1),
                "status": describe(status),
                "accept": describe(accept),
                "accept_c8": describe(burst),
            }
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
