"""The API's limits: the request body and headers, in process through the ASGI app and on a real
``kkt-adapter serve`` process (a streamed body, header size, keep-alive, connections)."""

from __future__ import annotations

import json
import select
import socket
from collections.abc import Iterator, MutableMapping
from pathlib import Path
from typing import Any

import pytest

from kkt_adapter.api.middleware import BodyLimit
from kkt_adapter.testing import AdapterProcess, FakeDriver, wait_for

from .support import JSON, SALE, make_client, post_raw

# --- the request body limit ----------------------------------------------------------------------------------------


def test_body_over_the_declared_limit_is_413_json(tmp_path: Path, driver: FakeDriver) -> None:
    """A Content-Length over KKT_MAX_BODY_BYTES is answered 413 with a JSON error, and nothing is printed."""
    with make_client(tmp_path, driver, max_body_bytes="2000") as client:
        body = json.dumps(SALE | {"pos_id": "P" * 10}).encode() + b" " * 2000
        response = post_raw(client, body)
    assert response.status_code == 413
    assert response.json()["error"] == "body_too_large"
    assert "KKT_MAX_BODY_BYTES" in response.json()["detail"]
    assert driver.printed == []


def test_chunked_body_over_the_limit_is_413(tmp_path: Path, driver: FakeDriver) -> None:
    """A body without Content-Length (chunked) is counted as it comes: 413 and ``Connection: close``."""

    def chunks() -> Iterator[bytes]:
        for _ in range(10):
            yield b" " * 500

    with make_client(tmp_path, driver, max_body_bytes="2000") as client:
        response = client.post("/v1/kkt/receipt", content=chunks(), headers=JSON | {"Idempotency-Key": "k"})
    assert response.status_code == 413
    assert response.headers["connection"] == "close"
    assert driver.printed == []


def test_body_within_the_limit_is_served(tmp_path: Path, driver: FakeDriver) -> None:
    """A sale smaller than the limit prints as usual."""
    with make_client(tmp_path, driver, max_body_bytes="2000") as client:
        response = client.post("/v1/kkt/receipt", json=SALE, headers={"Idempotency-Key": "k1"})
    assert response.status_code == 200


@pytest.mark.anyio
async def test_body_limit_stops_reading_at_the_chunk_past_the_limit() -> None:
    """The middleware alone: it pulls no chunk after the one that passes the limit, answers 413 at once and drops the
    app's own answer to the failed read."""
    pulled: list[int] = []
    sent: list[MutableMapping[str, Any]] = []

    async def receive() -> dict[str, Any]:
        pulled.append(1)
        return {"type": "http.request", "body": b"x" * 100, "more_body": True}  # an endless body

    async def send(message: MutableMapping[str, Any]) -> None:
        sent.append(message)

    async def app(scope: Any, receive: Any, send: Any) -> None:
        try:
            while (await receive())["more_body"]:
                pass
        except Exception:
            await send({"type": "http.response.start", "status": 400, "headers": []})
            await send({"type": "http.response.body", "body": b"parse error"})

    scope = {"type": "http", "method": "POST", "path": "/", "headers": []}
    await BodyLimit(app, max_bytes=1000)(scope, receive, send)
    assert len(pulled) == 11  # 1,100 bytes: the eleventh chunk passes 1,000
    assert [message.get("status") for message in sent if message["type"] == "http.response.start"] == [413]
    assert b"parse error" not in b"".join(message.get("body", b"") for message in sent)


def test_headers_over_the_limit_are_431(tmp_path: Path, driver: FakeDriver) -> None:
    """Request headers larger than KKT_MAX_HEADER_BYTES are answered 431 with a JSON error."""
    with make_client(tmp_path, driver, max_header_bytes="4096") as client:
        assert client.get("/v1/health", headers={"X-Padding": "a" * 3000}).status_code == 200
        response = client.get("/v1/health", headers={"X-Padding": "a" * 5000})
    assert response.status_code == 431
    assert response.json()["error"] == "headers_too_large"


# --- a real server: streaming body, header size, keep-alive, connections --------------------------------------------


def _response_head(sock: socket.socket, *, timeout: float = 10.0) -> bytes:
    sock.settimeout(timeout)
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        if not chunk:
            break
        data += chunk
    return data


@pytest.mark.slow
def test_a_real_server_stops_a_streamed_body_at_the_limit(tmp_path: Path) -> None:
    """A chunked 100 MiB upload to a real adapter is answered 413 long before it is all sent, and the server closes
    the connection instead of reading the rest."""
    limit = 65_536
    with AdapterProcess(tmp_path, env={"KKT_MAX_BODY_BYTES": str(limit)}) as adapter:
        sock = socket.create_connection(("127.0.0.1", adapter.port))
        sock.sendall(
            b"POST /v1/kkt/receipt HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
            b"Idempotency-Key: big\r\nTransfer-Encoding: chunked\r\n\r\n"
        )
        chunk = b"10000\r\n" + b" " * 65_536 + b"\r\n"
        sent = 0
        answered = False
        try:
            while sent < 100 * 1024 * 1024:
                readable, _, _ = select.select([sock], [], [], 0)
                if readable:
                    answered = True
                    break
                sock.sendall(chunk)
                sent += 65_536
        except (BrokenPipeError, ConnectionResetError):
            pass
        head = _response_head(sock)
        sock.close()
        assert head.startswith(b"HTTP/1.1 413"), head[:200]
        assert b"connection: close" in head.lower()
        assert answered or sent < 100 * 1024 * 1024
        assert sent < 40 * 1024 * 1024, "the server kept reading far past the limit"


@pytest.mark.slow
def test_a_real_server_limits_headers_keep_alive_and_connections(tmp_path: Path) -> None:
    """KKT_MAX_HEADER_BYTES refuses a larger head (431 when complete, 400 from uvicorn while it still arrives),
    KKT_KEEP_ALIVE_TIMEOUT closes an idle kept-alive connection, KKT_MAX_CONNECTIONS answers 503 once that many
    connections have sent a request and are kept open (silent ones do not count: they are the slow clients')."""
    env = {"KKT_MAX_HEADER_BYTES": "4096", "KKT_KEEP_ALIVE_TIMEOUT": "3", "KKT_MAX_CONNECTIONS": "4"}
    with AdapterProcess(tmp_path, env=env) as adapter:
        request = b"GET /v1/health HTTP/1.1\r\nHost: 127.0.0.1\r\n"

        with socket.create_connection(("127.0.0.1", adapter.port)) as sock:
            sock.sendall(request + b"X-Padding: " + b"a" * 8_000 + b"\r\n\r\n")  # complete, in one read
            head = _response_head(sock)
        assert head.startswith(b"HTTP/1.1 431"), head[:200]

        with socket.create_connection(("127.0.0.1", adapter.port)) as sock:
            sock.sendall(request + b"X-Padding: " + b"a" * 8_000)  # still arriving: uvicorn stops buffering it
            head = _response_head(sock)
        assert head.startswith(b"HTTP/1.1 400"), head[:200]

        with socket.create_connection(("127.0.0.1", adapter.port)) as sock:
            sock.sendall(request + b"\r\n")
            assert _response_head(sock).startswith(b"HTTP/1.1 ")
            sock.settimeout(10)
            rest = b""
            while chunk := sock.recv(65536):  # b"" once the server closes the idle connection
                rest += chunk

        silent = [socket.create_connection(("127.0.0.1", adapter.port)) for _ in range(4)]
        try:
            with socket.create_connection(("127.0.0.1", adapter.port)) as sock:
                sock.sendall(request + b"Connection: close\r\n\r\n")
                assert _response_head(sock).startswith(b"HTTP/1.1 200")
        finally:
            for sock in silent:
                sock.close()

        # Three kept-alive connections and the next request's own make four: the limit.
        idle = [socket.create_connection(("127.0.0.1", adapter.port)) for _ in range(3)]
        try:
            for sock in idle:
                sock.sendall(request + b"\r\n")  # a request answered, then kept alive
                assert _response_head(sock).startswith(b"HTTP/1.1 200")

            def refused() -> bool:
                with socket.create_connection(("127.0.0.1", adapter.port)) as sock:
                    sock.sendall(request + b"Connection: close\r\n\r\n")
                    return _response_head(sock).startswith(b"HTTP/1.1 503")

            wait_for(refused, timeout=2, what="503 with three kept-alive connections and a fourth")
        finally:
            for sock in idle:
                sock.close()

        def served() -> bool:
            with socket.create_connection(("127.0.0.1", adapter.port)) as sock:
                sock.sendall(request + b"Connection: close\r\n\r\n")
                return not _response_head(sock).startswith(b"HTTP/1.1 503")

        wait_for(served, timeout=10, what="requests served again once the idle connections closed")
