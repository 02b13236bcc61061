"""Several devices behind one adapter: does a second KKT double the sales a shop can print?

Each emulated device waits its print delay, 200 ms, per printed document, and with a delay the emulated driver prints
one receipt per call (a batch shares one journal transaction only without a delay), so one device caps the accept
rate at 1000 / 200 = 5 receipts/s whatever the connections. Two devices each have their own print thread, so the
POS spreading its sales over both with the body's ``"device"`` field (``bench/lua/devices.lua`` names them in turn)
should get about 10. Both runs are wrk at 8 connections for as long as the accept figures, in the same run, against
``KKT_DEVICES`` with one and with two emulated devices; ``two_devices_speedup`` is their ratio.

Before each measured run the warm-up's abandoned requests are left to finish printing (the device would otherwise
spend the run's first second on sales wrk does not count). A rate above the devices' ceiling means the delay was not
in force, and the group fails rather than record it. The adapter's CPU and each device's prints during the run
(``kkt_device_printed_total``) go to the notes.
"""

from __future__ import annotations

import json
import re
import time
from pathlib import Path
from typing import Any

import httpx

from bench.common import Figure, Skipped, adapter_env, sale_body, workdir
from bench.server import cpu_cores
from bench.wrk import WrkResult, ensure_wrk, run_wrk
from kkt_adapter.testing.process import AdapterProcess

DELAY_MS = 200
CONNECTIONS = 8
GOAL_SPEEDUP = 1.8
ONE = ("main",)
TWO = ("main", "backup")
PATH = "/v1/kkt/receipt"
SCRIPT = Path(__file__).resolve().parent / "lua" / "devices.lua"
#: A measured rate this far above the devices' ceiling (1000 / delay each) means the print delay was not applied.
CEILING_SLACK = 1.2
_PRINTED = re.compile(r'^kkt_device_printed_total\{device="([^"]+)"\}\s+([0-9.eE+-]+)\s*$', re.MULTILINE)


def devices_setting(names: tuple[str, ...], delay_ms: int = DELAY_MS) -> str:
    """``KKT_DEVICES`` for emulated devices called ``names``, each with the print delay ``delay_ms``."""
    return json.dumps([{"name": name, "driver": "emulated", "print_delay_ms": delay_ms} for name in names])


def device_body(names: tuple[str, ...]) -> str:
    """A sale whose ``device`` field ``bench/lua/devices.lua`` fills with ``names`` in turn."""
    return json.dumps(sale_body() | {"device": "@DEVICE:" + ",".join(names) + "@"})


def ceiling_rps(devices: int, delay_ms: int = DELAY_MS) -> float:
    """The most receipts/s ``devices`` devices can print, one document per ``delay_ms`` each."""
    return devices * 1000 / delay_ms


def printed_by_device(metrics: str) -> dict[str, float]:
    """Documents each device has printed, from the adapter's ``/metrics`` text."""
    return {name: float(value) for name, value in _PRINTED.findall(metrics)}


def _printed(url: str, names: tuple[str, ...]) -> dict[str, float]:
    """Documents each of ``names`` has printed so far; every one of them must have printed already."""
    printed = printed_by_device(httpx.get(url + "/metrics", timeout=5).text)
    missing = [name for name in names if name not in printed]
    if missing:
        raise RuntimeError(f"/metrics has no kkt_device_printed_total for {missing} after the warm-up")
    return printed


def _require_devices(url: str) -> None:
    """Skip the group when the adapter here predates several devices (the names are checked in ``/metrics``)."""
    answer = httpx.get(url + "/v1/kkt/devices", timeout=5)
    if answer.status_code == 404:
        raise Skipped("the adapter in this tree serves no GET /v1/kkt/devices (several devices are not in yet)")
    answer.raise_for_status()


def _settle(url: str, names: tuple[str, ...], *, quiet_s: float, timeout_s: float = 30.0) -> None:
    """Wait until no device has printed anything for ``quiet_s`` (the warm-up's abandoned requests are done)."""
    deadline = time.monotonic() + timeout_s
    last = _printed(url, names)
    while time.monotonic() < deadline:
        time.sleep(quiet_s)
        now = _printed(url, names)
        if now == last:
            return
        last = now
    raise RuntimeError(f"the devices were still printing {timeout_s} s after the warm-up")


def _measure(tmp: Path, names: tuple[str, ...], duration: float) -> tuple[WrkResult, dict[str, Any]]:
    """Accept with wrk at ``CONNECTIONS`` against an adapter with the emulated devices ``names``."""
    env = adapter_env(KKT_EMULATOR_PRINT_DELAY_MS=str(DELAY_MS), KKT_DEVICES=devices_setting(names))
    body = device_body(names)
    with AdapterProcess(tmp / f"{len(names)}-devices", env=env) as adapter:
        assert adapter.pid is not None
        _require_devices(adapter.url)
        # Warm-up: opens each device's shift (two documents) before the measured run.
        run_wrk(adapter.url, PATH, body, connections=2 * len(names), seconds=1, script=SCRIPT)
        _settle(adapter.url, names, quiet_s=3 * DELAY_MS / 1000)
        before = _printed(adapter.url, names)
        with cpu_cores(adapter.pid) as adapter_cpu:
            result = run_wrk(adapter.url, PATH, body, connections=CONNECTIONS, seconds=duration, script=SCRIPT)
        after = _printed(adapter.url, names)
    if result.errors:
        raise RuntimeError(f"accept on {len(names)} device(s): {result.errors} failed requests (wrk)")
    ceiling = ceiling_rps(len(names))
    if result.rps > CEILING_SLACK * ceiling:
        raise RuntimeError(
            f"{result.rps:.1f} receipts/s on {len(names)} device(s) is above their ceiling of {ceiling:.0f}: "
            f"the print delay of {DELAY_MS} ms was not applied"
        )
    cores = adapter_cpu()
    notes = result.describe() | {
        "devices": list(names),
        "adapter_cpu_cores": round(cores, 3),
        "adapter_cpu_ms_per_receipt": round(1000 * cores / result.rps, 3) if result.rps else None,
        "ceiling_rps": ceiling,
        "share_of_ceiling": round(result.rps / ceiling, 3),
        "printed_during_run": {name: after[name] - before[name] for name in names},
    }
    return result, notes


def run(quick: bool) -> tuple[list[Figure], dict[str, Any]]:
    """One device, then two with the sales spread over both, at 8 connections; the rates and their ratio."""
    ensure_wrk()
    duration = 3.0 if quick else 10.0
    notes: dict[str, Any] = {"duration_s": duration, "connections": CONNECTIONS, "print_delay_ms": DELAY_MS}
    with workdir("devices") as tmp:
        one, notes["one_device"] = _measure(tmp, ONE, duration)
        two, notes["two_devices"] = _measure(tmp, TWO, duration)
    return figures(one.rps, two.rps), notes


def figures(one_rps: float, two_rps: float) -> list[Figure]:
    """The two rates, each beside its devices' ceiling, and the speedup judged against its goal."""
    speedup = two_rps / one_rps if one_rps else 0.0
    return [
        Figure(
            f"accept_rps_c{CONNECTIONS}_one_device_{DELAY_MS}ms",
            one_rps,
            "receipts/s",
            f"one device's ceiling: 1000 / {DELAY_MS} ms per document",
            ceiling_rps(1),
        ),
        Figure(
            f"accept_rps_c{CONNECTIONS}_two_devices",
            two_rps,
            "receipts/s",
            f"two devices' ceiling: 2 × 1000 / {DELAY_MS} ms per document",
            ceiling_rps(2),
        ),
        Figure(
            "two_devices_speedup",
            speedup,
            "×",
            f"accept_rps_c{CONNECTIONS}_two_devices / accept_rps_c{CONNECTIONS}_one_device_{DELAY_MS}ms, same run",
            None,
            f">= {GOAL_SPEEDUP}",
            speedup >= GOAL_SPEEDUP,
        ),
    ]
