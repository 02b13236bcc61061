"""Watching a server process from outside: its CPU use over a block, its resident memory."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import psutil


@contextmanager
def cpu_cores(pid: int) -> Iterator[Callable[[], float]]:
    """CPU time of process ``pid`` during the block, in cores (1.0 = one core busy all the time)."""
    process = psutil.Process(pid)
    before = sum(process.cpu_times()[:2])
    started = time.perf_counter()
    measured: list[float] = []
    yield lambda: measured[0]
    elapsed = time.perf_counter() - started
    measured.append((sum(process.cpu_times()[:2]) - before) / elapsed if elapsed > 0 else 0.0)


def rss_mb(pid: int) -> float:
    """Resident memory of process ``pid`` in MiB."""
    return float(psutil.Process(pid).memory_info().rss) / (1024 * 1024)
