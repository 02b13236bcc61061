"""The OFD client on raw loopback sockets: kept-alive reuse, stale and dropped connections, chunked, timeouts."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

import pytest

from kkt_adapter.delivery.ofd_client import Accepted, OFDClient, Retryable, SendOutcome

pytestmark = pytest.mark.anyio

ACK = json.dumps({"status": "accepted", "ofd_id": "OFD-1", "timestamp": "2025-11-30T12:00:00.000Z"}).encode()
DOCUMENT = {"1040": 1, "1041": "9999078900001234", "1020": 100, "1077": 1}

#: ``answer(n, request)``: the bytes of the n-th answer on a connection; ``None``: say nothing; ``b""``: hang up.
Answer = Callable[[int, bytes], bytes | None]


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@dataclass
class Seen:
    """What the server saw: every request, the connections opened, the connections the client closed."""

    requests: list[bytes] = field(default_factory=list)
    connections: int = 0
    closed_by_client: int = 0


@asynccontextmanager
async def server(answer: Answer, *, close_after: int | None = None) -> AsyncIterator[tuple[str, Seen]]:
    """A loopback HTTP/1.1 server written on asyncio streams; ``close_after`` hangs up after that many answers."""
    seen = Seen()

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        seen.connections += 1
        count = 0
        try:
            while True:
                try:
                    head = await reader.readuntil(b"\r\n\r\n")
                except asyncio.IncompleteReadError:
                    seen.closed_by_client += 1
                    return
                length = next(
                    int(line.split(b":", 1)[1])
                    for line in head.split(b"\r\n")
                    if line.lower().startswith(b"content-length")
                )
                request = head + await reader.readexactly(length)
                seen.requests.append(request)
                count += 1
                reply = answer(count, request)
                if reply is None:
                    await reader.read()  # never answer: hold the connection until the client gives up on it
                    return
                if not reply:
                    return  # hang up without a word
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


def keys(seen: Seen) -> list[str]:
    """The Idempotency-Key of each request the server saw, in order."""
    found = []
    for request in seen.requests:
        for line in request.partition(b"\r\n\r\n")[0].split(b"\r\n"):
            name, _, value = line.partition(b":")
            if name.lower() == b"idempotency-key":
                found.append(value.strip().decode())
    return found


async def send(client: OFDClient, key: str = "r-1") -> SendOutcome:
    return await client.send(receipt_id=key, pos_id="POS-1", document=DOCUMENT, key=key)


@asynccontextmanager
async def open_client(url: str, *, limit_s: float = 10.0, connect_retries: int = 1) -> AsyncIterator[OFDClient]:
    """An :class:`OFDClient` of ``url``, closed afterwards."""
    client = OFDClient(url, timeout=limit_s, connect_retries=connect_retries)
    try:
        yield client
    finally:
        await client.aclose()


async def eventually(predicate: Callable[[], bool]) -> None:
    """Poll ``predicate`` on the loop for up to 2 s."""
    for _ in range(200):
        if predicate():
            return
        await asyncio.sleep(0.01)
    raise AssertionError("condition not reached within 2 s")


async def test_sends_reuse_one_kept_alive_connection_and_aclose_closes_it() -> None:
    """Three sends go over one connection; ``aclose`` closes it (the server sees the client hang up)."""
    async with server(lambda n, request: ok()) as (url, seen):
        client = OFDClient(url)
        try:
            for key in ("k-1", "k-2", "k-3"):
                assert isinstance(await send(client, key), Accepted)
        finally:
            await client.aclose()
        await eventually(lambda: seen.closed_by_client == 1)
    assert seen.connections == 1 and keys(seen) == ["k-1", "k-2", "k-3"]
    assert json.loads(seen.requests[1].partition(b"\r\n\r\n")[2]) == {
        "receipt_id": "k-2",
        "pos_id": "POS-1",
        "fiscal_document": DOCUMENT,
    }


async def test_a_chunked_answer_is_read_whole() -> None:
    """A chunked body is joined before it is classified."""
    half = len(ACK) // 2
    chunked = (
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
        + b"%x\r\n%s\r\n" % (half, ACK[:half])
        + b"%x\r\n%s\r\n" % (len(ACK) - half, ACK[half:])
        + b"0\r\n\r\n"
    )
    async with (
        server(lambda n, request: chunked) as (url, _),
        open_client(url) as client,
    ):
        outcome = await send(client)
    assert isinstance(outcome, Accepted) and outcome.ofd_id == "OFD-1"


async def test_no_answer_in_time_is_a_retry_with_the_outcome_unknown() -> None:
    """A server that never answers: a retryable timeout, 'outcome unknown', and no resend by the client itself."""
    async with (
        server(lambda n, request: None) as (url, seen),
        open_client(url, limit_s=0.2, connect_retries=1) as client,
    ):
        outcome = await send(client)
    assert isinstance(outcome, Retryable) and "outcome unknown" in outcome.reason
    assert keys(seen) == ["r-1"]


async def test_a_refused_connection_is_a_retry() -> None:
    """Nobody listening: a retryable connection error."""
    async with server(lambda n, request: ok()) as (url, _):
        pass  # closed: the port refuses now
    async with open_client(url, limit_s=1) as client:
        outcome = await send(client)
    assert isinstance(outcome, Retryable) and "connection error" in outcome.reason


async def test_a_pooled_connection_the_server_closed_is_not_reused() -> None:
    """The server hangs up after each answer: the next send goes over a new connection, once."""
    async with (
        server(lambda n, request: ok(), close_after=1) as (url, seen),
        open_client(url, connect_retries=1) as client,
    ):
        assert isinstance(await send(client, "k-1"), Accepted)
        assert isinstance(await send(client, "k-2"), Accepted)
    assert keys(seen) == ["k-1", "k-2"] and seen.connections == 2


async def test_a_connection_dropped_under_the_request_is_resent_once_with_the_same_key() -> None:
    """The kept-alive connection is dropped instead of the second answer: resent at once on a new one, same key."""
    async with (
        server(lambda n, request: ok() if n == 1 else b"") as (url, seen),
        open_client(url, connect_retries=1) as client,
    ):
        assert isinstance(await send(client, "k-1"), Accepted)
        assert isinstance(await send(client, "k-2"), Accepted)
    assert keys(seen) == ["k-1", "k-2", "k-2"] and seen.connections == 2


async def test_a_connection_dropped_again_after_the_resend_is_a_retry() -> None:
    """Every request is met by a hang-up: one resend, then a retryable connection error (no endless loop)."""
    async with (
        server(lambda n, request: b"") as (url, seen),
        open_client(url, connect_retries=1) as client,
    ):
        outcome = await send(client, "k-1")
    assert isinstance(outcome, Retryable) and "connection error" in outcome.reason
    assert keys(seen) == ["k-1", "k-1"]


async def test_connection_close_is_honoured() -> None:
    """An answer with Connection: close is read whole and its connection is not reused."""
    async with (
        server(lambda n, request: ok(extra=b"Connection: close\r\n"), close_after=1) as (url, seen),
        open_client(url, connect_retries=0) as client,
    ):
        assert isinstance(await send(client, "k-1"), Accepted)
        assert isinstance(await send(client, "k-2"), Accepted)
    assert keys(seen) == ["k-1", "k-2"] and seen.connections == 2


async def test_an_answer_without_a_length_ends_when_the_server_closes() -> None:
    """An HTTP/1.0-style answer with no length is read to the end of the connection."""
    reply = b"HTTP/1.0 200 OK\r\nContent-Type: application/json\r\n\r\n" + ACK
    async with (
        server(lambda n, request: reply, close_after=1) as (url, _),
        open_client(url) as client,
    ):
        outcome = await send(client)
    assert isinstance(outcome, Accepted) and outcome.ofd_id == "OFD-1"
