"""What every figure group shares: the figure record, percentiles, the machine, a sale body, the adapter's env."""

from __future__ import annotations

import os
import platform
import shutil
import sqlite3
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from kkt_adapter.testing import bodies

# A buffer this large never refuses a sale during a benchmark (capacity is not what is measured).
HUGE_BUFFER = "100000000"


class Skipped(Exception):
    """A figure group cannot run here (a part it measures is missing); the message says why."""


@dataclass
class Figure:
    """One measured number, what it is compared with, and whether it meets its goal (``met`` is None: no goal)."""

    name: str
    value: float | None
    unit: str
    reference: str | None = None
    reference_value: float | None = None
    goal: str | None = None
    met: bool | None = None
    #: The same figure measured with the Python (httpx) load client: what a Python POS sees, capped by the client.
    python_client: float | None = None

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        if isinstance(self.value, float):
            data["value"] = round(self.value, 3)
        if isinstance(self.reference_value, float):
            data["reference_value"] = round(self.reference_value, 3)
        if isinstance(self.python_client, float):
            data["python_client"] = round(self.python_client, 3)
        return data


def percentile(values: list[float], q: float) -> float:
    """The ``q``-th percentile (0..100) by nearest rank; values need not be sorted."""
    if not values:
        raise ValueError("no values")
    ordered = sorted(values)
    rank = max(0, min(len(ordered) - 1, round(q / 100 * len(ordered) + 0.5) - 1))
    return ordered[rank]


def sale_body(kopecks: int = 10_000) -> dict[str, Any]:
    """A one-line cash sale in the field's request shape."""
    return bodies.sale(bodies.rubles(kopecks))


def adapter_env(**extra: str) -> dict[str, str]:
    """The adapter's environment for a benchmark: no print delay, a buffer that never fills, sync off unless asked."""
    env = {
        "KKT_EMULATOR_PRINT_DELAY_MS": "0",
        "KKT_BUFFER_MAX_SIZE": HUGE_BUFFER,
        "KKT_SYNC_ENABLED": "false",
        "KKT_LOG_LEVEL": "WARNING",
    }
    env.update(extra)
    return env


@contextmanager
def workdir(prefix: str) -> Iterator[Path]:
    """A scratch directory in the system's temporary directory, removed afterwards (all groups use one disk)."""
    path = Path(tempfile.mkdtemp(prefix=f"kkt-bench-{prefix}-"))
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


def sqlite_commit_rps(directory: Path, *, seconds: float) -> float:
    """Single-row commits per second on a fresh SQLite file (WAL, synchronous=FULL, BEGIN IMMEDIATE)."""
    conn = sqlite3.connect(directory / "reference.sqlite3", isolation_level=None)
    try:
        conn.execute("PRAGMA journal_mode = WAL")
        conn.execute("PRAGMA synchronous = FULL")
        if conn.execute("PRAGMA synchronous").fetchone()[0] != 2:
            raise RuntimeError("cannot set synchronous=FULL for the reference")
        conn.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, body TEXT NOT NULL)")
        body = "x" * 300
        count = 0
        started = time.perf_counter()
        while time.perf_counter() - started < seconds:
            conn.execute("BEGIN IMMEDIATE")
            conn.execute("INSERT INTO t (body) VALUES (?)", (body,))
            conn.execute("COMMIT")
            count += 1
        return count / (time.perf_counter() - started)
    finally:
        conn.close()


def machine() -> dict[str, Any]:
    """The machine the figures were measured on: CPUs, Python, platform, and the scratch disk's filesystem."""
    model = platform.processor() or ""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as info:
            model = next((line.split(":", 1)[1].strip() for line in info if line.startswith("model name")), model)
    except OSError:
        pass
    scratch = Path(tempfile.gettempdir())
    usage = shutil.disk_usage(scratch)
    return {
        "cpu_count": os.cpu_count(),
        "cpu_model": model,
        "python": platform.python_version(),
        "sqlite": sqlite3.sqlite_version,
        "platform": platform.platform(),
        "load_average_1m_at_start": round(os.getloadavg()[0], 2) if hasattr(os, "getloadavg") else None,
        "disk": {"filesystem": _filesystem(scratch), "total_gb": round(usage.total / 1e9, 1)},
    }


def _filesystem(path: Path) -> str:
    """The filesystem type holding ``path`` (from /proc/mounts; 'unknown' elsewhere)."""
    try:
        with open("/proc/mounts", encoding="utf-8") as mounts:
            entries = [line.split()[:3] for line in mounts]
    except OSError:
        return "unknown"
    resolved = str(path.resolve())
    best = max(
        (entry for entry in entries if resolved == entry[1] or resolved.startswith(entry[1].rstrip("/") + "/")),
        key=lambda entry: len(entry[1]),
        default=None,
    )
    return best[2] if best else "unknown"
