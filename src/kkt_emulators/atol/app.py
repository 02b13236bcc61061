"""The HTTP routes of the emulated ATOL Web Requests server: the v2 API and the older web server's ``/requests``.

::

    POST   /api/v2/requests[?deviceID=1]   {"uuid", "request": [task, ...] | task} → 201 {"number", "uuid", ...}
    GET    /api/v2/requests/{uuid}         → 200 {"results": [{"status", "error", "result"?}, ...]} | 404
    DELETE /api/v2/requests/{uuid}         → 200 while the job waits, else 409; 404 if unknown
    GET    /api/v2/getRequestsQueueStatus  → {"number", "ready", "canceled", "isBlocked", "blockedUUID", "blockReason"}
    GET    /api/v2/serverInfo              → {"serverVersion", "driverVersion", "currentDateTime"} (no auth)
    GET    /api/v2/devices, /api/v2/devices/{id|default}
    POST   /api/v2/operations/queryDeviceStatus | queryShiftStatus | queryFnInfo | queryFnStatus |
           queryOfdExchangeStatus          → 200 the task's result, synchronously
    POST   /requests, GET /requests/{uuid} → the older dialect (flat errorCode / errorDescription)

HTTP-level errors answer ``{"error": {"code", "description"}}``; ``code`` is the driver's (2: device not connected)
where there is one, else the HTTP status. Every route but ``serverInfo`` and the admin ones needs HTTP Basic auth
when the server has a user. The shared fault program (503s, latency, ``down_for``) applies to every ATOL route.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import threading
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.types import ASGIApp

from kkt_emulators.atol.errors import DESCRIPTIONS, NO_CONNECTION, TaskError
from kkt_emulators.atol.faults import AtolFaults
from kkt_emulators.atol.queue import DuplicateJob, JobQueue
from kkt_emulators.atol.results import stamp
from kkt_emulators.atol.tasks import QUERIES, TaskRunner
from kkt_emulators.atol.wire import dumps, parse_body
from kkt_emulators.faults import Verdict
from kkt_emulators.server import drop_connection
from kkt_emulators.web import CLIENT_GONE, RequestCounters, answer_fault, lose_reply, read_body

SERVER_VERSION = "1.0.4.0"
DRIVER_VERSION = "10.10.7.0"
DEVICE_ID = "1"
MAX_UUID_LENGTH = 128

Handler = Callable[[Request], Awaitable[Response]]


def atol_json(body: Any, status: int = 200) -> Response:
    """A JSON answer, amounts written exactly."""
    return Response(dumps(body), status_code=status, media_type="application/json")


def http_error(status: int, description: str, code: int | None = None) -> Response:
    """``{"error": {"code", "description"}}`` with the HTTP ``status``."""
    return atol_json({"error": {"code": status if code is None else code, "description": description}}, status)


class AtolCore(RequestCounters):
    """The server's state behind the routes: the queue, the task runner, the faults, the credentials, counters."""

    def __init__(
        self, queue: JobQueue, runner: TaskRunner, faults: AtolFaults, *, user: str | None, password: str | None
    ) -> None:
        self._lock = threading.Lock()
        self.queue = queue
        self.runner = runner
        self.faults = faults
        self._credentials = None if user is None else f"{user}:{password or ''}".encode()
        self._reset_counters()

    def reset(self) -> None:
        """Forget every job and counter (the device and its documents stay)."""
        self.queue.reset()
        with self._lock:
            self._reset_counters()

    def stats(self) -> dict[str, Any]:
        """Counters and the jobs kept, by state."""
        with self._lock:
            counters = {"calls": self._calls, "faulted": self._faulted, "lost_replies": self._lost}
        return {**counters, "jobs": self.queue.counts(), "queue": self.queue.status()}

    def received(self, limit: int | None = None) -> list[dict[str, Any]]:
        """Not kept: the jobs are read by uuid."""
        return []

    def authorized(self, request: Request) -> bool:
        """Whether the request carries the server's Basic credentials (always, when it has none)."""
        if self._credentials is None:
            return True
        header = request.headers.get("authorization", "")
        scheme, _, encoded = header.partition(" ")
        if scheme.lower() != "basic":
            return False
        try:
            given = base64.b64decode(encoded.strip(), validate=True)
        except (binascii.Error, ValueError):
            return False
        return hmac.compare_digest(given, self._credentials)

    def device(self) -> dict[str, Any]:
        """The one device this server drives, as ``/api/v2/devices`` lists it."""
        status = self.runner.kkt.status()
        return {
            "id": DEVICE_ID,
            "default": True,
            "isActive": not self.faults.disconnected,
            "serialNumber": self.runner.kkt.registration.kkt_serial,
            "fnNumber": status.fn_number,
            "registrationNumber": status.reg_number,
        }


def guarded(core: AtolCore, handler: Handler, *, auth: bool = True) -> Handler:
    """``handler`` behind the shared fault program, then Basic auth; a lost reply drops the answer after it."""

    async def endpoint(request: Request) -> Response:
        core.count_call()
        await core.faults.delay()
        decision = core.faults.decide()
        faulted = await answer_fault(request, decision)
        if faulted is not None:
            core.count_fault()
            return faulted
        if auth and not core.authorized(request):
            return Response(
                dumps({"error": {"code": 401, "description": "Требуется авторизация"}}),
                status_code=401,
                media_type="application/json",
                headers={"WWW-Authenticate": 'Basic realm="ATOL Web Requests"'},
            )
        response = await handler(request)
        if decision.verdict is Verdict.LOSE_REPLY:
            core.count_lost_reply()
            return await lose_reply(request, decision)
        return response

    return endpoint


async def _lost(core: AtolCore, request: Request) -> Response:
    core.count_lost_reply()
    await drop_connection(request.scope, request.receive, reset=False)
    return Response(status_code=503)  # never sent: the connection is gone


def _device_known(request: Request) -> bool:
    device = request.query_params.get("deviceID")
    return device in (None, "", DEVICE_ID, "default")


def create_atol_app(core: AtolCore, admin: list[Route]) -> ASGIApp:
    """The emulated Web Requests server's ASGI app over ``core``, with the ``admin`` routes added."""
    queue, runner, faults = core.queue, core.runner, core.faults

    async def submit(request: Request) -> Response:
        raw = await read_body(request)
        if raw is None:
            return Response(status_code=CLIENT_GONE)
        try:
            body = parse_body(raw)
        except ValueError:
            return http_error(400, "тело запроса не является JSON")
        if not isinstance(body, Mapping):
            return http_error(400, "тело запроса должно быть объектом {'uuid', 'request'}")
        uuid, tasks = body.get("uuid"), body.get("request")
        if not isinstance(uuid, str) or not uuid.strip() or len(uuid) > MAX_UUID_LENGTH:
            return http_error(400, f"'uuid' обязателен: строка от 1 до {MAX_UUID_LENGTH} символов")
        if isinstance(tasks, Mapping):
            tasks = [tasks]
        if not isinstance(tasks, list) or not tasks:
            return http_error(400, "'request' обязателен: задание или непустой список заданий")
        if not _device_known(request):
            return http_error(404, f"устройство {request.query_params.get('deviceID')!r} не найдено")
        if faults.disconnected:
            return http_error(409, f"{DESCRIPTIONS[NO_CONNECTION]}: ККТ не подключена", NO_CONNECTION)
        try:
            job, position = queue.submit(uuid, list(tasks), dict(body))
        except DuplicateJob:
            return http_error(409, "задание с таким UUID уже есть")
        if faults.take_lost_reply("post"):
            return await _lost(core, request)
        return atol_json({"number": position, "uuid": job.uuid, **queue.block_fields()}, 201)

    def read_job(*, legacy: bool) -> Handler:
        async def read(request: Request) -> Response:
            answer = queue.poll(request.path_params["uuid"], legacy=legacy)
            if answer is None:
                return http_error(404, "задание не найдено")
            if faults.take_lost_reply("get"):
                return await _lost(core, request)
            return atol_json(answer)

        return read

    async def cancel(request: Request) -> Response:
        done = queue.cancel(request.path_params["uuid"])
        if done is None:
            return http_error(404, "задание не найдено")
        if not done:
            return http_error(409, "задание уже выполняется или выполнено: отменить нельзя")
        return atol_json({})

    async def queue_status(request: Request) -> Response:
        return atol_json(queue.status())

    async def server_info(request: Request) -> Response:
        return atol_json(
            {
                "serverVersion": SERVER_VERSION,
                "driverVersion": DRIVER_VERSION,
                "currentDateTime": stamp(runner.kkt.local_now()),
            }
        )

    async def devices(request: Request) -> Response:
        return atol_json({"devices": [core.device()]})

    async def device(request: Request) -> Response:
        if request.path_params["device"] not in (DEVICE_ID, "default"):
            return http_error(404, "устройство не найдено")
        return atol_json(core.device())

    async def operation(request: Request) -> Response:
        kind = QUERIES.get(request.path_params["name"])
        if kind is None:
            return http_error(404, f"операция {request.path_params['name']!r} не найдена")
        if not _device_known(request):
            return http_error(404, "устройство не найдено")
        if faults.disconnected or queue.blocked:
            return http_error(409, f"{DESCRIPTIONS[NO_CONNECTION]}: ККТ недоступна", NO_CONNECTION)
        try:
            return atol_json(runner.query(kind, blocked=queue.blocked))
        except TaskError as exc:
            return atol_json({"error": exc.as_dict()}, 409)

    routes = [
        Route("/api/v2/requests", guarded(core, submit), methods=["POST"]),
        Route("/api/v2/requests/{uuid}", guarded(core, read_job(legacy=False)), methods=["GET"]),
        Route("/api/v2/requests/{uuid}", guarded(core, cancel), methods=["DELETE"]),
        Route("/api/v2/getRequestsQueueStatus", guarded(core, queue_status), methods=["GET"]),
        Route("/api/v2/serverInfo", guarded(core, server_info, auth=False), methods=["GET"]),
        Route("/api/v2/devices", guarded(core, devices), methods=["GET"]),
        Route("/api/v2/devices/{device}", guarded(core, device), methods=["GET"]),
        Route("/api/v2/operations/{name}", guarded(core, operation), methods=["POST"]),
        Route("/requests", guarded(core, submit), methods=["POST"]),
        Route("/requests/{uuid}", guarded(core, read_job(legacy=True)), methods=["GET"]),
        *admin,
    ]
    return Starlette(routes=routes)
