"""The OFD client classifies each answer once (accepted, retryable or permanent), proven over a loopback server."""

from __future__ import annotations

import asyncio
import json
import ssl
import subprocess
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from pydantic import SecretStr

from kkt_adapter.delivery.ofd_client import Accepted, OFDClient, Permanent, Retryable, SendOutcome
from kkt_emulators.ofd import MockOFDServer

pytestmark = pytest.mark.anyio

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@asynccontextmanager
async def serving(handler: Handler, *, tls: ssl.SSLContext | None = None) -> AsyncIterator[str]:
    """An aiohttp server on 127.0.0.1 that answers every path with ``handler``; yields its base URL."""
    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", handler)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0, ssl_context=tls)
    await site.start()
    port = runner.addresses[0][1]
    try:
        yield f"{'https' if tls else 'http'}://127.0.0.1:{port}"
    finally:
        await runner.cleanup()


async def send(client: OFDClient, key: str = "r-1") -> SendOutcome:
    return await client.send(receipt_id=key, pos_id="POS-1", document={"1040": 5}, key=key)


async def send_once(base_url: str, **kwargs: Any) -> SendOutcome:
    client = OFDClient(base_url, **kwargs)
    try:
        return await send(client)
    finally:
        await client.aclose()


async def test_request_shape_key_and_token() -> None:
    """The document goes to the receipt path with receipt_id, pos_id, a stable Idempotency-Key and the token."""
    seen: list[tuple[str, dict[str, str], bytes]] = []
    answer = {"status": "accepted", "ofd_id": "OFD-000001", "timestamp": "2025-11-30T09:00:00+00:00"}

    async def handler(request: web.Request) -> web.Response:
        seen.append((request.path, dict(request.headers), await request.read()))
        return web.json_response(answer)

    async with serving(handler) as url:
        outcome = await send_once(url + "/", token=SecretStr("s3cret"))
    assert outcome == Accepted("OFD-000001", "2025-11-30T09:00:00+00:00", 1764493200000)
    ((path, headers, body),) = seen
    assert path == "/ofd/v1/receipt"
    assert headers["Idempotency-Key"] == "r-1"
    assert headers["Authorization"] == "Bearer s3cret"
    assert headers["Content-Type"] == "application/json"
    assert json.loads(body) == {"receipt_id": "r-1", "pos_id": "POS-1", "fiscal_document": {"1040": 5}}


async def test_user_info_in_the_url_is_basic_auth_and_a_path_prefix_is_kept() -> None:
    """``http://user:pass@host/prefix`` posts to ``/prefix/ofd/v1/receipt`` with Basic auth, no user info in Host."""
    seen: list[tuple[str, dict[str, str]]] = []

    async def handler(request: web.Request) -> web.Response:
        seen.append((request.path, dict(request.headers)))
        return web.json_response({"status": "accepted", "ofd_id": "OFD-1"})

    async with serving(handler) as url:
        outcome = await send_once(url.replace("://", "://ofd%20user:p%40ss@") + "/gateway/")
    assert isinstance(outcome, Accepted)
    ((path, headers),) = seen
    assert path == "/gateway/ofd/v1/receipt"
    assert headers["Authorization"] == "Basic b2ZkIHVzZXI6cEBzcw=="  # base64 of "ofd user:p@ss"
    assert "@" not in headers["Host"]


@pytest.mark.parametrize("url", ["ftp://ofd.example", "ofd.example:8080", "http://"])
def test_a_url_that_is_not_http_is_refused(url: str) -> None:
    """The client is built only for an http(s) URL with a host: anything else is a clear error."""
    with pytest.raises(ValueError, match="http"):
        OFDClient(url)


@pytest.mark.parametrize(
    ("status", "body", "headers", "expected"),
    [
        (200, {"status": "accepted", "ofd_id": "OFD-7", "duplicate": True}, {}, Accepted("OFD-7", None, None, True)),
        (
            200,
            {"status": "accepted", "ofd_id": "OFD-8", "server_time": 1764493200},
            {},
            Accepted("OFD-8", None, 1764493200000),
        ),
        (201, {"ofd_id": "OFD-10", "server_time": 1764493200123}, {}, Accepted("OFD-10", None, 1764493200123)),
        (409, {"ofd_id": "OFD-9"}, {}, Accepted("OFD-9", None, None, True)),
        (409, {"error": "key reused"}, {}, Permanent("HTTP 409: key reused", 409)),
        (503, {"error": "OFD unavailable"}, {"Retry-After": "3"}, Retryable("HTTP 503: OFD unavailable", 3.0)),
        (500, {"error": "boom"}, {}, Retryable("HTTP 500: boom")),
        (502, b"<html>bad gateway</html>", {}, Retryable("HTTP 502: <html>bad gateway</html>")),
        (429, {"error": "slow down"}, {"Retry-After": "7"}, Retryable("HTTP 429: slow down", 7.0)),
        (429, {"error": "later"}, {"Retry-After": "inf"}, Retryable("HTTP 429: later")),
        (429, {"error": "later"}, {"Retry-After": "Wed, 21 Oct 2026 07:28:00 GMT"}, Retryable("HTTP 429: later")),
        (401, {"error": "bad token"}, {}, Retryable("HTTP 401: bad token")),
        (403, {"message": "forbidden"}, {}, Retryable("HTTP 403: forbidden")),
        (408, {"error": "timeout"}, {}, Retryable("HTTP 408: timeout")),
        (422, {"error": "sum mismatch", "code": "OFD-102"}, {}, Permanent("HTTP 422: OFD-102: sum mismatch", 422)),
        (400, {"error": "bad"}, {}, Permanent("HTTP 400: bad", 400)),
        (404, b"no such route", {}, Permanent("HTTP 404: no such route", 404)),
        (200, {"status": "queued"}, {}, Retryable("HTTP 200 without an acknowledgement")),
        (200, b"not json", {}, Retryable("HTTP 200 without an acknowledgement")),
        (200, b'{"status": "accepted", "ofd_id": "OFD-6", "server_time": 1e400}', {}, Accepted("OFD-6", None, None)),
        (
            200,
            {"status": "accepted", "ofd_id": "OFD-6", "timestamp": "9999-99-99"},
            {},
            Accepted("OFD-6", "9999-99-99", None),
        ),
    ],
)
async def test_answers_are_classified(status: int, body: Any, headers: dict[str, str], expected: SendOutcome) -> None:
    """Each kind of answer falls in its class; 401/403 are retried, not dead-lettered."""
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()  # bytes: what Python's encoder won't write

    async def handler(request: web.Request) -> web.Response:
        return web.Response(status=status, body=raw, headers=headers, content_type="application/json")

    async with serving(handler) as url:
        assert await send_once(url) == expected


async def test_a_resend_of_the_same_key_is_a_duplicate_at_the_mock_ofd() -> None:
    """Against the mock OFD: the first send is accepted, the same key again is a duplicate with the same ofd_id."""
    with MockOFDServer(port=0) as ofd:
        client = OFDClient(ofd.url)
        try:
            first, again = await send(client, "k-1"), await send(client, "k-1")
        finally:
            await client.aclose()
        stats = ofd.core.stats()
    assert isinstance(first, Accepted) and not first.duplicate
    assert isinstance(again, Accepted) and again.duplicate and again.ofd_id == first.ofd_id
    assert (stats["unique_documents"], stats["duplicates"]) == (1, 1)


async def test_a_lost_reply_is_resent_at_once_and_answered_as_a_duplicate() -> None:
    """The mock OFD stores the document and drops the connection: the client resends the key and gets a duplicate."""
    with MockOFDServer(port=0) as ofd:
        ofd.faults.set_lose_reply(1, mode="drop")
        outcome = await send_once(ofd.url, connect_retries=1)
        stats = ofd.core.stats()
    assert isinstance(outcome, Accepted) and outcome.duplicate
    assert (stats["unique_documents"], stats["duplicates"], stats["lost_replies"]) == (1, 1, 1)


async def test_a_lost_reply_without_resends_is_retryable() -> None:
    """With no resend allowed, a dropped connection is a retryable connection error (the worker retries later)."""
    with MockOFDServer(port=0) as ofd:
        ofd.faults.set_lose_reply(1, mode="drop")
        outcome = await send_once(ofd.url, connect_retries=0)
    assert isinstance(outcome, Retryable) and "connection error" in outcome.reason


async def test_no_more_connections_than_the_limit() -> None:
    """Five sends at once over a limit of two: two reach the server, the rest wait for a free connection."""
    inside = 0
    most = 0
    gate = asyncio.Event()

    async def handler(request: web.Request) -> web.Response:
        nonlocal inside, most
        inside += 1
        most = max(most, inside)
        await gate.wait()
        inside -= 1
        return web.json_response({"status": "accepted", "ofd_id": request.headers["Idempotency-Key"]})

    async with serving(handler) as url:
        client = OFDClient(url, max_connections=2)
        try:
            sends = [asyncio.ensure_future(send(client, f"k-{n}")) for n in range(5)]
            for _ in range(200):  # up to about 2 s for the first two to arrive
                if inside == 2:
                    break
                await asyncio.sleep(0.01)
            await asyncio.sleep(0.05)  # a third one would have arrived by now
            assert inside == 2
            gate.set()
            outcomes = await asyncio.gather(*sends)
        finally:
            await client.aclose()
    assert most == 2
    assert [outcome.ofd_id for outcome in outcomes if isinstance(outcome, Accepted)] == [f"k-{n}" for n in range(5)]


@pytest.fixture(scope="module")
def self_signed(tmp_path_factory: pytest.TempPathFactory) -> ssl.SSLContext:
    """A server TLS context with a self-signed certificate for 127.0.0.1, made with the openssl command (which
    ``make test`` installs when it is missing)."""
    folder: Path = tmp_path_factory.mktemp("tls")
    key, cert = folder / "key.pem", folder / "cert.pem"
    subprocess.run(
        [
            *("openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"),
            *("-keyout", str(key), "-out", str(cert), "-days", "1", "-subj", "/CN=127.0.0.1"),
            *("-addext", "subjectAltName=IP:127.0.0.1"),
        ],
        check=True,
        capture_output=True,
    )
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    return context


async def test_https_speaks_tls_and_refuses_an_untrusted_certificate(self_signed: ssl.SSLContext) -> None:
    """An https OFD is reached over TLS and its certificate is verified: a self-signed one is a retryable error."""
    reached: list[str] = []

    async def handler(request: web.Request) -> web.Response:
        reached.append(request.path)
        return web.json_response({"status": "accepted", "ofd_id": "OFD-1"})

    async with serving(handler, tls=self_signed) as url:
        outcome = await send_once(url)
    assert isinstance(outcome, Retryable) and "certificate" in outcome.reason.lower()
    assert reached == []


def test_token_never_in_repr() -> None:
    """The token is a secret: the settings' repr does not show it."""
    from kkt_adapter.config import load_settings

    settings = load_settings({"KKT_OFD_API_TOKEN": "s3cret"})
    assert "s3cret" not in repr(settings)
    assert "s3cret" not in str(settings.model_dump())
