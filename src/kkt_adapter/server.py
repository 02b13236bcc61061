"""Serve the adapter under uvicorn (``kkt-adapter serve``); SIGINT and SIGTERM stop it cleanly.

uvicorn enforces the connection-level limits (``docs/configuration.md``, "API security and limits"): the size of a
request's head, the keep-alive timeout and the number of connections. The HTTP/1.1 implementation is ``h11``: the
faster ``httptools`` parser has no limit on the size of the request head, ``h11`` has one
(``h11_max_incomplete_event_size``). The body limit, the token and the Host check are ASGI middleware
(``kkt_adapter.api.middleware``).
"""

from __future__ import annotations

import logging
import sys

import uvicorn

from kkt_adapter.api.app import create_app
from kkt_adapter.buffer.connection import StorageError
from kkt_adapter.buffer.integrity import open_check
from kkt_adapter.config import Settings
from kkt_adapter.logs import configure_logging

log = logging.getLogger(__name__)

#: The exit status of a start refused because of the buffer file (uvicorn's own for a failed start).
EXIT_STORAGE = 3


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
    uvicorn.run(
        app,
        host=settings.api_host,
        port=settings.api_port,
        log_config=None,
        access_log=False,
        timeout_graceful_shutdown=10,
        http="h11",
        h11_max_incomplete_event_size=settings.max_header_bytes,
        timeout_keep_alive=settings.keep_alive_timeout,
        limit_concurrency=settings.max_connections,
    )
