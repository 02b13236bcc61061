"""Accept under abuse: the p99 of 8 normal clients while oversized bodies and slow connections hit the same adapter.

One real ``kkt-adapter serve`` process (the emulated KKT, print delay 0, sync off, a buffer too large to fill,
``KKT_MAX_CONNECTIONS=200`` so that the 100 slow connections plus the clients fit under the cap). Three phases of
the same length, the normal load from wrk (``bench.wrk``, 8 connections, a fresh ``Idempotency-Key`` per request,
the sale body of ``bench.common``):

1. clean: the 8 clients alone;
2. abused: the 8 clients while an abuse process, also of its own, keeps 100 connections trickling header bytes (one
   byte every ~0.5 s each, the header never ends) and, on one more connection at a time, posts bodies of 1 MiB + 1
   byte in a loop (just over the default ``KKT_MAX_BODY_BYTES``; the adapter answers 413 and closes);
3. clean again, so that a drift of the machine's load does not land on one side only.

``accept_p99_ms_c8_under_abuse`` is wrk's p99 of phase 2; its reference is the mean of wrk's p99 in the two clean
phases (``accept_p99_ms_c8`` of this run, kept in the notes rather than as a second row, so that it cannot be
mistaken for the accept group's figure of the same name). Goal: abused within 2x clean. All traffic goes to
127.0.0.1; every phase stops by time and count; every socket is closed and every process ended before ``run``
returns.
"""

from __future__ import annotations

import contextlib
import json
import multiprocessing
import os
import socket
import threading
import time
from dataclasses import dataclass
from typing import Any

from bench.common import Figure, adapter_env, sale_body, workdir
from bench.server import cpu_cores
from bench.wrk import WrkResult, run_wrk
from kkt_adapter.testing.process import AdapterProcess

CLIENTS = 8
SLOW_CONNECTIONS = 100
SLOW_INTERVAL_S = 0.5
MAX_CONNECTIONS = 200
DEFAULT_MAX_BODY = 1_048_576
BIG_BODY = DEFAULT_MAX_BODY + 1  # 1 MiB + 1 byte: the smallest body the default limit refuses
MAX_BIG_REQUESTS = 100_000
GOAL_RATIO = 2.0
# The abuse is in place this long before the clients start, and lasts this long after they stop.
LEAD_S = 1.5
TAIL_S = 0.5


@dataclass(frozen=True)
class AbuseReport:
    """What the abuse process did."""

    slow_opened: int
    slow_open_at_end: int
    slow_bytes_sent: int
    big_sent: int
    big_413: int
    big_other_status: dict[str, int]
    big_reset: int
    seconds: float


def _slow(port: int, stop_at: float, out: dict[str, int]) -> None:
    """``SLOW_CONNECTIONS`` sockets each sending one header byte every ``SLOW_INTERVAL_S``; the header never ends."""
    # A request line, then a header value that grows and never reaches the blank line.
    stream = b"POST /v1/kkt/receipt HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: " + b"a" * 10_000
    socks: list[socket.socket | None] = []
    sent = [0] * SLOW_CONNECTIONS
    try:
        for _ in range(SLOW_CONNECTIONS):
            socks.append(socket.create_connection(("127.0.0.1", port), timeout=5.0))
        out["opened"] = len(socks)
        step = SLOW_INTERVAL_S / SLOW_CONNECTIONS  # spread the connections' bytes over the interval
        due = time.monotonic()
        while time.time() < stop_at:
            for i, sock in enumerate(socks):
                if sock is None:
                    continue
                due += step
                pause = due - time.monotonic()
                if pause > 0:
                    time.sleep(pause)
                try:
                    sock.sendall(stream[sent[i] : sent[i] + 1])
                    sent[i] += 1
                except OSError:
                    sock.close()
                    socks[i] = None
            if time.time() >= stop_at:
                break
        # A connection the server closed shows as readable with EOF (or an error) without blocking.
        open_now = 0
        for sock in socks:
            if sock is None:
                continue
            sock.setblocking(False)
            try:
                closed = sock.recv(1) == b""
            except BlockingIOError:
                closed = False
            except OSError:
                closed = True
            open_now += 0 if closed else 1
        out["open_at_end"] = open_now
        out["bytes"] = sum(sent)
    finally:
        for sock in socks:
            if sock is not None:
                sock.close()


def _big(port: int, stop_at: float, out: dict[str, Any]) -> None:
    """Post a ``BIG_BODY``-byte body on a fresh connection, read the answer, close; again until ``stop_at``."""
    head = (
        f"POST /v1/kkt/receipt HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        f"Idempotency-Key: abuse\r\nContent-Length: {BIG_BODY}\r\n\r\n"
    ).encode("ascii")
    body = b"x" * BIG_BODY
    other: dict[str, int] = {}
    while time.time() < stop_at and out["sent"] < MAX_BIG_REQUESTS:
        out["sent"] += 1
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=5.0) as sock:
                # The server may answer and close before the whole body is in; the answer may still be there.
                with contextlib.suppress(OSError):
                    sock.sendall(head + body)
                answer = b""
                while b"\r\n" not in answer:
                    chunk = sock.recv(4096)
                    if not chunk:
                        break
                    answer += chunk
        except OSError:
            out["reset"] += 1
            continue
        status = answer.split(b" ", 2)[1].decode("ascii", "replace") if answer.count(b" ") >= 2 else "none"
        if status == "413":
            out["413"] += 1
        else:
            other[status] = other.get(status, 0) + 1
    out["other"] = other


def abuse(port: int, stop_at: float) -> AbuseReport:
    """Run in a process of its own: the slow connections and the big-body loop together until ``stop_at``."""
    started = time.time()
    slow: dict[str, int] = {"opened": 0, "open_at_end": 0, "bytes": 0}
    big: dict[str, Any] = {"sent": 0, "413": 0, "reset": 0, "other": {}}
    threads = [
        threading.Thread(target=_slow, args=(port, stop_at, slow), daemon=True),
        threading.Thread(target=_big, args=(port, stop_at, big), daemon=True),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=max(1.0, stop_at - time.time()) + 30.0)
    return AbuseReport(
        slow_opened=slow["opened"],
        slow_open_at_end=slow["open_at_end"],
        slow_bytes_sent=slow["bytes"],
        big_sent=big["sent"],
        big_413=big["413"],
        big_other_status=big["other"],
        big_reset=big["reset"],
        seconds=round(time.time() - started, 2),
    )


def _load(url: str, seconds: float) -> WrkResult:
    return run_wrk(url, "/v1/kkt/receipt", json.dumps(sale_body()), connections=CLIENTS, seconds=seconds)


def _phase(result: WrkResult, cpu: float) -> dict[str, Any]:
    return result.describe() | {"rps": round(result.rps, 1), "adapter_cpu_cores": round(cpu, 3)}


def run(quick: bool) -> tuple[list[Figure], dict[str, Any]]:
    """Accept p99 at 8 clients clean, under abuse, and clean again; compare abused with clean."""
    seconds = 5.0 if quick else 10.0
    env = adapter_env(KKT_MAX_CONNECTIONS=str(MAX_CONNECTIONS))
    notes: dict[str, Any] = {
        "seconds_per_phase": seconds,
        "clients": CLIENTS,
        "slow_connections": SLOW_CONNECTIONS,
        "slow_byte_interval_s": SLOW_INTERVAL_S,
        "big_body_bytes": BIG_BODY,
        "max_connections": MAX_CONNECTIONS,
        "load_average_1m_at_start": round(os.getloadavg()[0], 2),
    }
    spawn = multiprocessing.get_context("spawn")
    with (
        workdir("abuse") as tmp,
        spawn.Pool(1) as abuser,
        AdapterProcess(tmp / "data", env=env) as adapter,
    ):
        assert adapter.pid is not None
        abuser.apply(os.getpid)  # the abuse process is up before anything is timed
        _load(adapter.url, 1)  # warm-up

        with cpu_cores(adapter.pid) as cpu:
            clean_before = _load(adapter.url, seconds)
        notes["clean_before"] = _phase(clean_before, cpu())

        stop_at = time.time() + LEAD_S + seconds + TAIL_S + 2.0  # + the load's own start-up margin
        pending = abuser.apply_async(abuse, (adapter.port, stop_at))
        time.sleep(LEAD_S)
        with cpu_cores(adapter.pid) as cpu:
            abused = _load(adapter.url, seconds)
        notes["abused"] = _phase(abused, cpu())
        report = pending.get(timeout=stop_at - time.time() + 60.0)
        notes["abuse"] = {
            "slow_connections_opened": report.slow_opened,
            "slow_connections_still_open_at_end": report.slow_open_at_end,
            "slow_header_bytes_sent": report.slow_bytes_sent,
            "big_bodies_sent": report.big_sent,
            "big_bodies_413": report.big_413,
            "big_bodies_other_status": report.big_other_status,
            "big_bodies_reset_without_answer": report.big_reset,
            "seconds": report.seconds,
        }

        with cpu_cores(adapter.pid) as cpu:
            clean_after = _load(adapter.url, seconds)
        notes["clean_after"] = _phase(clean_after, cpu())
    for name, result in (("clean_before", clean_before), ("abused", abused), ("clean_after", clean_after)):
        if result.errors:
            raise RuntimeError(f"accept {name}: {result.errors} requests failed or were not 200 ({notes})")
    if report.slow_opened != SLOW_CONNECTIONS:
        raise RuntimeError(f"only {report.slow_opened} of {SLOW_CONNECTIONS} slow connections opened")
    clean_p99 = (clean_before.p99_ms + clean_after.p99_ms) / 2
    abused_p99 = abused.p99_ms
    notes["accept_p99_ms_c8"] = round(clean_p99, 3)
    notes["ratio_abused_to_clean"] = round(abused_p99 / clean_p99, 3)
    figures = [
        Figure(
            "accept_p99_ms_c8_under_abuse",
            abused_p99,
            "ms",
            "accept_p99_ms_c8 without abuse, same adapter, same run",
            clean_p99,
            f"<= {GOAL_RATIO:g} x reference",
            abused_p99 <= GOAL_RATIO * clean_p99,
        )
    ]
    return figures, notes
