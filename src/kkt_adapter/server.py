"""Serve the adapter under uvicorn (``kkt-adapter serve``); SIGINT and SIGTERM stop it cleanly.

uvicorn enforces the connection-level limits (``docs/configuration.md``, "API security and limits"): the size of a
request's head, the keep-alive timeout and the number of connections. The HTTP/1.1 implementation is uvicorn's
``httptools`` one (a C parser: the pure-Python ``h11`` cost a fifth of the receipt path's CPU), bounded here as
``h11`` was: a request head still arriving past ``KKT_MAX_HEADER_BYTES`` is answered 400 and the connection closed,
so a head that never ends cannot grow the server's memory. A complete head over the limit gets 431 from the ASGI
middleware. The body limit, the token and the Host check are ASGI middleware (``kkt_adapter.api.middleware``).

Slow clients cannot take the tills' turn: a connection counts towards ``KKT_MAX_CONNECTIONS`` only once it has sent
a whole request head, and one that sends nothing for ``KKT_FIRST_REQUEST_TIMEOUT`` or takes longer than
``KKT_HEADER_TIMEOUT`` over a head is closed (uvicorn has neither timeout). The port is bound before the application
starts, so a port in use is one line and its own exit status, not a failure after "startup complete".
"""

from __future__ import annotations

import asyncio
import errno
import logging
import socket
import sys
from collections.abc import Sequence

import uvicorn

from kkt_adapter.api.app import create_app
from kkt_adapter.bootstrap.preflight import StartRefused, check_device_fns
from kkt_adapter.buffer.connection import StorageError
from kkt_adapter.buffer.integrity import open_check
from kkt_adapter.config import ApiSettings, Settings
from kkt_adapter.logs import configure_logging

log = logging.getLogger(__name__)

#: The exit status of a start refused because of the buffer file.
EXIT_STORAGE = 3
#: The exit status of a start refused because the API's address cannot be listened on (in use, not this machine's).
EXIT_ADDRESS = 4
#: The exit status of a start that failed in the application itself (its log says why).
EXIT_STARTUP = 5
#: The exit status of a start refused because a device name now reaches another FN while receipts bound to it are
#: undecided (renamed or swapped devices).
EXIT_DEVICE = 6
#: How many connections may wait for their first whole request head, per allowed connection, before new ones are
#: closed at once (each waits at most the timeouts; this bounds the memory a flood of them can take).
WAITING_PER_CONNECTION = 10


def bounded_http(
    max_head_bytes: int,
    *,
    header_timeout: float = 10.0,
    first_request_timeout: float = 10.0,
    max_waiting: int = 1_000,
) -> type[asyncio.Protocol]:
    """uvicorn's httptools protocol, answering 400 (and closing) once a head still arriving passes the limit; a new
    connection is left out of uvicorn's count (``limit_concurrency``) until its first head is whole, and closed if it
    sends nothing within ``first_request_timeout`` or takes longer than ``header_timeout`` over a head."""
    from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

    waiting: set[asyncio.Protocol] = set()

    class BoundedHeadProtocol(HttpToolsProtocol):
        """Counts the bytes read while a request head is incomplete (the body is not counted) and times the head."""

        _head_bytes = 0
        _in_head = True
        _waiting = False
        _head_timer: asyncio.TimerHandle | None = None

        def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
            super().connection_made(transport)
            # Not a till's turn yet: only a whole head makes a connection count towards KKT_MAX_CONNECTIONS.
            self.connections.discard(self)
            if len(waiting) >= max_waiting:
                transport.close()
                return
            waiting.add(self)
            self._waiting = True
            self._time_head(first_request_timeout)

        def connection_lost(self, exc: Exception | None) -> None:
            self._stop_timer()
            waiting.discard(self)
            super().connection_lost(exc)

        def data_received(self, data: bytes) -> None:
            if self._in_head:
                if self._head_bytes == 0 and data:
                    self._time_head(header_timeout)  # a head has begun: it must end in time
                self._head_bytes += len(data)
            super().data_received(data)
            if self._in_head and self._head_bytes > max_head_bytes and not self.transport.is_closing():
                self.send_400_response("Request head too large.")

        def on_headers_complete(self) -> None:
            self._in_head = False
            self._stop_timer()
            if self._waiting:
                self._waiting = False
                waiting.discard(self)
                self.connections.add(self)
            super().on_headers_complete()

        def on_message_complete(self) -> None:
            super().on_message_complete()
            self._in_head, self._head_bytes = True, 0

        def _time_head(self, seconds: float) -> None:
            self._stop_timer()
            self._head_timer = self.loop.call_later(seconds, self._head_too_slow)

        def _stop_timer(self) -> None:
            if self._head_timer is not None:
                self._head_timer.cancel()
                self._head_timer = None

        def _head_too_slow(self) -> None:
            self._head_timer = None
            if self._in_head and not self.transport.is_closing():
                self.transport.close()

    return BoundedHeadProtocol


def listen(host: str, port: int) -> socket.socket:
    """The API's listening socket, bound before anything starts; :class:`SystemExit` with :data:`EXIT_ADDRESS` and
    one line saying why when the address cannot be used."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
        sock.listen(2048)
    except OSError as exc:
        sock.close()
        if exc.errno == errno.EADDRINUSE:
            why = f"{host}:{port} is in use by another program (another kkt-adapter?): stop it, or set KKT_API_PORT"
        elif exc.errno == errno.EADDRNOTAVAIL:
            why = f"{host} is not an address of this machine: check KKT_API_HOST"
        elif exc.errno == errno.EACCES:
            why = f"no permission to listen on {host}:{port} (ports below 1024 need privileges): set KKT_API_PORT"
        else:
            why = f"cannot listen on {host}:{port}: {exc.strerror or exc}"
        print(f"kkt-adapter: cannot start: {why}", file=sys.stderr)
        raise SystemExit(EXIT_ADDRESS) from None
    sock.set_inheritable(True)
    return sock


def warn_if_unauthenticated(settings: Settings) -> None:
    """Log a warning when ``KKT_ALLOW_UNAUTHENTICATED`` lets the API answer without a token."""
    if settings.api_token is None and settings.allow_unauthenticated:
        reach = "this machine only" if settings.api_host_is_loopback else "other machines too"
        log.warning(
            "KKT_ALLOW_UNAUTHENTICATED=true and no KKT_API_TOKEN: the API on %s:%s answers any client without a "
            "token (reachable from %s)",
            settings.api_host,
            settings.api_port,
            reach,
        )


def run(settings: Settings, *, warnings: Sequence[str] = ()) -> None:
    """Run the adapter until interrupted; a buffer file that cannot be used, or an address that cannot be listened on,
    stops the start with one clear line and its own exit status. ``warnings`` are logged once logging is set up."""
    configure_logging(settings)
    for warning in warnings:
        log.warning(warning)
    try:
        # Before uvicorn: a failed lifespan would print a traceback where an operator needs the remedy.
        open_check(settings.buffer_path)
    except StorageError as exc:
        print(f"kkt-adapter: cannot start: {exc}", file=sys.stderr)
        raise SystemExit(EXIT_STORAGE) from None
    try:
        check_device_fns(settings)
    except StartRefused as exc:
        print(f"kkt-adapter: cannot start: {exc}", file=sys.stderr)
        raise SystemExit(EXIT_DEVICE) from None
    api = ApiSettings.of(settings)
    sock = listen(api.host, api.port)
    warn_if_unauthenticated(settings)
    app = create_app(settings)
    config = uvicorn.Config(
        app,
        host=api.host,
        port=api.port,
        log_config=None,
        access_log=False,
        timeout_graceful_shutdown=10,
        http=bounded_http(
            api.max_header_bytes,
            header_timeout=api.header_timeout,
            first_request_timeout=api.first_request_timeout,
            max_waiting=WAITING_PER_CONNECTION * api.max_connections,
        ),
        timeout_keep_alive=api.keep_alive_timeout,
        limit_concurrency=api.max_connections,
    )
    server = uvicorn.Server(config)
    try:
        server.run(sockets=[sock])
    except SystemExit as stop:
        # uvicorn's own code for a failed lifespan is 3, this program's for the buffer file: tell them apart.
        raise SystemExit(EXIT_STARTUP if stop.code == 3 else stop.code) from None
    finally:
        sock.close()
    if not server.started:
        raise SystemExit(EXIT_STARTUP)
