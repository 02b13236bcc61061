"""A small HTTP/1.1 keep-alive client for one origin, on asyncio streams: what the OFD client needs, and no more.

httpx spent most of the sync worker's time per request (its request and response models, httpcore's pool, anyio's
streams). This client writes a ``POST`` with a ``Content-Length`` body on a pooled connection and reads a response
with a ``Content-Length`` or a chunked body; the answer is handed back as an :class:`httpx.Response`, and failures
are raised as httpx's exceptions (a timeout as :class:`httpx.TimeoutException`, a refused or broken connection as
:class:`httpx.TransportError`), so the OFD client classifies both paths with the same code. A connection is reused
only after a complete exchange the server did not ask to close; after any failure it is closed.
"""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import Mapping
from urllib.parse import urlsplit

import httpx

#: The longest status line plus headers accepted from the server.
MAX_HEAD_BYTES = 64 * 1024


class KeepAliveClient:
    """POSTs to ``base_url`` (``http`` or ``https``) over at most ``max_connections`` kept-alive connections."""

    def __init__(self, base_url: str, *, headers: Mapping[str, str], timeout: float, max_connections: int = 16) -> None:
        parts = urlsplit(base_url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"not an http(s) URL: {base_url!r}")
        self._tls = parts.scheme == "https"
        self._host = parts.hostname
        self._port = parts.port or (443 if self._tls else 80)
        self._prefix = parts.path.rstrip("/")
        self._base_url = base_url.rstrip("/")
        authority = parts.netloc.rsplit("@", 1)[-1]
        self._head = "".join(f"{name}: {value}\r\n" for name, value in {"Host": authority, **headers}.items())
        self._timeout = timeout
        self._slots = asyncio.Semaphore(max_connections)
        self._idle: list[tuple[asyncio.StreamReader, asyncio.StreamWriter]] = []
        self._requests: dict[str, httpx.Request] = {}
        self._ssl: ssl.SSLContext | None = ssl.create_default_context() if self._tls else None

    async def post(self, path: str, content: bytes, headers: Mapping[str, str]) -> httpx.Response:
        """Send one ``POST`` and return the complete answer; httpx's exceptions on timeouts and broken connections."""
        extra = "".join(f"{name}: {value}\r\n" for name, value in headers.items())
        head = (
            f"POST {self._prefix}{path} HTTP/1.1\r\n{self._head}{extra}"
            f"Content-Type: application/json\r\nContent-Length: {len(content)}\r\n\r\n"
        ).encode("latin-1")
        async with self._slots:
            connection = self._idle.pop() if self._idle else None
            try:
                async with asyncio.timeout(self._timeout):
                    if connection is None:
                        connection = await self._connect()
                    reader, writer = connection
                    writer.write(head + content)
                    if writer.transport.get_write_buffer_size() > 65536:
                        await writer.drain()
                    status, response_headers, body, keep = await _read_response(reader)
            except TimeoutError as exc:
                _close(connection)
                raise httpx.ReadTimeout(f"no complete answer within {self._timeout} s") from exc
            except (OSError, EOFError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, ValueError) as exc:
                _close(connection)
                raise httpx.RemoteProtocolError(f"{type(exc).__name__}: {exc}") from exc
            except BaseException:  # cancelled mid-exchange: the connection's state is unknown
                _close(connection)
                raise
            if keep:
                self._idle.append(connection)
            else:
                _close(connection)
        request = self._requests.get(path)
        if request is None:  # one per path, shared by its answers: building it parses the URL each time
            request = self._requests[path] = httpx.Request("POST", f"{self._base_url}{path}")
        return httpx.Response(status, headers=response_headers, content=body, request=request)

    async def _connect(self) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        try:
            return await asyncio.open_connection(
                self._host, self._port, ssl=self._ssl, server_hostname=self._host if self._tls else None
            )
        except OSError as exc:
            raise httpx.ConnectError(f"cannot connect to {self._host}:{self._port}: {exc}") from exc

    async def aclose(self) -> None:
        """Close the idle connections."""
        idle, self._idle = self._idle, []
        for connection in idle:
            _close(connection)


async def _read_response(reader: asyncio.StreamReader) -> tuple[int, list[tuple[str, str]], bytes, bool]:
    """Status, headers, body, and whether the connection may be reused."""
    raw = await reader.readuntil(b"\r\n\r\n")
    if len(raw) > MAX_HEAD_BYTES:
        raise ValueError("the answer's head is too large")
    lines = raw.decode("latin-1").split("\r\n")
    version, _, rest = lines[0].partition(" ")
    status = int(rest[:3])
    headers: list[tuple[str, str]] = []
    length: int | None = None
    chunked = False
    keep = version == "HTTP/1.1"
    for line in lines[1:]:
        if not line:
            continue
        name, _, value = line.partition(":")
        value = value.strip()
        headers.append((name, value))
        lowered = name.lower()
        if lowered == "content-length":
            length = int(value)
        elif lowered == "transfer-encoding":
            chunked = "chunked" in value.lower()
        elif lowered == "connection":
            keep = value.lower() == "keep-alive" if version != "HTTP/1.1" else value.lower() != "close"
    if chunked:
        body = await _read_chunked(reader)
        headers = [(name, value) for name, value in headers if name.lower() != "transfer-encoding"]
    elif length is not None:
        body = await reader.readexactly(length)
    elif status in (204, 304) or 100 <= status < 200:
        body = b""
    else:
        body, keep = await reader.read(), False  # the body ends when the server closes
    return status, headers, body, keep


async def _read_chunked(reader: asyncio.StreamReader) -> bytes:
    parts: list[bytes] = []
    while True:
        size = int((await reader.readuntil(b"\r\n")).split(b";", 1)[0].strip(), 16)
        if size == 0:
            while (await reader.readuntil(b"\r\n")) != b"\r\n":  # trailers, up to the empty line
                pass
            return b"".join(parts)
        parts.append(await reader.readexactly(size))
        await reader.readexactly(2)


def _close(connection: tuple[asyncio.StreamReader, asyncio.StreamWriter] | None) -> None:
    if connection is not None:
        connection[1].close()
