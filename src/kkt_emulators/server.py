"""Serve an ASGI app from a background thread: uvicorn's HTTP protocol, our own fast start and stop.

uvicorn's ``Server`` polls for shutdown every 100 ms and sleeps another 100 ms while stopping; a test suite that starts
a mock server per test pays that on every test. Here the listening socket is bound in the caller's thread (so a busy
port fails in ``start()`` and ``port=0`` is resolved at once), the event loop (uvloop when installed) runs uvicorn's
HTTP protocol on it, and ``stop()`` closes idle connections at once, lets in-flight answers finish, then frees the port.

Each connection's transport is put into the ASGI scope's ``state`` under :data:`TRANSPORT_KEY`, so that a handler
can drop or reset its own connection (:func:`drop_connection`), which is how the mocks lose replies.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import struct
import threading
from collections.abc import Callable
from typing import Any

from starlette.types import ASGIApp, Receive, Scope
from uvicorn.config import Config

try:  # uvicorn's C parser when installed (a dependency of this project), else its pure-Python one
    from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol as _HTTPProtocol
except ImportError:  # pragma: no cover
    from uvicorn.protocols.http.h11_impl import H11Protocol as _HTTPProtocol  # type: ignore[assignment]
from uvicorn.server import ServerState

TRANSPORT_KEY = "kkt_emulators.transport"

#: How long ``stop()`` lets in-flight requests finish before it cuts their connections.
STOP_GRACE_S = 1.0


class _TransportInScope(_HTTPProtocol):
    """uvicorn's HTTP protocol, exposing the connection's transport to the app through ``scope["state"]``."""

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self.app_state = {**self.app_state, TRANSPORT_KEY: transport}


def base_url(host: str, port: int) -> str:
    """``http://host:port``, with an IPv6 address in brackets."""
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


def _loop_factory() -> Callable[[], asyncio.AbstractEventLoop] | None:
    try:
        import uvloop
    except ImportError:  # pragma: no cover - not on Windows
        return None
    return uvloop.new_event_loop


class BackgroundServer:
    """One ASGI app listening on ``host:port`` from a daemon thread; ``start()`` once, ``stop()`` once."""

    def __init__(self, app: ASGIApp, *, host: str = "127.0.0.1", port: int = 0, name: str = "emulator") -> None:
        self._app = app
        self._host = host
        self._requested_port = port
        self._name = name
        self._port: int | None = None
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop_event: asyncio.Event | None = None
        self._ready = threading.Event()
        self._startup_error: BaseException | None = None
        self._started = False
        self._stopped = False

    @property
    def host(self) -> str:
        """The address the server listens on."""
        return self._host

    @property
    def port(self) -> int:
        """The listening port once started (the requested one before, possibly 0)."""
        return self._port if self._port is not None else self._requested_port

    @property
    def url(self) -> str:
        """Base URL, e.g. ``http://127.0.0.1:9000``."""
        return base_url(self._host, self.port)

    @property
    def running(self) -> bool:
        """Whether the server is started and not yet stopped."""
        return self._started and not self._stopped

    def start(self, timeout: float = 10.0) -> None:
        """Bind, start serving and return once connections are being answered; raises if already started."""
        if self._started:
            raise RuntimeError(f"{self._name} server already started (a server can be started only once)")
        self._started = True
        family = socket.AF_INET6 if ":" in self._host else socket.AF_INET
        # IPPROTO_TCP explicitly: asyncio sets TCP_NODELAY on accepted sockets only when proto says TCP, and
        # without it every answer (headers, then body) waits ~40 ms for a delayed ACK.
        sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind((self._host, self._requested_port))
            sock.listen(2048)
        except OSError:
            sock.close()
            self._stopped = True
            raise
        sock.setblocking(False)
        self._port = sock.getsockname()[1]
        self._thread = threading.Thread(target=self._run, args=(sock,), name=f"{self._name}-server", daemon=True)
        self._thread.start()
        if not self._ready.wait(timeout):
            raise RuntimeError(f"{self._name} server did not start within {timeout} s")
        if self._startup_error is not None:
            self._stopped = True
            raise RuntimeError(f"{self._name} server failed to start") from self._startup_error

    def stop(self, timeout: float = 10.0) -> None:
        """Stop answering, let in-flight answers finish (briefly), free the port; a no-op if not running."""
        if not self._started or self._stopped:
            return
        self._stopped = True
        loop, stop_event = self._loop, self._stop_event
        if loop is not None and stop_event is not None:
            with contextlib.suppress(RuntimeError):  # the loop is already gone
                loop.call_soon_threadsafe(stop_event.set)
        if self._thread is not None:
            self._thread.join(timeout)

    def _run(self, sock: socket.socket) -> None:
        try:
            with asyncio.Runner(loop_factory=_loop_factory()) as runner:
                runner.run(self._serve(sock))
        except BaseException as exc:  # pragma: no cover - reported to start() and re-raised there
            self._startup_error = exc
            self._ready.set()
        finally:
            sock.close()

    async def _serve(self, sock: socket.socket) -> None:
        config = Config(
            self._app,
            http=_TransportInScope,
            ws="none",
            lifespan="off",
            log_config=None,
            access_log=False,
            proxy_headers=False,
            server_header=False,
            date_header=False,
            interface="asgi3",
        )
        config.load()
        state = ServerState()
        state.default_headers = list(config.encoded_headers)
        app_state: dict[str, Any] = {}
        loop = asyncio.get_running_loop()

        def protocol_factory() -> asyncio.Protocol:
            return _TransportInScope(config=config, server_state=state, app_state=app_state, _loop=loop)

        server = await loop.create_server(protocol_factory, sock=sock, backlog=2048)
        self._loop = loop
        self._stop_event = asyncio.Event()
        self._ready.set()
        await self._stop_event.wait()

        server.close()
        for connection in list(state.connections):
            connection.shutdown()
        if state.tasks:  # in-flight answers finish, and close their connections as they go
            await asyncio.wait(list(state.tasks), timeout=STOP_GRACE_S)
        for connection in list(state.connections):
            transport = getattr(connection, "transport", None)
            if transport is not None:
                transport.abort()
        for task in list(state.tasks):
            task.cancel()
        if state.tasks:
            await asyncio.gather(*state.tasks, return_exceptions=True)
        await server.wait_closed()


async def drop_connection(scope: Scope, receive: Receive, *, reset: bool) -> None:
    """Close this request's connection without an answer: a TCP reset (RST) when ``reset``, else a plain close."""
    transport: asyncio.Transport | None = scope.get("state", {}).get(TRANSPORT_KEY)
    if transport is None:  # not served by BackgroundServer (e.g. an in-process test client): nothing to cut
        return
    if reset:
        raw = transport.get_extra_info("socket")
        if raw is not None:
            # SO_LINGER on with a zero timeout makes close() send RST instead of FIN.
            raw.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        transport.abort()
    else:
        transport.close()
    # Wait for uvicorn to see the connection gone, so that it neither logs nor answers for us.
    try:
        async with asyncio.timeout(1.0):
            while (await receive())["type"] != "http.disconnect":
                pass
    except TimeoutError:  # pragma: no cover - the transport is closed; nothing more to do
        pass
