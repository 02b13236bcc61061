"""Accept through the Shtrih-M driver: the adapter prints over the Shtrih-M native protocol (TCP) to the emulator.

``accept_rps_c8_shtrih`` is measured with wrk at 8 connections, print delay 0, beside ``accept_rps_c8`` of the
emulated driver measured the same way in the same run (the reference). The driver prints one receipt at a time
(``max_batch = 1``): 8Dh open, FF01h the FN's last FD (read with the receipt open), FF46h per item, FF0Ch when a
cashier is given, FF45h close, each a request answered before the next, and one fsync of the key; 10h before and
FF40h after only when the driver's state is not known good (the first receipt, after trouble). The emulator runs in
this process (``MockShtrihServer``, its own threads), and counts what
crosses its TCP line (:class:`kkt_emulators.shtrih.server.Traffic`): bytes both ways and turns (the KKT answering
after the host spoke: one round trip). Divided by the receipts the FN signed in the same window, they are
``shtrih_bytes_per_receipt`` and ``shtrih_round_trips_per_receipt`` (the adapter's health polls included).

Measured 2026-12-08 on the shared 2-core machine, ``.venv/bin/python -m bench --only shtrih``, three runs (load average
0.7–1.1 at their starts): 355, 337 and 350 receipts/s against 872, 849 and 888 for the emulated driver (41 %, 40 %,
39 %: the goal of 50 % missed); 4.0 round trips and 289 bytes per receipt. Before the state reads were cut, the same
command gave 213 against 732 (29 %, load 0.55), 7.0 round trips and 406 bytes.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from bench.common import Figure, adapter_env, sale_body, workdir
from bench.server import cpu_cores
from bench.wrk import WrkResult, ensure_wrk, run_wrk
from kkt_adapter.testing.process import AdapterProcess
from kkt_emulators.device import EmulatedKKT
from kkt_emulators.shtrih import MockShtrihServer

#: The Shtrih driver's rate should reach this share of the emulated driver's (the protocol must not dominate).
GOAL_SHARE = 0.5
CONNECTIONS = 8
PATH = "/v1/kkt/receipt"


def _measure(
    adapter: AdapterProcess, body: str, duration: float, *, warm_up: bool = True
) -> tuple[WrkResult, dict[str, Any]]:
    assert adapter.pid is not None
    if warm_up:
        run_wrk(adapter.url, PATH, body, connections=4, seconds=1)
    with cpu_cores(adapter.pid) as adapter_cpu, cpu_cores(os.getpid()) as here_cpu:
        result = run_wrk(adapter.url, PATH, body, connections=CONNECTIONS, seconds=duration)
    if result.errors:
        raise RuntimeError(f"accept at {CONNECTIONS} connections: {result.errors} failed requests (wrk)")
    notes = result.describe() | {"adapter_cpu_cores": round(adapter_cpu(), 3), "bench_cpu_cores": round(here_cpu(), 3)}
    return result, notes


def _shtrih(tmp: Path, body: str, duration: float, notes: dict[str, Any]) -> tuple[WrkResult, dict[str, float]]:
    """The Shtrih driver's accept rate, and the line's traffic per receipt signed in the same window."""
    with EmulatedKKT(tmp / "shtrih-kkt", print_delay_ms=0) as kkt:
        if not kkt.status().shift_open:
            kkt.open_shift()
    with MockShtrihServer(port=0, data_dir=tmp / "shtrih-kkt", print_delay_ms=0) as server:
        env = adapter_env(KKT_DRIVER_TYPE="shtrih", KKT_SHTRIH_URL=server.url)
        with AdapterProcess(tmp / "shtrih", env=env) as adapter:
            run_wrk(adapter.url, PATH, body, connections=4, seconds=1)  # warm-up, outside the window
            before, first = server.traffic.snapshot(), server.kkt.status().last_fd_number
            result, notes["shtrih"] = _measure(adapter, body, duration, warm_up=False)
            after, last = server.traffic.snapshot(), server.kkt.status().last_fd_number
    receipts = last - first
    window = {name: after[name] - before[name] for name in after}
    notes["shtrih"]["emulator_in_bench_process"] = True
    notes["shtrih"]["line"] = window | {"receipts_signed": receipts}
    per = {name: window[name] / receipts if receipts else 0.0 for name in window}
    return result, per


def run(quick: bool) -> tuple[list[Figure], dict[str, Any]]:
    """The emulated driver's accept rate, then the Shtrih driver's through the emulator, at 8 connections."""
    ensure_wrk()
    duration = 3.0 if quick else 10.0
    body = json.dumps(sale_body())
    notes: dict[str, Any] = {"duration_s": duration, "connections": CONNECTIONS, "protocol": "auto (v2)"}
    with workdir("shtrih") as tmp:
        with AdapterProcess(tmp / "emulated", env=adapter_env()) as adapter:
            emulated, notes["emulated"] = _measure(adapter, body, duration)
        shtrih, per = _shtrih(tmp, body, duration, notes)
    share = shtrih.rps / emulated.rps if emulated.rps else 0.0
    notes["share_of_emulated"] = round(share, 3)
    figure = Figure(
        "accept_rps_c8_shtrih",
        shtrih.rps,
        "receipts/s",
        "accept_rps_c8 with the emulated driver, same run",
        emulated.rps,
        f">= {GOAL_SHARE:.0%} of the reference",
        share >= GOAL_SHARE,
    )
    return [
        figure,
        Figure("accept_p99_ms_c8_shtrih", shtrih.p99_ms, "ms"),
        Figure("shtrih_bytes_per_receipt", per["bytes_in"] + per["bytes_out"], "bytes"),
        Figure("shtrih_round_trips_per_receipt", per["turns"], "round trips"),
    ], notes
