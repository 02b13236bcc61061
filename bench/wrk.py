"""The compiled load generator: ``wrk`` with a Lua script that gives every request its own ``Idempotency-Key``.

wrk uses a few hundredths of a core where the Python client used most of one, so the figures it gives are the
server's, not the client's. ``ensure_wrk`` installs Debian's package when it is missing (as root, with apt-get).
Each run records wrk's own CPU time (from the child's resource usage) beside the server's, so that a reader can see
which side was the limit.
"""

from __future__ import annotations

import json
import os
import resource
import shutil
import subprocess
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

SCRIPT = Path(__file__).resolve().parent / "lua" / "post.lua"
_MARK = "WRK_JSON "


@dataclass(frozen=True)
class WrkResult:
    """One wrk run: requests answered, failures, seconds, latency percentiles (ms) and wrk's CPU in cores."""

    requests: int
    errors: int
    seconds: float
    p50_ms: float
    p90_ms: float
    p99_ms: float
    max_ms: float
    client_cpu_cores: float
    connections: int

    @property
    def rps(self) -> float:
        """Requests answered below 400 per second."""
        return (self.requests - self.errors) / self.seconds if self.seconds > 0 else 0.0

    def describe(self) -> dict[str, Any]:
        """A JSON-safe summary for the results' notes."""
        return {
            "client": "wrk",
            "connections": self.connections,
            "requests": self.requests,
            "errors": self.errors,
            "seconds": round(self.seconds, 2),
            "p50_ms": round(self.p50_ms, 2),
            "p90_ms": round(self.p90_ms, 2),
            "p99_ms": round(self.p99_ms, 2),
            "max_ms": round(self.max_ms, 2),
            "client_cpu_cores": round(self.client_cpu_cores, 3),
        }


def ensure_wrk() -> str:
    """The path of ``wrk``, installing Debian's package first when it is missing (needs root and apt-get)."""
    found = shutil.which("wrk")
    if found:
        return found
    if shutil.which("apt-get") is None or os.geteuid() != 0:
        raise RuntimeError("wrk is not installed: install it (Debian: apt-get install -y wrk) and run again")
    env = os.environ | {"DEBIAN_FRONTEND": "noninteractive"}
    if subprocess.run(["apt-get", "install", "-y", "wrk"], env=env, capture_output=True).returncode != 0:
        subprocess.run(["apt-get", "update"], env=env, check=True, capture_output=True)
        subprocess.run(["apt-get", "install", "-y", "wrk"], env=env, check=True, capture_output=True)
    found = shutil.which("wrk")
    if not found:
        raise RuntimeError("apt-get installed wrk, but it is not on PATH")
    return found


def run_wrk(
    url: str,
    path: str,
    body: str,
    *,
    connections: int,
    seconds: float,
    threads: int = 1,
    timeout_s: float = 10.0,
    script: Path = SCRIPT,
) -> WrkResult:
    """POST ``body`` to ``url + path`` from ``connections`` connections for ``seconds`` (loopback only).

    In ``body``, ``@KEY@`` becomes each request's Idempotency-Key and ``@N@`` a number unique in the run. ``script``
    is another Lua script taking the same arguments and printing the same summary (``bench/lua/devices.lua``).
    """
    if not url.startswith("http://127.0.0.1:"):
        raise ValueError(f"load generators talk to loopback only, not {url}")
    wrk = ensure_wrk()
    with tempfile.NamedTemporaryFile("w", suffix=".json", encoding="utf-8", delete=False) as file:
        file.write(body)
    try:
        command = [
            wrk,
            f"-t{max(1, min(threads, connections))}",
            f"-c{connections}",
            f"-d{max(1, round(seconds))}s",
            f"--timeout={max(1, round(timeout_s))}s",
            "-s",
            str(script),
            url,
            "--",
            path,
            file.name,
            f"b{uuid.uuid4().hex[:12]}",
        ]
        started = time.perf_counter()
        process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        _, status, usage = os.wait4(process.pid, 0)
        process.returncode = os.waitstatus_to_exitcode(status)
        elapsed = time.perf_counter() - started
        stdout = process.stdout.read() if process.stdout else ""
        stderr = process.stderr.read() if process.stderr else ""
        process.communicate()
    finally:
        os.unlink(file.name)
    if process.returncode != 0:
        raise RuntimeError(f"wrk failed ({process.returncode}): {stderr.strip() or stdout.strip()}")
    return _parse(stdout, connections=connections, cpu_seconds=_cpu(usage), elapsed=elapsed)


def _cpu(usage: resource.struct_rusage) -> float:
    return float(usage.ru_utime + usage.ru_stime)


def _parse(stdout: str, *, connections: int, cpu_seconds: float, elapsed: float) -> WrkResult:
    line = next((line for line in stdout.splitlines() if line.startswith(_MARK)), None)
    if line is None:
        raise RuntimeError(f"wrk printed no summary: {stdout.strip()}")
    data = json.loads(line[len(_MARK) :])
    seconds = data["duration_us"] / 1e6
    errors = sum(data[name] for name in ("connect_errors", "read_errors", "write_errors", "status_errors", "timeouts"))
    return WrkResult(
        requests=data["requests"],
        errors=errors,
        seconds=seconds,
        p50_ms=data["p50_us"] / 1000,
        p90_ms=data["p90_us"] / 1000,
        p99_ms=data["p99_us"] / 1000,
        max_ms=data["max_us"] / 1000,
        client_cpu_cores=cpu_seconds / elapsed if elapsed > 0 else 0.0,
        connections=connections,
    )
