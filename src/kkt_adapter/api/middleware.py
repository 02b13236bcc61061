"""The API's defences as pure ASGI middleware: the Host check, CORS (only when configured), the bearer token and
the request body limit. Each answers with the API's JSON error shape (``{"detail", "error"}``) before the route runs.

From the outside in: :class:`HeaderLimit`, :class:`HostCheck` (DNS rebinding), CORS, :class:`BearerAuth`,
:class:`BodyLimit`. The limits uvicorn enforces itself (the head's buffer, keep-alive, connections) are set in
``kkt_adapter.server``.
"""

from __future__ import annotations

import hmac
import ipaddress
import json
from collections.abc import Iterable

from fastapi import FastAPI
from starlette.middleware.cors import CORSMiddleware
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from kkt_adapter.api.messages import language, message
from kkt_adapter.config import Settings

#: Paths any client may GET without the token: the health probe, and the operator page's static files (the page
#: holds no data; it asks for the token when the API answers 401).
PUBLIC_PATHS = frozenset({"/v1/health", "/ui"})
PUBLIC_PREFIXES = ("/ui/assets/",)


async def answer(
    send: Send,
    status: int,
    detail: str,
    error: str,
    *,
    headers: Iterable[tuple[bytes, bytes]] = (),
    scope: Scope | None = None,
) -> None:
    """Send one JSON error answer, in the shape of the API's other errors (with ``code`` and a ``message`` in the
    language the request's ``Accept-Language`` asks, Russian by default)."""
    asked = None if scope is None else _header(scope, b"accept-language")
    lang = language(None if asked is None else asked.decode("latin-1"))
    body = json.dumps({"detail": detail, "error": error, "code": error, "message": message(error, lang)}).encode()
    start_headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode("ascii")),
        *headers,
    ]
    await send({"type": "http.response.start", "status": status, "headers": start_headers})
    await send({"type": "http.response.body", "body": body})


def _header(scope: Scope, name: bytes) -> bytes | None:
    for key, value in scope["headers"]:
        if key == name:
            return bytes(value)
    return None


def host_name(host: str) -> str:
    """The name part of a Host header or a host setting, in lower case: no port, IPv6 in brackets, no final dot."""
    host = host.strip().lower()
    if host.startswith("["):
        return host[: host.find("]") + 1] if "]" in host else host
    if host.count(":") == 1:
        host = host.split(":", 1)[0]
    elif host.count(":") > 1:  # a bare IPv6 address, as ASGI servers report theirs
        host = f"[{host}]"
    return host.rstrip(".")


def _is_ip_literal(name: str) -> bool:
    try:
        ipaddress.ip_address(name.strip("[]"))
    except ValueError:
        return False
    return True


class HostCheck:
    """Answer 400 to a request whose ``Host`` is not an allowed name: a page on another site that got its name
    resolved to this machine (DNS rebinding) sends its own name, and is refused.

    ``allowed=None`` is the default rule: ``localhost``, the bound host, any IP address literal (a rebinding page
    always sends a name, never an address), and the server name the ASGI server reports for the connection (under
    uvicorn the socket's own address; under Starlette's in-process test transport, ``testserver``). A list is used
    as given: exact names, ``*.example.com`` for subdomains, ``*`` for any.
    """

    def __init__(self, app: ASGIApp, *, allowed: tuple[str, ...] | None, bound_host: str) -> None:
        self.app = app
        self.allowed = None if allowed is None else frozenset(host_name(name) for name in allowed)
        bound = host_name(bound_host)
        self.default = frozenset({"localhost", bound})

    def permits(self, name: str, server: object) -> bool:
        """Whether a request to host ``name`` (from :func:`host_name`) on ASGI ``server`` may pass."""
        if self.allowed is None:
            own = isinstance(server, list | tuple) and server and name == host_name(str(server[0]))
            return name in self.default or _is_ip_literal(name) or bool(own)
        if "*" in self.allowed or name in self.allowed:
            return True
        return any(entry.startswith("*.") and name.endswith(entry[1:]) for entry in self.allowed)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] in ("http", "websocket"):
            raw = _header(scope, b"host")
            name = host_name(raw.decode("latin-1")) if raw else ""
            if not name or not self.permits(name, scope.get("server")):
                if scope["type"] == "websocket":
                    await send({"type": "websocket.close", "code": 1008})
                    return
                detail = "the Host header names no address of this adapter (KKT_ALLOWED_HOSTS)"
                await answer(send, 400, detail, "host_not_allowed", scope=scope)
                return
        await self.app(scope, receive, send)


class BearerAuth:
    """Require ``Authorization: Bearer <KKT_API_TOKEN>`` on every request but the public paths (401 otherwise).

    The token is compared in constant time and never logged or echoed.
    """

    def __init__(self, app: ASGIApp, *, token: bytes) -> None:
        self.app = app
        self._expected = b"bearer " + token

    @staticmethod
    def is_public(scope: Scope) -> bool:
        """``GET``/``HEAD`` of the health probe and of the operator page's files."""
        path: str = scope["path"]
        return scope["method"] in ("GET", "HEAD") and (path in PUBLIC_PATHS or path.startswith(PUBLIC_PREFIXES))

    def authorized(self, scope: Scope) -> bool:
        """Whether the request carries the token (the scheme's case does not matter)."""
        given = _header(scope, b"authorization") or b""
        scheme, _, credentials = given.strip().partition(b" ")
        return hmac.compare_digest(scheme.lower() + b" " + credentials.strip(), self._expected)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and not self.is_public(scope) and not self.authorized(scope):
            detail = "send the API token: Authorization: Bearer <KKT_API_TOKEN>"
            await answer(send, 401, detail, "unauthorized", headers=[(b"www-authenticate", b"Bearer")], scope=scope)
            return
        await self.app(scope, receive, send)


class HeaderLimit:
    """Answer 431 to a request whose line and headers add up to more than ``max_bytes``.

    uvicorn (``h11``) bounds what it buffers of a request head still arriving, but takes a complete head that came
    in one read even when it is larger; this makes the limit a rule, whatever the packets.
    """

    def __init__(self, app: ASGIApp, *, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    def size(self, scope: Scope) -> int:
        """The request head's size as sent, near enough: the request line and each ``name: value`` line."""
        line = len(scope.get("method", "")) + len(scope.get("raw_path") or b"") + len(scope["query_string"]) + 12
        return line + sum(len(name) + len(value) + 4 for name, value in scope["headers"])

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and self.size(scope) > self.max_bytes:
            detail = f"the request's headers are larger than {self.max_bytes} bytes (KKT_MAX_HEADER_BYTES)"
            await answer(send, 431, detail, "headers_too_large", headers=[(b"connection", b"close")], scope=scope)
            return
        await self.app(scope, receive, send)


class _BodyTooLarge(Exception):
    """Raised from ``receive`` once the body passed the limit; the 413 has already been sent."""


class BodyLimit:
    """Answer 413 to a request body larger than ``max_bytes``, before the route parses it.

    A ``Content-Length`` over the limit is refused before any of the body is read. A body without one (chunked) is
    counted as it arrives; the chunk that passes the limit is the last one read: the 413 goes out at once, the app's
    own answer is dropped, and ``Connection: close`` tells the server not to read the rest.
    """

    def __init__(self, app: ASGIApp, *, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def _refuse(self, send: Send, scope: Scope) -> None:
        detail = f"the request body is larger than {self.max_bytes} bytes (KKT_MAX_BODY_BYTES)"
        await answer(send, 413, detail, "body_too_large", headers=[(b"connection", b"close")], scope=scope)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = _header(scope, b"content-length")
        if declared is not None and declared.strip().isdigit() and int(declared) > self.max_bytes:
            await self._refuse(send, scope)
            return
        received = 0
        started = False
        refused = False

        async def limited_receive() -> Message:
            nonlocal received, refused
            if refused:
                raise _BodyTooLarge
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    if not started:
                        await self._refuse(send, scope)
                        refused = True
                    raise _BodyTooLarge
            return message

        async def guarded_send(message: Message) -> None:
            nonlocal started
            if refused:  # the app answers its failed read (FastAPI: 400); the client already has the 413
                return
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, limited_receive, guarded_send)
        except Exception:
            if not refused:
                raise


def install(app: FastAPI, settings: Settings) -> None:
    """Add the defences ``settings`` ask for to ``app``, the Host check outermost."""
    # Starlette wraps each added middleware around the ones added before it: the last added runs first.
    app.add_middleware(BodyLimit, max_bytes=settings.max_body_bytes)
    if settings.api_token is not None:
        app.add_middleware(BearerAuth, token=settings.api_token.get_secret_value().encode("ascii"))
    if settings.cors_origin_list:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origin_list,
            allow_methods=("GET", "POST"),
            allow_headers=("Authorization", "Content-Type", "Idempotency-Key"),
        )
    app.add_middleware(HostCheck, allowed=settings.allowed_host_list, bound_host=settings.api_host)
    app.add_middleware(HeaderLimit, max_bytes=settings.max_header_bytes)
