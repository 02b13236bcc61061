"""Starting and stopping the mock servers: free ports, answering on return, a single start, a freed port."""

from __future__ import annotations

import socket
import time

import httpx
import pytest

from kkt_emulators.odoo import MockOdooServer
from kkt_emulators.ofd import MockOFDServer
from kkt_emulators.server import BackgroundServer


def test_default_ports_are_the_field_documents() -> None:
    """Without a port the OFD listens on 9000 and the ERP on 8069, on loopback."""
    assert MockOFDServer().url == "http://127.0.0.1:9000"
    assert MockOdooServer().url == "http://127.0.0.1:8069"


def test_port_zero_picks_a_free_port_and_answers_once_started(client: httpx.Client) -> None:
    """``port=0`` resolves to a real port at start, and the first request right after ``start()`` is answered."""
    server = MockOFDServer(port=0)
    server.start()
    try:
        assert server.port > 0
        assert server.url == f"http://127.0.0.1:{server.port}"
        assert client.get(f"{server.url}/ofd/v1/health").json()["status"] == "healthy"
    finally:
        server.stop()


def test_second_start_raises() -> None:
    """A server starts once; starting it again (even after a stop) raises."""
    server = MockOFDServer(port=0)
    server.start()
    try:
        with pytest.raises(RuntimeError, match="already started"):
            server.start()
    finally:
        server.stop()
    with pytest.raises(RuntimeError):
        server.start()


def test_stop_frees_the_port() -> None:
    """After ``stop()`` the port can be bound again at once, and nothing answers there."""
    with MockOdooServer(port=0) as server:
        port = server.port
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"http://127.0.0.1:{port}/health", timeout=1.0)
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", port))


def test_stop_is_idempotent_and_safe_before_start() -> None:
    """Stopping a server never started, or twice, does nothing."""
    server = MockOFDServer(port=0)
    server.stop()
    server.start()
    server.stop()
    server.stop()
    assert not server.running


def test_busy_port_fails_in_start() -> None:
    """A port already taken makes ``start()`` raise ``OSError`` instead of failing later in a thread."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        server = MockOFDServer(port=sock.getsockname()[1])
        with pytest.raises(OSError, match="in use"):
            server.start()
        assert not server.running


def test_context_manager_starts_and_stops(client: httpx.Client) -> None:
    """``with MockOFDServer(port=0) as ofd`` serves inside the block and is stopped after it."""
    with MockOFDServer(port=0) as ofd:
        assert ofd.running
        assert client.post(f"{ofd.url}/ofd/v1/receipt", json={"any": "object"}).status_code == 200
    assert not ofd.running


def test_start_and_stop_are_fast(client: httpx.Client) -> None:
    """Start to first answer and stop both take a few milliseconds (a generous bound; the bench measures)."""
    server = MockOFDServer(port=0)
    began = time.perf_counter()
    server.start()
    client.get(f"{server.url}/ofd/v1/health")
    started = time.perf_counter()
    server.stop()
    stopped = time.perf_counter()
    assert started - began < 0.5
    assert stopped - started < 0.5


def test_stop_answers_a_held_request_instead_of_hanging(client: httpx.Client) -> None:
    """A request held at the gate is let go by ``stop()``, which still returns quickly."""
    import threading

    server = MockOFDServer(port=0)
    server.start()
    server.hold()
    answers: list[int] = []
    worker = threading.Thread(
        target=lambda: answers.append(httpx.post(f"{server.url}/ofd/v1/receipt", json={}, timeout=5).status_code)
    )
    worker.start()
    deadline = time.monotonic() + 5
    while server.get_held_count() == 0 and time.monotonic() < deadline:
        time.sleep(0.001)
    began = time.perf_counter()
    server.stop()
    worker.join(5)
    assert time.perf_counter() - began < 0.5
    assert answers == [200]


def test_keep_alive_answers_are_not_delayed(mock_ofd_server: MockOFDServer, client: httpx.Client) -> None:
    """Fifty posts on one keep-alive connection take well under a second (no 40 ms delayed-ACK stall per answer)."""
    began = time.perf_counter()
    for n in range(50):
        client.post(f"{mock_ofd_server.url}/ofd/v1/receipt", json={"n": n})
    assert time.perf_counter() - began < 1.0


def test_background_server_serves_any_asgi_app(client: httpx.Client) -> None:
    """``BackgroundServer`` runs a bare ASGI app on a free port and exposes its URL."""

    async def app(scope: dict, receive: object, send: object) -> None:  # type: ignore[type-arg]
        await send({"type": "http.response.start", "status": 204, "headers": []})  # type: ignore[operator]
        await send({"type": "http.response.body", "body": b""})  # type: ignore[operator]

    server = BackgroundServer(app, port=0)  # type: ignore[arg-type]
    server.start()
    try:
        assert client.get(server.url).status_code == 204
    finally:
        server.stop()
