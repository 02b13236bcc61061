"""The OFD client's own HTTP/1.1 client on real loopback sockets: answers, reuse, chunked bodies, timeouts, refusals."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

import pytest

from kkt_adapter.delivery.ofd_client import Accepted, OFDClient, Permanent, Retryable

pytestmark = pytest.mark.anyio

ACK = json.dumps({"status": "accepted", "ofd_id": "OFD-1", "timestamp": "2025-11-30T12:00:00.000Z"}).encode()
DOCUMENT = {"1040": 1, "1041": "9999078900001234", "1020": 100, "1077": 1}

Answer = Callable[[int, bytes], bytes | None]


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@asynccontextmanager
async def server(answer: Answer, *, close_after: int | None = None) -> AsyncIterator[tuple[str, list[bytes]]]:
    """A loopback server: ``answer(n, request)`` gives the bytes of the n-th answer on a connection (``None``: say
    nothing). ``close_after`` closes each connection after that many answers. Yields its URL and the requests seen."""
    seen: list[bytes] = []

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        count = 0
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                length = next(
                    int(line.split(b":", 1)[1])
                    for line in head.split(b"\r\n")
                    if line.lower().startswith(b"content-length")
                )
                request = head + await reader.readexactly(length)
                seen.append(request)
                count += 1
                reply = answer(count, request)
                if reply is None:
                    await asyncio.sleep(10)
                    return
                writer.write(reply)
                await writer.drain()
                if close_after is not None and count >= close_after:
                    return
        except (asyncio.IncompleteReadError, ConnectionError):
            return
        finally:
            writer.close()

    listening = await asyncio.start_server(handle, "127.0.0.1", 0)
    port = listening.sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}", seen
    finally:
        listening.close()


def ok(body: bytes = ACK, *, extra: bytes = b"") -> bytes:
    return b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n%s\r\n%s" % (
        len(body),
        extra,
        body,
    )


async def send(client: OFDClient, key: str = "r-1") -> object:
    return await client.send(receipt_id=key, pos_id="POS-1", document=DOCUMENT, key=key)


async def test_an_acknowledgement_is_accepted_and_the_connection_is_reused() -> None:
    """Two sends over one kept-alive connection; each request carries its key, the JSON body and the token."""
    from pydantic import SecretStr

    async with server(lambda n, request: ok()) as (url, seen):
        client = OFDClient(url, token=SecretStr("t0ken"))
        try:
            assert isinstance(await send(client, "k-1"), Accepted)
            assert isinstance(await send(client, "k-2"), Accepted)
        finally:
            await client.aclose()
    assert len(seen) == 2
    head, _, body = seen[1].partition(b"\r\n\r\n")
    assert b"POST /ofd/v1/receipt HTTP/1.1" in head
    assert b"Idempotency-Key: k-2" in head and b"Authorization: Bearer t0ken" in head
    assert json.loads(body) == {"receipt_id": "k-2", "pos_id": "POS-1", "fiscal_document": DOCUMENT}


async def test_a_chunked_answer_is_read_whole() -> None:
    """A chunked body is joined before it is classified."""
    half = len(ACK) // 2
    chunked = (
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
        + b"%x\r\n%s\r\n" % (half, ACK[:half])
        + b"%x\r\n%s\r\n" % (len(ACK) - half, ACK[half:])
        + b"0\r\n\r\n"
    )
    async with server(lambda n, request: chunked) as (url, _):
        client = OFDClient(url)
        try:
            outcome = await send(client)
        finally:
            await client.aclose()
    assert isinstance(outcome, Accepted) and outcome.ofd_id == "OFD-1"


async def test_a_rejection_is_permanent_with_the_reason() -> None:
    """A 400 with the OFD's error is a permanent rejection naming it."""
    body = json.dumps({"error": "bad document", "code": "invalid"}).encode()
    reply = ok(body).replace(b"200 OK", b"400 Bad Request")
    async with server(lambda n, request: reply) as (url, _):
        client = OFDClient(url)
        try:
            outcome = await send(client)
        finally:
            await client.aclose()
    assert isinstance(outcome, Permanent) and outcome.status_code == 400 and "bad document" in outcome.reason


async def test_no_answer_in_time_is_a_retry_with_the_outcome_unknown() -> None:
    """A server that never answers: a retryable timeout, 'outcome unknown' (the resend carries the same key)."""
    async with server(lambda n, request: None) as (url, _):
        client = OFDClient(url, timeout=0.2)
        try:
            outcome = await send(client)
        finally:
            await client.aclose()
    assert isinstance(outcome, Retryable) and "outcome unknown" in outcome.reason


async def test_a_refused_connection_is_a_retry() -> None:
    """Nobody listening: a retryable connection error."""
    async with server(lambda n, request: ok()) as (url, _):
        pass  # closed: the port refuses now
    client = OFDClient(url, timeout=1)
    try:
        outcome = await send(client)
    finally:
        await client.aclose()
    assert isinstance(outcome, Retryable) and "connection error" in outcome.reason


async def test_a_pooled_connection_the_server_closed_is_resent_once_on_a_new_one() -> None:
    """The server closes each connection after one answer: the next send fails on the stale one and is resent."""
    async with server(lambda n, request: ok(), close_after=1) as (url, seen):
        client = OFDClient(url, connect_retries=1)
        try:
            assert isinstance(await send(client, "k-1"), Accepted)
            assert isinstance(await send(client, "k-2"), Accepted)
        finally:
            await client.aclose()
    assert [request.count(b"Idempotency-Key: k-2") for request in seen] == [0, 1]


async def test_connection_close_is_honoured() -> None:
    """An answer with Connection: close is read whole and its connection is not reused."""
    async with server(lambda n, request: ok(extra=b"Connection: close\r\n"), close_after=1) as (url, seen):
        client = OFDClient(url, connect_retries=0)
        try:
            assert isinstance(await send(client, "k-1"), Accepted)
            assert isinstance(await send(client, "k-2"), Accepted)
        finally:
            await client.aclose()
    assert len(seen) == 2
