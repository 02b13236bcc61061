"""Health while the KKT prints: ``GET /v1/health`` latency with 8 clients printing, beside the same adapter idle.

One real ``kkt-adapter serve`` process with the emulated KKT printing each document in 200 ms (a real KKT takes
200–500 ms), sync off, a buffer too large to fill. A steady sampler in a client process of its own sends one
``GET /v1/health`` every 20 ms (the next one is not sent before the last has answered) and records each latency:

1. idle: no receipts being printed (health asks the device afresh each time);
2. printing: 8 client threads post receipts back to back (each its own ``Idempotency-Key``), so the device always
   has a queue; the sampler starts once that queue has formed, and the printers stop after it;
3. idle again, so that a drift of the machine's load during the run does not land on one side only.

``health_p50_ms_idle`` is the p50 over both idle phases, ``health_p50_ms_printing`` the p50 while printing. Goal:
printing within 2x idle (health reads the device's last known state while it prints instead of queueing behind the
printer). The notes hold p90/p99, request counts, the receipts printed during the window and the adapter's CPU.
"""

from __future__ import annotations

import multiprocessing
import threading
import time
import uuid
from dataclasses import dataclass
from typing import Any

import httpx

from bench.common import Figure, adapter_env, percentile, sale_body, workdir
from bench.server import cpu_cores
from kkt_adapter.testing.process import AdapterProcess

PRINT_DELAY_MS = 200
PRINTERS = 8
INTERVAL_S = 0.02
GOAL_RATIO = 2.0
# The device's queue counts as formed when this many receipts are stored and waiting for (or on) the printer.
QUEUE_FORMED = PRINTERS - 2


@dataclass(frozen=True)
class Samples:
    """One sampler run: latencies of the 200-answered health requests, failures, and the wall time."""

    latencies_ms: list[float]
    errors: int
    seconds: float


def sample_health(url: str, seconds: float, interval_s: float = INTERVAL_S, warmup: int = 1) -> Samples:
    """``GET /v1/health`` every ``interval_s`` for ``seconds`` (after ``warmup`` unrecorded requests); loopback only.

    Runs in a client process of its own, so that the printers' client does not share its interpreter.
    """
    if not url.startswith("http://127.0.0.1:"):
        raise ValueError(f"the sampler talks to loopback only, not {url}")
    latencies: list[float] = []
    errors = 0
    with httpx.Client(base_url=url, timeout=10.0) as client:
        for _ in range(warmup):
            client.get("/v1/health")
        started = time.perf_counter()
        due = started
        while time.perf_counter() - started < seconds:
            pause = due - time.perf_counter()
            if pause > 0:
                time.sleep(pause)
            sent = time.perf_counter()
            try:
                response = client.get("/v1/health")
            except httpx.HTTPError:
                errors += 1
            else:
                if response.status_code == 200:
                    latencies.append((time.perf_counter() - sent) * 1000)
                else:
                    errors += 1
            # A steady rate; a late answer delays the next request instead of causing a burst.
            due = max(due + interval_s, time.perf_counter())
        return Samples(latencies, errors, time.perf_counter() - started)


class Printers:
    """``PRINTERS`` threads posting receipts back to back until stopped (the device prints one at a time)."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.stopping = threading.Event()
        self.lock = threading.Lock()
        self.printed = 0
        self.errors = 0
        self.threads = [threading.Thread(target=self._run, args=(n,), daemon=True) for n in range(PRINTERS)]

    def _run(self, n: int) -> None:
        body = sale_body()
        tag = uuid.uuid4().hex[:8]
        with httpx.Client(base_url=self.url, timeout=60.0) as client:
            while not self.stopping.is_set():
                key = f"status-{tag}-{n}-{uuid.uuid4().hex}"
                try:
                    ok = client.post("/v1/kkt/receipt", json=body, headers={"Idempotency-Key": key}).status_code == 200
                except httpx.HTTPError:
                    ok = False
                with self.lock:
                    if ok:
                        self.printed += 1
                    else:
                        self.errors += 1

    def __enter__(self) -> Printers:
        for thread in self.threads:
            thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stopping.set()
        for thread in self.threads:
            thread.join(timeout=60)

    def counts(self) -> tuple[int, int]:
        with self.lock:
            return self.printed, self.errors


def _buffer(client: httpx.Client) -> dict[str, Any]:
    response = client.get("/v1/kkt/buffer/status")
    response.raise_for_status()
    body: dict[str, Any] = response.json()
    return body


def _wait_for_queue(client: httpx.Client, *, timeout: float = 30.0) -> int:
    """Poll until the device has a queue (``QUEUE_FORMED`` receipts ``accepted``); return how many."""
    deadline = time.monotonic() + timeout
    while True:
        accepted = int(_buffer(client)["accepted"])
        if accepted >= QUEUE_FORMED:
            return accepted
        if time.monotonic() >= deadline:
            raise RuntimeError(f"the printers' queue did not form within {timeout} s ({accepted} accepted)")
        time.sleep(0.02)


def _describe(samples: Samples, cpu: float) -> dict[str, Any]:
    values = samples.latencies_ms
    return {
        "requests": len(values),
        "errors": samples.errors,
        "seconds": round(samples.seconds, 2),
        "p50_ms": round(percentile(values, 50), 3),
        "p90_ms": round(percentile(values, 90), 3),
        "p99_ms": round(percentile(values, 99), 3),
        "max_ms": round(max(values), 3),
        "adapter_cpu_cores": round(cpu, 3),
    }


def run(quick: bool) -> tuple[list[Figure], dict[str, Any]]:
    """Sample health idle, while 8 clients print, and idle again; compare the p50s."""
    seconds = 2.0 if quick else 10.0
    env = adapter_env(KKT_EMULATOR_PRINT_DELAY_MS=str(PRINT_DELAY_MS))
    notes: dict[str, Any] = {
        "print_delay_ms": PRINT_DELAY_MS,
        "printers": PRINTERS,
        "sample_interval_ms": INTERVAL_S * 1000,
        "seconds_per_phase": seconds,
    }
    with (
        workdir("status") as tmp,
        multiprocessing.get_context("spawn").Pool(1) as sampler,
        AdapterProcess(tmp / "data", env=env) as adapter,
        httpx.Client(base_url=adapter.url, timeout=30) as http,
    ):
        assert adapter.pid is not None
        # Warm-up: the first receipt opens the shift; then the sampler process imports and connects.
        for _ in range(3):
            http.post("/v1/kkt/receipt", json=sale_body(), headers={"Idempotency-Key": uuid.uuid4().hex})
        sampler.apply(sample_health, (adapter.url, 0.2))

        with cpu_cores(adapter.pid) as cpu:
            idle_before = sampler.apply(sample_health, (adapter.url, seconds))
        notes["idle_before"] = _describe(idle_before, cpu())

        with Printers(adapter.url) as printers:
            notes["accepted_when_sampling_began"] = _wait_for_queue(http)
            printed_before, _ = printers.counts()
            with cpu_cores(adapter.pid) as cpu:
                printing = sampler.apply(sample_health, (adapter.url, seconds))
            printed_after, print_errors = printers.counts()
            # The device still had a queue when the sampler stopped: every sample was taken while printing.
            notes["accepted_when_sampling_ended"] = int(_buffer(http)["accepted"])
        notes["printing"] = _describe(printing, cpu()) | {
            "receipts_printed_while_sampling": printed_after - printed_before,
            "receipts_printed_total": printers.counts()[0],
            "receipt_errors": print_errors,
        }

        with cpu_cores(adapter.pid) as cpu:
            idle_after = sampler.apply(sample_health, (adapter.url, seconds))
        notes["idle_after"] = _describe(idle_after, cpu())
    for name, samples in (("idle_before", idle_before), ("printing", printing), ("idle_after", idle_after)):
        if samples.errors:
            raise RuntimeError(f"health {name}: {samples.errors} requests failed or were not 200")
    if print_errors:
        raise RuntimeError(f"{print_errors} receipts failed while printing")
    if notes["accepted_when_sampling_ended"] < 1:
        raise RuntimeError("the printers' queue had drained before the sampler stopped")
    idle_p50 = percentile(idle_before.latencies_ms + idle_after.latencies_ms, 50)
    printing_p50 = percentile(printing.latencies_ms, 50)
    notes["ratio_printing_to_idle"] = round(printing_p50 / idle_p50, 3)
    figures = [
        Figure("health_p50_ms_idle", idle_p50, "ms"),
        Figure(
            "health_p50_ms_printing",
            printing_p50,
            "ms",
            "health_p50_ms_idle",
            idle_p50,
            f"<= {GOAL_RATIO:g} x reference",
            printing_p50 <= GOAL_RATIO * idle_p50,
        ),
    ]
    return figures, notes
