"""HTTP pieces both mock servers share: fault answers, JSON bodies, and the admin routes.

The admin routes (``POST <prefix>/reset``, ``GET <prefix>/stats``, ``POST <prefix>/failure-count {"count": 3}`` and
so on) call exactly the same methods as the Python API and the command line; they never go through the fault
program themselves, so a fault never blocks them.
"""

from __future__ import annotations

import json
import math
import threading
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, Protocol

from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from kkt_emulators.faults import Decision, FaultProgram, Verdict
from kkt_emulators.server import drop_connection


class BadRequest(Exception):
    """The request's body is not what the endpoint takes (answered 400)."""


class RequestCounters:
    """The counters every mock endpoint keeps: calls, faulted, rejected as malformed, replies lost on purpose.

    A subclass creates ``_lock`` (guarding its own state too) and calls :meth:`_reset_counters` under it.
    """

    _lock: threading.Lock

    def _reset_counters(self) -> None:
        self._calls = 0
        self._faulted = 0
        self._rejected = 0
        self._lost = 0

    def count_call(self) -> None:
        """Count a request to the endpoint, whatever becomes of it."""
        with self._lock:
            self._calls += 1

    def count_fault(self) -> None:
        """Count a request answered by a fault (503, 429, reset) instead of being processed."""
        with self._lock:
            self._faulted += 1

    def count_lost_reply(self) -> None:
        """Count a processed request whose reply was lost on purpose."""
        with self._lock:
            self._lost += 1

    def reject_malformed(self) -> None:
        """Count a request whose body was not a JSON object."""
        with self._lock:
            self._rejected += 1

    @property
    def call_count(self) -> int:
        """Requests to the endpoint so far."""
        with self._lock:
            return self._calls


class EndpointCore(Protocol):
    """A mock endpoint's state without HTTP, as the shared admin routes and the servers' Python API see it."""

    @property
    def call_count(self) -> int:
        """Requests to the endpoint so far, whatever their answer."""
        ...

    def reset(self) -> None:
        """Forget everything received and every counter (configuration stays)."""
        ...

    def stats(self) -> dict[str, Any]:
        """Counters and statistics, as JSON-ready values."""
        ...

    def received(self, limit: int | None = None) -> list[dict[str, Any]]:
        """The bodies of the requests processed, oldest first (the last ``limit``)."""
        ...


Process = Callable[[Request, dict[str, Any]], Response]


def guarded_endpoint(
    counters: RequestCounters, faults: FaultProgram, process: Process, *, malformed_code: str | None = None
) -> Callable[[Request], Awaitable[Response]]:
    """An endpoint that runs the fault program first, then ``process(request, body)`` on a JSON object body.

    Latency and hold come first; a fault answers instead of processing; a lost reply processes, then drops the
    answer; a client gone before its body arrived is counted and left alone.
    """

    async def endpoint(request: Request) -> Response:
        counters.count_call()
        await faults.delay()
        decision = faults.decide()
        faulted = await answer_fault(request, decision)
        if faulted is not None:
            counters.count_fault()
            return faulted
        raw = await read_body(request)
        if raw is None:
            return Response(status_code=CLIENT_GONE)
        try:
            body = parse_object(raw)
        except BadRequest as exc:
            counters.reject_malformed()
            response = error_response(400, str(exc), malformed_code)
        else:
            response = process(request, body)
        if decision.verdict is Verdict.LOSE_REPLY:
            counters.count_lost_reply()
            return await lose_reply(request, decision)
        return response

    return endpoint


def json_response(body: Any, status: int = 200, headers: Mapping[str, str] | None = None) -> Response:
    """A compact JSON answer."""
    return JSONResponse(body, status_code=status, headers=headers)


#: Not sent to anyone: the answer to a request whose client went away before its body arrived.
CLIENT_GONE = 499


async def read_body(request: Request) -> bytes | None:
    """The request's body, or ``None`` when the client went away before sending all of it (nothing to process)."""
    try:
        return await request.body()
    except ClientDisconnect:
        return None


def error_response(status: int, message: str, code: str | None = None) -> Response:
    """An error answer: ``{"error": message}`` (and ``"code"`` when given)."""
    body = {"error": message} if code is None else {"error": message, "code": code}
    return json_response(body, status)


def parse_object(raw: bytes, *, allow_empty: bool = False) -> dict[str, Any]:
    """Parse a JSON object from a request body; raises :class:`BadRequest` otherwise."""
    if allow_empty and not raw.strip():
        return {}
    try:
        value = json.loads(raw)
    except (UnicodeDecodeError, ValueError) as exc:
        raise BadRequest(f"body is not valid JSON: {exc}") from exc
    if not isinstance(value, dict):
        raise BadRequest("body must be a JSON object")
    return value


async def answer_fault(request: Request, decision: Decision) -> Response | None:
    """The answer a failing verdict gives instead of processing the request; ``None`` to process it."""
    if decision.verdict is Verdict.FAIL:
        return error_response(503, decision.reason)
    if decision.verdict is Verdict.RATE_LIMIT:
        headers = {"Retry-After": str(math.ceil(decision.retry_after_s))}
        body = {"error": decision.reason, "retry_after": decision.retry_after_s}
        return json_response(body, 429, headers)
    if decision.verdict is Verdict.RESET:
        await drop_connection(request.scope, request.receive, reset=True)
        return Response(status_code=503)  # never sent: the connection is gone
    return None


async def lose_reply(request: Request, decision: Decision) -> Response:
    """Lose the reply of a processed request: drop the connection, or answer 503."""
    if decision.lose_mode == "503":
        return error_response(503, "reply lost after processing")
    await drop_connection(request.scope, request.receive, reset=False)
    return Response(status_code=503)  # never sent: the connection is gone


def _count(body: Mapping[str, Any], name: str = "count") -> int:
    value = body.get(name)
    if isinstance(value, bool) or not isinstance(value, int):
        raise BadRequest(f"'{name}' must be an integer")
    return value


def _number(body: Mapping[str, Any], name: str, default: float | None = None) -> float:
    value = body.get(name, default)
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise BadRequest(f"'{name}' must be a number")
    return float(value)


def fault_setters(faults: FaultProgram) -> dict[str, Callable[[Mapping[str, Any]], None]]:
    """Admin route name → function applying a JSON body to ``faults`` (raises on a bad value)."""

    def rate_limit(body: Mapping[str, Any]) -> None:
        retry_after = body.get("retry_after_s")
        count = body.get("count")
        if count is not None:
            count = _count(body)
        faults.set_rate_limit(None if retry_after is None else _number(body, "retry_after_s"), count=count)

    def lose_reply_setter(body: Mapping[str, Any]) -> None:
        mode = body.get("mode", "drop")
        if mode not in ("drop", "503"):
            raise BadRequest("'mode' must be 'drop' or '503'")
        faults.set_lose_reply(_count(body), mode=mode)

    return {
        "success": lambda body: faults.set_success(),
        "failure-count": lambda body: faults.set_failure_count(_count(body)),
        "permanent-failure": lambda body: faults.set_permanent_failure(bool(body.get("enabled", True))),
        "fail-every": lambda body: faults.set_fail_every(_count(body, "n")),
        "latency": lambda body: faults.set_latency(_number(body, "ms"), _number(body, "jitter_ms", 0)),
        "rate-limit": rate_limit,
        "connection-reset": lambda body: faults.set_connection_reset(_count(body)),
        "lose-reply": lose_reply_setter,
        "down-for": lambda body: faults.set_down_for(_number(body, "seconds")),
        "hold": lambda body: faults.hold(),
        "release": lambda body: faults.release(),
    }


def fault_routes(prefix: str, faults: FaultProgram) -> list[Route]:
    """Admin routes under ``prefix`` that program ``faults``: one ``POST`` per fault, ``GET faults`` to read them."""

    def make(setter: Callable[[Mapping[str, Any]], None]) -> Callable[[Request], Any]:
        async def endpoint(request: Request) -> Response:
            try:
                setter(parse_object(await request.body(), allow_empty=True))
            except (BadRequest, ValueError) as exc:
                return error_response(400, str(exc))
            return json_response({"status": "ok", "faults": faults.snapshot()})

        return endpoint

    async def read(request: Request) -> Response:
        return json_response(faults.snapshot())

    routes = [
        Route(f"{prefix}/{name}", make(setter), methods=["POST"]) for name, setter in fault_setters(faults).items()
    ]
    routes.append(Route(f"{prefix}/faults", read, methods=["GET"]))
    return routes


def admin_routes(prefix: str, core: EndpointCore, faults: FaultProgram, *, journal: str) -> list[Route]:
    """The admin routes every mock has, under ``prefix``: ``POST reset``, ``GET stats``, ``GET <journal>?limit=N``
    (the bodies received, oldest first) and the fault routes of :func:`fault_routes`."""

    async def reset(request: Request) -> Response:
        faults.set_success()
        core.reset()
        return json_response({"status": "ok"})

    async def stats(request: Request) -> Response:
        return json_response(core.stats())

    async def received(request: Request) -> Response:
        limit = request.query_params.get("limit", "")
        return json_response(core.received(int(limit) if limit.isdigit() else None))

    return [
        Route(f"{prefix}/reset", reset, methods=["POST"]),
        Route(f"{prefix}/stats", stats, methods=["GET"]),
        Route(f"{prefix}/{journal}", received, methods=["GET"]),
        *fault_routes(prefix, faults),
    ]
