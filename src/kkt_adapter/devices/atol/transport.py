"""Transports that carry ATOL JSON tasks to a KKT. :class:`WebRequestsTransport` speaks ATOL Web Requests over HTTP
(the v2 API ``/api/v2/requests`` or the older web server's ``/requests``); an in-process transport through
``libfptr10``'s ``processJson`` would implement the same :class:`Transport` protocol and reuse the whole mapping.

Failures are told apart by what they mean for a print: :class:`ServerUnreachable` and :class:`RequestRefused`
(nothing was queued), :class:`ReplyLost` (the request may have been executed). Credentials travel only in the
``Authorization`` header: never in a log line, an error or a ``repr``.
"""

from __future__ import annotations

import base64
import logging
import socket
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal, NoReturn, Protocol

import httpx

from kkt_adapter.devices.atol import wire
from kkt_adapter.devices.atol.errors import ProtocolError, ReplyLost, RequestRefused, ServerUnreachable
from kkt_adapter.devices.atol.results import TaskResult, task_results
from kkt_adapter.devices.atol.tasks import Task

log = logging.getLogger(__name__)

Dialect = Literal["v2", "legacy"]
#: Tasks per job in the v2 dialect (reading the FN's archive in batches).
V2_MAX_TASKS = 50


@dataclass(frozen=True)
class Submitted:
    """The server's answer to a new job: ``created`` (201), or not (409: the uuid is known, or the device is not
    connected: the body's ``error`` says which, and the caller checks by reading the job)."""

    created: bool
    error_code: int | None = None
    error_description: str = ""
    blocked: bool = False


class Transport(Protocol):
    """Carries jobs of JSON tasks to one KKT, each under a client-chosen uuid."""

    @property
    def max_tasks(self) -> int:
        """How many tasks one job may carry."""
        ...

    def submit(self, uuid: str, tasks: Sequence[Task]) -> Submitted:
        """Queue a job; a uuid already known is not queued again."""
        ...

    def job(self, uuid: str) -> tuple[TaskResult, ...] | None:
        """The job's task results, or ``None`` for an unknown uuid."""
        ...

    def cancel(self, uuid: str) -> bool | None:
        """Delete a job that still waits: ``True`` (it will never run), ``False`` (it started or finished: the
        server refused), ``None`` (unknown uuid)."""
        ...

    def fn_document_number(self) -> int | None:
        """The FN's last document number, asked outside the job queue (``None`` when the transport cannot)."""
        ...

    def close(self) -> None:
        """Release connections."""
        ...


class WebRequestsTransport:
    """ATOL Web Requests over HTTP through one pool of keep-alive connections (``httpx.HTTPTransport``).

    Each request is built from URLs and headers made once (the fixed routes' URLs are parsed once, a job's URL once
    per request, the Basic ``Authorization`` header once) and handed straight to the pool: no client layers (auth
    flow, redirects, cookies) run per request, so its cost is mostly the exchange itself.

    ``dialect`` ``auto`` asks ``GET /api/v2/serverInfo`` once: an answer means v2, a 404 the older web server.
    ``transport`` replaces httpx's network transport (tests pass an ``httpx.MockTransport``).
    """

    def __init__(
        self,
        base_url: str,
        *,
        device_id: str | None = None,
        user: str | None = None,
        password: str | None = None,
        dialect: Literal["auto", "v2", "legacy"] = "auto",
        timeout: float = 10.0,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.device_id = device_id
        self.user = user
        self._dialect: Dialect | None = None if dialect == "auto" else dialect
        limits = httpx.Timeout(timeout, connect=min(timeout, 3.0))
        pool = httpx.Limits(max_keepalive_connections=4, keepalive_expiry=30.0)
        if transport is None:  # the request's headers and body leave at once, not held for the headers' ACK
            transport = httpx.HTTPTransport(limits=pool, socket_options=[(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)])
        self._pool = transport
        headers = {"Content-Type": "application/json; charset=utf-8", "Accept": "application/json"}
        if user is not None:
            credentials = base64.b64encode(f"{user}:{password or ''}".encode()).decode("ascii")
            headers["Authorization"] = f"Basic {credentials}"
        self._headers = httpx.Headers(headers)
        self._extensions = {"timeout": limits.as_dict()}
        self._urls: dict[str, httpx.URL] = {}

    def __repr__(self) -> str:
        who = "" if self.user is None else f", user={self.user!r}"
        return f"WebRequestsTransport({self.base_url!r}, dialect={self._dialect or 'auto'!r}{who})"

    @property
    def dialect(self) -> Dialect:
        """The server's dialect, asked once when configured ``auto``."""
        if self._dialect is None:
            response = self._send("GET", self._url("/api/v2/serverInfo"))
            if response.status_code == 404:
                self._dialect = "legacy"
            elif response.is_success:
                self._dialect = "v2"
            else:
                self._raise_refused(response)
            log.info("ATOL web server dialect detected", extra={"dialect": self._dialect, "url": self.base_url})
        assert self._dialect is not None
        return self._dialect

    @property
    def max_tasks(self) -> int:
        """v2 takes a list of tasks per job; the older web server one task per job."""
        return V2_MAX_TASKS if self.dialect == "v2" else 1

    def _requests_path(self) -> str:
        return "/api/v2/requests" if self.dialect == "v2" else "/requests"

    def _params(self) -> dict[str, str]:
        return {} if self.device_id is None else {"deviceID": self.device_id}

    def submit(self, uuid: str, tasks: Sequence[Task]) -> Submitted:
        request: Any = list(tasks)
        if self.dialect == "legacy" and len(tasks) == 1:
            request = tasks[0]  # the older web server takes one task object
        body = wire.dumps({"uuid": uuid, "request": request})
        response = self._send("POST", self._url(self._requests_path(), query=True), body.encode("utf-8"))
        if response.status_code in (200, 201):
            answer = _json(response) if response.content else {}
            blocked = bool(answer.get("isBlocked")) if isinstance(answer, dict) else False
            return Submitted(created=True, blocked=blocked)
        if response.status_code == 409:
            code, description = _error(response)
            return Submitted(created=False, error_code=code, error_description=description)
        self._raise_refused(response)

    def job(self, uuid: str) -> tuple[TaskResult, ...] | None:
        response = self._send("GET", self._job_url(uuid))
        if response.status_code == 404:
            return None
        if response.status_code != 200:
            self._raise_refused(response)
        return task_results(_json(response))

    def cancel(self, uuid: str) -> bool | None:
        response = self._send("DELETE", self._job_url(uuid))
        if response.status_code == 200:
            return True
        if response.status_code == 409:
            return False
        if response.status_code == 404:
            return None
        self._raise_refused(response)

    def fn_document_number(self) -> int | None:
        if self.dialect != "v2":
            return None
        response = self._send("POST", self._url("/api/v2/operations/queryFnStatus", query=True), b"{}")
        if response.status_code != 200:
            self._raise_refused(response)
        body = _json(response)
        status = body.get("fnStatus") if isinstance(body, dict) else None
        number = status.get("fiscalDocumentNumber") if isinstance(status, dict) else None
        if not isinstance(number, int):
            raise ProtocolError(f"queryFnStatus: no fnStatus.fiscalDocumentNumber in {str(body)[:200]}")
        return number

    def close(self) -> None:
        self._pool.close()

    def _url(self, path: str, *, query: bool = False) -> httpx.URL:
        """The URL of a fixed route (with ``deviceID`` when ``query``), parsed once."""
        url = self._urls.get(path)
        if url is None:
            url = self._urls[path] = httpx.URL(self.base_url + path, params=self._params() if query else None)
        return url

    def _job_url(self, uuid: str) -> httpx.URL:
        return httpx.URL(f"{self.base_url}{self._requests_path()}/{uuid}")

    def _send(self, method: str, url: httpx.URL, content: bytes | None = None) -> httpx.Response:
        request = httpx.Request(method, url, headers=self._headers, content=content, extensions=self._extensions)
        path = url.path
        try:
            response = self._pool.handle_request(request)
            try:
                response.read()
            finally:
                response.close()
            return response
        except (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout, httpx.UnsupportedProtocol) as exc:
            raise ServerUnreachable(f"ATOL web server {self.base_url} not reachable: {type(exc).__name__}") from exc
        except httpx.TransportError as exc:
            raise ReplyLost(f"{method} {path}: no answer from {self.base_url} ({type(exc).__name__})") from exc

    def _raise_refused(self, response: httpx.Response) -> NoReturn:
        if response.status_code == 503:
            raise ServerUnreachable(f"ATOL web server {self.base_url} answered 503 (not ready)")
        code, description = _error(response)
        if response.status_code == 401:
            description = "the ATOL web server wants authentication: check KKT_ATOL_USER and KKT_ATOL_PASSWORD"
        raise RequestRefused(response.status_code, code, description)


def _json(response: httpx.Response) -> Any:
    try:
        return wire.loads(response.content)
    except ValueError as exc:
        raise ProtocolError(f"HTTP {response.status_code}: not JSON: {response.text[:200]!r}") from exc


def _error(response: httpx.Response) -> tuple[int | None, str]:
    """The ``error`` object of an error answer (``{"error": {"code", "description"}}``), as far as there is one."""
    try:
        body = wire.loads(response.content) if response.content else None
    except ValueError:
        return None, response.text[:200]
    error = body.get("error") if isinstance(body, dict) else None
    if isinstance(error, dict):
        code = error.get("code")
        return (code if isinstance(code, int) else None), str(error.get("description") or "")
    return None, ""
