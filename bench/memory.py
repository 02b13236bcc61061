"""Memory: the adapter's resident set after many receipts accepted over HTTP (100,000; fewer in quick mode).

The figure is named by the count actually sent: quick mode reports ``adapter_rss_mb_2k``, never a 100k figure.
The reference is the same process's RSS after start and warm-up, before the counted receipts.
"""

from __future__ import annotations

from typing import Any

from bench.common import Figure, adapter_env, workdir
from bench.load import describe, run_load
from bench.server import rss_mb
from kkt_adapter.testing.process import AdapterProcess

FULL_COUNT = 100_000
QUICK_COUNT = 2_000
CONCURRENCY = 8


def run(quick: bool) -> tuple[list[Figure], dict[str, Any]]:
    """Send the receipts in two halves, reading RSS before, between and after."""
    count = QUICK_COUNT if quick else FULL_COUNT
    with workdir("memory") as tmp, AdapterProcess(tmp / "data", env=adapter_env()) as adapter:
        assert adapter.pid is not None
        run_load(adapter.url, kind="accept", concurrency=4, duration=5, max_requests=200)
        start = rss_mb(adapter.pid)
        halves = []
        readings = []
        for _ in range(2):
            result = run_load(
                adapter.url, kind="accept", concurrency=CONCURRENCY, duration=900, max_requests=count // 2
            )
            if result.count != count // 2:
                raise RuntimeError(f"memory run: {result.count} of {count // 2} receipts accepted")
            halves.append(describe(result))
            readings.append(rss_mb(adapter.pid))
    name = f"adapter_rss_mb_{count // 1000}k"
    notes = {"receipts": count, "rss_mb_start": round(start, 1), "rss_mb_half": round(readings[0], 1), "runs": halves}
    return [Figure(name, readings[1], "MiB", "RSS after start and 200 warm-up receipts", start)], notes
