"""Slow clients cannot starve the tills: connections that have not sent a whole request head do not count towards
``KKT_MAX_CONNECTIONS``, and one too slow over its head, or silent from the start, is closed (a real process)."""

from __future__ import annotations

import socket
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from pathlib import Path

import httpx
import pytest

from kkt_adapter.testing import AdapterProcess, bodies, wait_for

pytestmark = pytest.mark.slow

SLOW = 100
TILLS = 4
SALES_PER_TILL = 10


def _slow_connection(port: int, head: bytes) -> socket.socket:
    """A connection that sends the start of a request head (or nothing) and then stalls."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=5)
    if head:
        sock.sendall(head)
    return sock


def _closed_by_server(sock: socket.socket) -> bool:
    sock.settimeout(0.05)
    try:
        return sock.recv(1024) == b""
    except TimeoutError:
        return False
    except OSError:
        return True


def test_a_hundred_slow_connections_do_not_take_the_tills_turn(tmp_path: Path) -> None:
    """100 connections stalled mid-head (or silent) while 4 tills sell: every till's sale is answered 200."""
    env = {"KKT_MAX_CONNECTIONS": "100", "KKT_SYNC_ENABLED": "false", "KKT_HEADER_TIMEOUT": "60"}
    with AdapterProcess(tmp_path / "data", env=env) as adapter, ExitStack() as stack:
        for index in range(SLOW):
            head = b"" if index % 2 else b"POST /v1/kkt/receipt HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: "
            stack.callback(_slow_connection(adapter.port, head).close)

        def till(number: int) -> list[int]:
            with httpx.Client(base_url=adapter.url, timeout=30) as http:
                return [
                    http.post(
                        "/v1/kkt/receipt", json=bodies.sale(), headers={"Idempotency-Key": f"till-{number}-{sale}"}
                    ).status_code
                    for sale in range(SALES_PER_TILL)
                ]

        with ThreadPoolExecutor(TILLS) as pool:
            answers = [code for codes in pool.map(till, range(TILLS)) for code in codes]
    assert answers == [200] * (TILLS * SALES_PER_TILL)


def test_a_head_too_slow_and_a_silent_connection_are_closed(tmp_path: Path) -> None:
    """A head not finished within KKT_HEADER_TIMEOUT, and a connection silent for KKT_FIRST_REQUEST_TIMEOUT, are
    closed by the server; a whole request on time is answered."""
    env = {"KKT_HEADER_TIMEOUT": "0.3", "KKT_FIRST_REQUEST_TIMEOUT": "0.3", "KKT_SYNC_ENABLED": "false"}
    with AdapterProcess(tmp_path / "data", env=env) as adapter:
        slow = _slow_connection(adapter.port, b"GET /v1/health HTTP/1.1\r\nHost: 127.0.0.1\r\n")
        silent = _slow_connection(adapter.port, b"")
        try:
            wait_for(lambda: _closed_by_server(slow), timeout=10, what="the slow head's connection closed")
            wait_for(lambda: _closed_by_server(silent), timeout=10, what="the silent connection closed")
        finally:
            slow.close()
            silent.close()
        assert httpx.get(f"{adapter.url}/v1/health", timeout=5).status_code == 200
