"""Benchmark of the mock OFD against the earlier design's Flask/werkzeug mock and pytest-httpserver.

Measured in one process, one run: in-process start to first answer, stop, and requests/s with p99 latency at 16
concurrent keep-alive connections posting a distinct small document each to ``POST /ofd/v1/receipt`` with wrk (the
Python client's requests/s as a second column). ``run(quick)`` returns the figures; ``python -m bench.emulators``
prints them.
"""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import Any

import httpx

CONNECTIONS = 16
ACK = {"status": "accepted", "ofd_id": "OFD-000001", "timestamp": "2025-11-30T12:00:00.000Z", "server_time": 0}
BODY = {
    "receipt_id": "r-1",
    "pos_id": "POS-001",
    "fiscal_document": {"1040": 1, "1041": "9999078900001234", "1020": 10000, "1031": 10000, "1077": 123456},
}

Serve = Callable[[], AbstractContextManager[str]]


@contextmanager
def serve_mock_ofd() -> Iterator[str]:
    """The mock OFD on a free port."""
    from kkt_emulators.ofd import MockOFDServer

    with MockOFDServer(port=0, journal_size=100) as ofd:
        yield ofd.url


@contextmanager
def serve_flask() -> Iterator[str]:
    """A Flask app answering the same route, on werkzeug's threaded server (the earlier design's choice)."""
    import logging

    from flask import Flask, jsonify, request
    from werkzeug.serving import make_server

    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # no access log line per request
    app = Flask("flask_ofd")

    @app.post("/ofd/v1/receipt")
    def receipt() -> Any:
        request.get_json()
        return jsonify(ACK)

    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


@contextmanager
def serve_httpserver() -> Iterator[str]:
    """pytest-httpserver answering the same route with a fixed JSON."""
    from pytest_httpserver import HTTPServer

    server = HTTPServer(host="127.0.0.1", port=0)
    server.expect_request("/ofd/v1/receipt", method="POST").respond_with_json(ACK)
    server.start()
    try:
        yield server.url_for("").rstrip("/")
    finally:
        server.clear()
        if server.is_running():
            server.stop()


def load(url: str, per_connection: int) -> tuple[float, float]:
    """Requests/s and p99 latency (ms) of ``CONNECTIONS`` keep-alive clients, run in a separate process.

    The clients live in their own process so that they do not compete with the server for the GIL: what is
    measured is the server, the same way for the three of them.
    """
    code = (
        "import json, sys; from bench.emulators import load_here; "
        "print(json.dumps(load_here(sys.argv[1], int(sys.argv[2]))))"
    )
    root = Path(__file__).resolve().parents[1]
    done = subprocess.run(
        [sys.executable, "-c", code, url, str(per_connection)], cwd=root, capture_output=True, text=True, check=True
    )
    rps, p99 = json.loads(done.stdout.strip().splitlines()[-1])
    return float(rps), float(p99)


def load_here(url: str, per_connection: int) -> tuple[float, float]:
    """The load of :func:`load`, run by threads of this process."""
    latencies: list[float] = []
    lock = threading.Lock()
    barrier = threading.Barrier(CONNECTIONS + 1)

    def worker() -> None:
        mine = []
        with httpx.Client(timeout=30) as client:
            client.post(f"{url}/ofd/v1/receipt", json=BODY)  # connect and warm up outside the measure
            barrier.wait()
            for _ in range(per_connection):
                began = time.perf_counter()
                client.post(f"{url}/ofd/v1/receipt", json=BODY).raise_for_status()
                mine.append(time.perf_counter() - began)
        with lock:
            latencies.extend(mine)

    threads = [threading.Thread(target=worker) for _ in range(CONNECTIONS)]
    for thread in threads:
        thread.start()
    barrier.wait()
    began = time.perf_counter()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - began
    p99 = statistics.quantiles(latencies, n=100)[98] * 1000
    return len(latencies) / elapsed, p99


def start_stop_ms(rounds: int) -> tuple[float, float]:
    """Median in-process start-to-first-answer and stop times of the mock OFD, in ms."""
    from kkt_emulators.ofd import MockOFDServer

    starts, stops = [], []
    with httpx.Client() as client:
        for _ in range(rounds):
            began = time.perf_counter()
            server = MockOFDServer(port=0)
            server.start()
            client.get(f"{server.url}/ofd/v1/health").raise_for_status()
            answered = time.perf_counter()
            server.stop()
            stopped = time.perf_counter()
            starts.append((answered - began) * 1000)
            stops.append((stopped - answered) * 1000)
    return statistics.median(starts), statistics.median(stops)


def figure(
    name: str,
    value: float,
    unit: str,
    reference: str | None,
    reference_value: float | None,
    goal: str | None,
    met: bool | None = None,
) -> dict[str, Any]:
    """One figure in the bench's common shape; ``met`` judges its goal (``None`` for a reference)."""
    return {
        "name": name,
        "value": round(value, 2),
        "unit": unit,
        "reference": reference,
        "reference_value": None if reference_value is None else round(reference_value, 2),
        "goal": goal,
        "met": met,
    }


def wrk_load(url: str, seconds: float) -> tuple[float, float, dict[str, Any]]:
    """Requests/s and p99 latency (ms) with wrk at ``CONNECTIONS`` connections, each request a distinct document;
    the server runs in this process, so this process's CPU during the run is the server's."""
    import os

    from bench.drain import OFD_BODY
    from bench.server import cpu_cores
    from bench.wrk import run_wrk

    with cpu_cores(os.getpid()) as server_cpu:
        result = run_wrk(url, "/ofd/v1/receipt", OFD_BODY, connections=CONNECTIONS, seconds=seconds)
    if result.errors:
        raise RuntimeError(f"{url}: {result.errors} failed requests (wrk)")
    return result.rps, result.p99_ms, result.describe() | {"server_cpu_cores": round(server_cpu(), 3)}


def run(quick: bool) -> list[dict[str, Any]]:
    """Measure everything once; ``quick`` uses fewer rounds and requests.

    Throughput and p99 come from wrk (the server, not the client, is measured); the Python client's requests/s is
    the second column.
    """
    per_connection = 40 if quick else 300
    start_ms, stop_ms = start_stop_ms(5 if quick else 30)
    results: dict[str, tuple[float, float]] = {}
    python: dict[str, float] = {}
    notes: dict[str, dict[str, Any]] = {}
    servers: dict[str, Serve] = {"ofd": serve_mock_ofd, "flask": serve_flask, "httpserver": serve_httpserver}
    for name, serve in servers.items():
        with serve() as url:
            rps, p99, notes[name] = wrk_load(url, 2.0 if quick else 5.0)
            results[name] = rps, p99
            python[name] = load(url, per_connection)[0]
    ofd_rps, ofd_p99 = results["ofd"]
    flask_rps, httpserver_rps = results["flask"][0], results["httpserver"][0]
    rows = [
        figure("ofd_start_ms", start_ms, "ms", "goal", 50, "well under 50 ms to the first answer", start_ms < 50),
        figure("ofd_stop_ms", stop_ms, "ms", "goal", 100, "under 100 ms, port freed", stop_ms < 100),
        figure("ofd_rps", ofd_rps, "req/s", "flask_rps", flask_rps, "at least 5x flask_rps", ofd_rps >= 5 * flask_rps),
        figure("ofd_p99_ms", ofd_p99, "ms", "goal", 20, f"<= 20 ms at {CONNECTIONS} connections", ofd_p99 <= 20),
        figure("flask_rps", flask_rps, "req/s", "Flask/werkzeug threaded, same route, wrk", None, None),
        figure("httpserver_rps", httpserver_rps, "req/s", "pytest-httpserver, same route, wrk", None, None),
    ]
    for row, name in ((rows[2], "ofd"), (rows[4], "flask"), (rows[5], "httpserver")):
        row["python_client"] = round(python[name], 2)
    rows[2]["notes"] = notes
    return rows


if __name__ == "__main__":
    for row in run(quick="--quick" in sys.argv):
        print(row)
