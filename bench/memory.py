"""Memory: resident sets after many requests over HTTP (100,000; fewer in quick mode).

``adapter_rss_mb_100k``: the adapter after 100,000 receipts accepted. ``ofd_rss_mb_100k``: a standalone mock OFD
(``kkt-adapter emulate ofd``) after 100,000 distinct documents. Figures are named by the count actually sent: quick
mode reports ``…_2k``, never a 100k figure. The reference is the same process's RSS after start and warm-up.
"""

from __future__ import annotations

import re
import subprocess
import sys
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


def run_ofd(quick: bool) -> tuple[list[Figure], dict[str, Any]]:
    """Post distinct documents to a standalone mock OFD in two halves, reading its RSS before, between and after."""
    count = QUICK_COUNT if quick else FULL_COUNT
    command = [sys.executable, "-m", "kkt_adapter", "emulate", "ofd", "--port", "0"]
    with subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True) as proc:
        try:
            assert proc.stdout is not None
            line = proc.stdout.readline()
            match = re.search(r"http://127\.0\.0\.1:\d+", line)
            if match is None:
                raise RuntimeError(f"the mock OFD did not say where it listens: {line!r}")
            url = match.group(0)
            run_load(url, kind="ofd", concurrency=4, duration=5, max_requests=200)
            start = rss_mb(proc.pid)
            halves, readings = [], []
            # Two halves for the figure, then a third: past the dedupe ledger's cap the RSS must stay flat.
            for _ in range(3):
                result = run_load(url, kind="ofd", concurrency=CONCURRENCY, duration=900, max_requests=count // 2)
                if result.count != count // 2:
                    raise RuntimeError(f"ofd memory run: {result.count} of {count // 2} documents accepted")
                halves.append(describe(result))
                readings.append(rss_mb(proc.pid))
        finally:
            proc.terminate()
            proc.wait(timeout=10)
    name = f"ofd_rss_mb_{count // 1000}k"
    notes = {
        "documents": count,
        "rss_mb_start": round(start, 1),
        "rss_mb_half": round(readings[0], 1),
        "rss_mb_one_and_a_half": round(readings[2], 1),
        "runs": halves,
    }
    return [Figure(name, readings[1], "MiB", "RSS after start and 200 warm-up documents", start)], notes
