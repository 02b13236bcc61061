"""Serve the adapter under uvicorn (``kkt-adapter serve``); SIGINT and SIGTERM stop it cleanly.

uvicorn enforces the connection-level limits (``docs/configuration.md``, "API security and limits"): the size of a
request's head, the keep-alive timeout and the number of connections. The HTTP/1.1 implementation is uvicorn's
``httptools`` one (a C parser: the pure-Python ``h11`` cost a fifth of the receipt path's CPU), bounded here as
``h11`` was: a request head still arriving past ``KKT_MAX_HEADER_BYTES`` is answered 400 and the connection closed,
so a head that never ends cannot grow the server's memory. A complete head over the limit gets 431 from the ASGI
middleware. The body limit, the token and the Host check are ASGI middleware (``kkt_adapter.api.middleware``).
"""

from __future__ import annotations

import asyncio
import logging
import sys

import uvicorn

from kkt_adapter.api.app import create_app
from kkt_adapter.buffer.connection import StorageError
from kkt_adapter.buffer.integrity import open_check
from kkt_adapter.config import ApiSettings, Settings
from kkt_adapter.logs import configure_logging

log = logging.getLogger(__name__)

#: The exit status of a start refused because of the buffer file (uvicorn's own for a failed start).
EXIT_STORAGE = 3


def bounded_http(max_head_bytes: int) -> type[asyncio.Protocol]:
    """uvicorn's httptools protocol, answering 400 (and closing) once a head still arriving passes the limit."""
    from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

    class BoundedHeadProtocol(HttpToolsProtocol):
        """Counts the bytes read while a request head is incomplete; the body is not counted."""

        _head_bytes = 0
        _in_head = True

        def data_received(self, data: bytes) -> None:
            if self._in_head:
                self._head_bytes += len(data)
            super().data_received(data)
            if self._in_head and self._head_bytes > max_head_bytes and not self.transport.is_closing():
                self.send_400_response("Request head too large.")

        def on_headers_complete(self) -> None:
            self._in_head = False
            super().on_headers_complete()

        def on_message_complete(self) -> None:
            super().on_message_complete()
            self._in_head, self._head_bytes = True, 0

    return BoundedHeadProtocol


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


def run(settings: Settings) -> None:
    """Run the adapter until interrupted; a buffer file that cannot be used stops the start with one clear line."""
    configure_logging(settings)
    try:
        # Before uvicorn: a failed lifespan would print a traceback where an operator needs the remedy.
        open_check(settings.buffer_path)
    except StorageError as exc:
        print(f"kkt-adapter: cannot start: {exc}", file=sys.stderr)
        raise SystemExit(EXIT_STORAGE) from None
    warn_if_unauthenticated(settings)
    app = create_app(settings)
    api = ApiSettings.of(settings)
    uvicorn.run(
        app,
        host=api.host,
        port=api.port,
        log_config=None,
        access_log=False,
        timeout_graceful_shutdown=10,
        http=bounded_http(api.max_header_bytes),
        timeout_keep_alive=api.keep_alive_timeout,
        limit_concurrency=api.max_connections,
    )
