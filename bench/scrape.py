"""The cost of one Prometheus scrape: the adapter's CPU per ``GET /metrics`` with three emulated devices.

One real ``kkt-adapter serve`` process with ``KKT_DEVICES`` naming three emulated devices, a few receipts printed
(so every family has its series), then ``GET /metrics`` back to back from one client; ``scrape_cpu_ms`` is the
adapter's CPU time (user + system) over the requests divided by their count. Goal: under 2 ms, so that a Prometheus
scraping every 15 s costs the adapter nothing it would notice. The notes hold the body's size and its series.

A scrape asks no device: it reports each device as last seen, and a periodic job looks at each idle device every
``KKT_DEVICE_CHECK_INTERVAL`` seconds (15 by default) whatever the scrapes. That job's cost is measured apart, so that
it is not hidden: a second adapter with the check every 20 ms sits idle for a while, and its CPU divided by the
rounds of checks it made is ``device_check_cpu_ms_per_round`` in the notes (one round looks at all three devices).
"""

from __future__ import annotations

import time
import uuid
from typing import Any

import httpx
import psutil

from bench.common import Figure, adapter_env, sale_body, workdir
from bench.devices import devices_setting
from kkt_adapter.testing.process import AdapterProcess

DEVICES = ("main", "second", "third")
GOAL_MS = 2.0


def run(quick: bool) -> tuple[list[Figure], dict[str, Any]]:
    """Scrape ``/metrics`` 200 times (50 quick) and divide the adapter's CPU time by it."""
    scrapes = 50 if quick else 200
    env = adapter_env(KKT_DEVICES=devices_setting(DEVICES), KKT_STORE="bench", KKT_TILL="1")
    with (
        workdir("scrape") as tmp,
        AdapterProcess(tmp / "data", env=env) as adapter,
        httpx.Client(base_url=adapter.url, timeout=30) as http,
    ):
        assert adapter.pid is not None
        for _ in range(6):
            http.post("/v1/kkt/receipt", json=sale_body(), headers={"Idempotency-Key": uuid.uuid4().hex})
        body = http.get("/metrics").text  # warm-up: the first scrape imports the exposition code
        process = psutil.Process(adapter.pid)
        before, started = sum(process.cpu_times()[:2]), time.perf_counter()
        for _ in range(scrapes):
            http.get("/metrics").raise_for_status()
        cpu_s, wall_s = sum(process.cpu_times()[:2]) - before, time.perf_counter() - started
    check = _device_check(quick)
    per_scrape_ms = 1000 * cpu_s / scrapes
    series = [line for line in body.splitlines() if line and not line.startswith("#")]
    notes = {
        "scrape": {
            "devices": len(DEVICES),
            "scrapes": scrapes,
            "wall_ms_per_scrape": round(1000 * wall_s / scrapes, 3),
            "body_bytes": len(body.encode()),
            "series": len(series),
        },
        "device_check": check,
    }
    figure = Figure(
        "scrape_cpu_ms",
        round(per_scrape_ms, 3),
        "ms",
        goal=f"< {GOAL_MS:g} ms of the adapter's CPU per GET /metrics with {len(DEVICES)} devices",
        met=per_scrape_ms < GOAL_MS,
    )
    return [figure], notes


CHECK_INTERVAL_S = 0.02


def _device_check(quick: bool) -> dict[str, Any]:
    """The periodic device check's CPU per round (all three devices), from an idle adapter checking every 20 ms.

    The rounds are counted from the interval (each waits it after the previous round ends, so slightly fewer ran:
    the per-round figure errs high, never low)."""
    window_s = 1.0 if quick else 3.0
    env = adapter_env(
        KKT_DEVICES=devices_setting(DEVICES), KKT_DEVICE_CHECK_INTERVAL=str(CHECK_INTERVAL_S), KKT_SYNC_ENABLED="false"
    )
    with workdir("check") as tmp, AdapterProcess(tmp / "data", env=env) as adapter:
        assert adapter.pid is not None
        process = psutil.Process(adapter.pid)
        time.sleep(0.5)  # the first rounds after the start, outside the window
        before = sum(process.cpu_times()[:2])
        time.sleep(window_s)
        cpu_s = sum(process.cpu_times()[:2]) - before
    rounds = window_s / CHECK_INTERVAL_S
    per_round_ms = 1000 * cpu_s / rounds
    return {
        "interval_s": CHECK_INTERVAL_S,
        "window_s": window_s,
        "cpu_ms_per_round": round(per_round_ms, 3),
        "cpu_ms_per_minute_at_default_15s": round(per_round_ms * 4, 3),
    }
