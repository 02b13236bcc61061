"""Accept through the ATOL driver: the adapter prints over ATOL Web Requests to the ATOL emulator in its own process.

``accept_rps_c8_atol`` is measured with wrk at 8 connections, print delay 0, beside ``accept_rps_c8`` of the
emulated driver measured the same way in the same run (the reference). Each receipt is one job; the receipts
waiting for the device go as a batch: their jobs are ``POST``ed back to back, then read with ``GET`` in order
(about one ``GET`` per job); the emulator runs the jobs on its own device thread. The CPU of both processes is
recorded, so that the notes say which side was the limit.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx

from bench.common import Figure, adapter_env, sale_body, workdir
from bench.server import cpu_cores
from bench.wrk import WrkResult, ensure_wrk, run_wrk
from kkt_adapter.testing.process import AdapterProcess, free_port
from kkt_emulators.device import EmulatedKKT

#: The ATOL driver's rate should reach this share of the emulated driver's (the protocol must not dominate).
GOAL_SHARE = 0.5
CONNECTIONS = 8
PATH = "/v1/kkt/receipt"


@contextmanager
def atol_emulator(data_dir: Path) -> Iterator[tuple[str, int]]:
    """``kkt-adapter emulate atol`` over a device with its shift open; yields its URL and pid."""
    with EmulatedKKT(data_dir, print_delay_ms=0) as kkt:
        if not kkt.status().shift_open:
            kkt.open_shift()
    port = free_port()
    command = [sys.executable, "-m", "kkt_adapter", "emulate", "atol", "--port", str(port), "--data-dir", str(data_dir)]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 20
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"the ATOL emulator exited with {process.returncode}")
            try:
                httpx.get(url + "/api/v2/serverInfo", timeout=1)
                break
            except httpx.TransportError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)
        yield url, process.pid
    finally:
        process.terminate()
        process.wait(timeout=15)


def _measure(
    adapter: AdapterProcess, body: str, duration: float, pids: dict[str, int]
) -> tuple[WrkResult, dict[str, Any]]:
    run_wrk(adapter.url, PATH, body, connections=4, seconds=1)  # warm-up
    with cpu_cores(pids["adapter"]) as adapter_cpu:
        if "atol" in pids:
            with cpu_cores(pids["atol"]) as atol_cpu:
                result = run_wrk(adapter.url, PATH, body, connections=CONNECTIONS, seconds=duration)
        else:
            result = run_wrk(adapter.url, PATH, body, connections=CONNECTIONS, seconds=duration)
    if result.errors:
        raise RuntimeError(f"accept at {CONNECTIONS} connections: {result.errors} failed requests (wrk)")
    notes = result.describe() | {"adapter_cpu_cores": round(adapter_cpu(), 3)}
    if "atol" in pids:
        notes["atol_emulator_cpu_cores"] = round(atol_cpu(), 3)
    return result, notes


def run(quick: bool) -> tuple[list[Figure], dict[str, Any]]:
    """The emulated driver's accept rate, then the ATOL driver's through the emulator, at 8 connections."""
    ensure_wrk()
    duration = 3.0 if quick else 10.0
    body = json.dumps(sale_body())
    notes: dict[str, Any] = {"duration_s": duration, "connections": CONNECTIONS}
    with workdir("atol") as tmp:
        with AdapterProcess(tmp / "emulated", env=adapter_env()) as adapter:
            assert adapter.pid is not None
            emulated, notes["emulated"] = _measure(adapter, body, duration, {"adapter": adapter.pid})
        with atol_emulator(tmp / "atol-kkt") as (url, atol_pid):
            env = adapter_env(KKT_DRIVER_TYPE="atol", KKT_ATOL_URL=url)
            with AdapterProcess(tmp / "atol", env=env) as adapter:
                assert adapter.pid is not None
                atol, notes["atol"] = _measure(adapter, body, duration, {"adapter": adapter.pid, "atol": atol_pid})
    share = atol.rps / emulated.rps if emulated.rps else 0.0
    notes["share_of_emulated"] = round(share, 3)
    figure = Figure(
        "accept_rps_c8_atol",
        atol.rps,
        "receipts/s",
        "accept_rps_c8 with the emulated driver, same run",
        emulated.rps,
        f">= {GOAL_SHARE:.0%} of the reference",
        share >= GOAL_SHARE,
    )
    latency = Figure("accept_p99_ms_c8_atol", atol.p99_ms, "ms")
    return [figure, latency], notes
