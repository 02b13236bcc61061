"""Starting and stopping the mock servers: free ports, answering on return, a single start, a freed port."""

from __future__ import annotations

import socket
import threading

import httpx
import pytest
from starlette.types import Receive, Scope, Send

from kkt_adapter.testing import wait_for
from kkt_emulators import server as server_module
from kkt_emulators.odoo import MockOdooServer
from kkt_emulators.ofd import MockOFDServer
from kkt_emulators.server import TRANSPORT_KEY, BackgroundServer


def test_default_ports_are_the_field_documents() -> None:
    """Without a port the OFD listens on 9000 and the ERP on 8069, on loopback."""
    assert MockOFDServer().url == "http://127.0.0.1:9000"
    assert MockOdooServer().url == "http://127.0.0.1:8069"


def test_an_ipv6_host_is_bracketed_in_the_url() -> None:
    """An IPv6 listening address is written in brackets in the server's URL, as URLs require."""
    assert MockOdooServer(host="::1").url == "http://[::1]:8069"
    assert MockOFDServer(port=9001, host="::1").url == "http://[::1]:9001"


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


@pytest.mark.parametrize("server_type", [MockOFDServer, MockOdooServer])
def test_second_start_raises(server_type: type[MockOFDServer | MockOdooServer]) -> None:
    """A server starts once: starting it again raises, "already running" while it runs, and after a stop too."""
    server = server_type(port=0)
    server.start()
    try:
        with pytest.raises(RuntimeError, match="already running"):
            server.start()
        assert server.running
    finally:
        server.stop()
    with pytest.raises(RuntimeError, match="create a new server"):
        server.start()
    assert not server.running


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


def test_stop_answers_a_held_request_instead_of_hanging() -> None:
    """A request held at the gate is let go by ``stop()`` and answered, not cut off when the server goes away."""
    server = MockOFDServer(port=0)
    server.start()
    server.hold()
    answers: list[int] = []
    worker = threading.Thread(
        target=lambda: answers.append(httpx.post(f"{server.url}/ofd/v1/receipt", json={}, timeout=5).status_code)
    )
    worker.start()
    wait_for(lambda: server.get_held_count() == 1)
    server.stop()
    worker.join(5)
    assert not worker.is_alive()
    assert answers == [200]


@pytest.mark.parametrize("loop", ["asyncio", "uvloop"])
def test_accepted_connections_do_not_wait_for_delayed_acks(
    client: httpx.Client, monkeypatch: pytest.MonkeyPatch, loop: str
) -> None:
    """Every accepted connection has TCP_NODELAY, on either event loop, so keep-alive answers are not held back by
    delayed ACKs (plain asyncio sets it only on sockets made with ``IPPROTO_TCP``)."""
    if loop == "asyncio":
        monkeypatch.setattr(server_module, "_loop_factory", lambda: None)
    else:
        pytest.importorskip("uvloop")

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        transport = scope["state"][TRANSPORT_KEY]
        nodelay = transport.get_extra_info("socket").getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY)
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": str(nodelay).encode()})

    server = BackgroundServer(app, port=0)
    server.start()
    try:
        answers = [client.get(server.url).text for _ in range(3)]  # three requests on one keep-alive connection
        assert "0" not in answers
    finally:
        server.stop()


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
