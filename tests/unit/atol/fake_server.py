"""A scripted fake of ATOL Web Requests behind an ``httpx.MockTransport``: the agreed job semantics (uuids, 409,
404, ``wait``/``inProgress``/``ready``/``error``/``blocked``), both dialects, Basic auth, and faults armed per test.

Jobs run at once on POST (one device, documents numbered continuously); what a GET shows is scripted: a job can read
``inProgress`` or ``blocked`` for a number of polls before its outcome shows. While a job shows ``blocked``, the
queue is stopped: jobs POSTed after it are held (``wait``) until the block ends, and a DELETE cancels a held one.
Faults armed by uuid (``refuse_uuid``, ``lose_post_uuid``, ``block_uuid``) hit one job of a batch.
"""

from __future__ import annotations

import base64
import json
import re
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import httpx

PRINTING = {"sell", "sellReturn", "sellCorrection", "sellReturnCorrection", "openShift", "closeShift"}
FN_NUMBER = "9999078900000961"
REG_NUMBER = "0000000001002292"


@dataclass
class Job:
    """One job: its tasks and results, and how many more GETs show it running or blocked (faults arm the next
    printing job only, so that the adapter's background status reads never take them)."""

    tasks: list[dict[str, Any]]
    results: list[dict[str, Any]]
    running_polls: int = 0
    blocked_polls: int = 0
    block_printed: bool = False
    block_forever: bool = False
    held: bool = False


@dataclass
class FakeWebRequests:
    """The fake server. ``dialect`` ``v2`` or ``legacy``; ``user``/``password`` make it demand Basic auth."""

    dialect: str = "v2"
    user: str | None = None
    password: str | None = None
    jobs: dict[str, Job] = field(default_factory=dict)
    documents: list[dict[str, Any]] = field(default_factory=list)
    shift_open: bool = True
    shift_number: int = 5
    receipts_in_shift: int = 0
    posts: int = 0
    gets: int = 0
    printing_jobs: list[str] = field(default_factory=list)
    auth_headers: list[str | None] = field(default_factory=list)
    # faults, each consumed by the next job or request it applies to
    refuse: list[tuple[int, str]] = field(default_factory=list)
    lose_post: int = 0
    lose_get: int = 0
    in_progress: int = 0
    block: tuple[bool, int, bool] | None = None  # (printed, polls, forever)
    refuse_uuid: dict[str, tuple[int, str]] = field(default_factory=dict)
    lose_post_uuid: set[str] = field(default_factory=set)
    block_uuid: dict[str, tuple[bool, int, bool]] = field(default_factory=dict)
    deletes: int = 0
    lose_delete: bool = False
    disconnected: bool = False
    down: bool = False
    unsent: int = 0
    taxation_types: list[str] = field(default_factory=lambda: ["osn"])

    def transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(self.handle)

    @property
    def fd(self) -> int:
        return len(self.documents)

    # -- HTTP ---------------------------------------------------------------------------------------------------

    def handle(self, request: httpx.Request) -> httpx.Response:
        if self.down:
            raise httpx.ConnectError("connection refused", request=request)
        self.auth_headers.append(request.headers.get("authorization"))
        path = request.url.path
        if path == "/api/v2/serverInfo":
            if self.dialect != "v2":
                return httpx.Response(404)
            return httpx.Response(200, json={"serverVersion": "1.0.4.0", "driverVersion": "10.10.7.0"})
        if self.user is not None and not self._authorized(request):
            return httpx.Response(401, json={"error": {"code": 401, "description": "Unauthorized"}})
        base = "/api/v2/requests" if self.dialect == "v2" else "/requests"
        if request.method == "POST" and path == base:
            return self._post(request)
        if request.method == "GET" and path.startswith(base + "/"):
            return self._get(request, path.rsplit("/", 1)[1])
        if request.method == "DELETE" and path.startswith(base + "/"):
            return self._delete(path.rsplit("/", 1)[1])
        if request.method == "POST" and path == "/api/v2/operations/queryFnStatus" and self.dialect == "v2":
            return httpx.Response(200, json=self._execute({"type": "getFnStatus"}))
        return httpx.Response(404, json={"error": {"code": 404, "description": f"no route {path}"}})

    def _authorized(self, request: httpx.Request) -> bool:
        expected = base64.b64encode(f"{self.user}:{self.password}".encode()).decode()
        return request.headers.get("authorization") == f"Basic {expected}"

    def _post(self, request: httpx.Request) -> httpx.Response:
        self.posts += 1
        body = json.loads(request.content, parse_float=Decimal)
        uuid = body["uuid"]
        if uuid in self.jobs:
            return httpx.Response(409, json={"error": {"code": 409, "description": "задание с таким UUID уже есть"}})
        if self.disconnected:
            return httpx.Response(409, json={"error": {"code": 2, "description": "Нет связи с ККТ"}})
        tasks = body["request"] if isinstance(body["request"], list) else [body["request"]]
        if any(job.held or job.blocked_polls or job.block_forever for job in self.jobs.values()):
            self.jobs[uuid] = Job(tasks=tasks, results=[], held=True)  # the queue is stopped behind a block
        else:
            self.jobs[uuid] = self._run(tasks, uuid)
        if self.lose_post or uuid in self.lose_post_uuid:
            self.lose_post = max(0, self.lose_post - (uuid not in self.lose_post_uuid))
            self.lose_post_uuid.discard(uuid)
            raise httpx.RemoteProtocolError("Server disconnected without sending a response.", request=request)
        return httpx.Response(201, json={"number": len(self.jobs), "uuid": uuid, "isBlocked": False})

    def _get(self, request: httpx.Request, uuid: str) -> httpx.Response:
        self.gets += 1
        job = self.jobs.get(uuid)
        if job is None:
            return httpx.Response(404, json={"error": {"code": 404, "description": "not found"}})
        if self.lose_get:
            self.lose_get -= 1
            raise httpx.ReadTimeout("timed out", request=request)
        if job.held:
            return self._answer([{"status": "wait"} for _ in job.tasks])
        if job.running_polls:
            job.running_polls -= 1
            return self._answer([{"status": "inProgress"} for _ in job.tasks])
        if job.blocked_polls or job.block_forever:
            job.blocked_polls = max(0, job.blocked_polls - 1)
            if not job.blocked_polls and not job.block_forever:
                self._release()
            blocked = {"status": "blocked", "error": {"code": 2, "description": "Нет связи"}}
            return self._answer([blocked for _ in job.tasks])
        return self._answer(job.results)

    def _delete(self, uuid: str) -> httpx.Response:
        self.deletes += 1
        if self.lose_delete:
            raise httpx.ReadTimeout("timed out", request=httpx.Request("DELETE", uuid))
        job = self.jobs.get(uuid)
        if job is None:
            return httpx.Response(404, json={"error": {"code": 404, "description": "not found"}})
        if not job.held:
            return httpx.Response(409, json={"error": {"code": 409, "description": "already running or done"}})
        job.held = False
        job.results = [{"status": "canceled", "error": {"code": 503, "description": "отменено"}} for _ in job.tasks]
        return httpx.Response(200, json={})

    def unblock(self) -> None:
        """End every block now (each blocked job shows its outcome) and run the held jobs in order."""
        for job in self.jobs.values():
            job.blocked_polls, job.block_forever = 0, False
        self._release()

    def _release(self) -> None:
        """The block ended: run the held jobs in their order, until one blocks again."""
        for uuid, job in self.jobs.items():
            if job.blocked_polls or job.block_forever:
                return
            if job.held:
                job.held = False
                ran = self._run(job.tasks, uuid)
                job.results, job.running_polls = ran.results, ran.running_polls
                job.blocked_polls, job.block_printed, job.block_forever = (
                    ran.blocked_polls,
                    ran.block_printed,
                    ran.block_forever,
                )

    def _answer(self, results: list[dict[str, Any]]) -> httpx.Response:
        if self.dialect == "legacy":
            flat = []
            for result in results:
                error = result.get("error") or {"code": 0, "description": "Ошибок нет"}
                flat.append(
                    {
                        "status": result["status"],
                        "errorCode": error["code"],
                        "errorDescription": error["description"],
                        "result": result.get("result"),
                    }
                )
            results = flat
        text = json.dumps({"results": results}, default=lambda number: f"@@{number}@@", ensure_ascii=False)
        # Decimal amounts go out as JSON numbers, as the real server writes them.
        content = re.sub(r'"@@([-0-9.]+)@@"', r"\1", text).encode("utf-8")
        return httpx.Response(200, content=content, headers={"content-type": "application/json"})

    # -- the device ---------------------------------------------------------------------------------------------

    def _run(self, tasks: list[dict[str, Any]], uuid: str = "") -> Job:
        job = Job(tasks=tasks, results=[])
        failed = False
        for task in tasks:
            if failed:
                job.results.append({"status": "interrupted", "error": {"code": 502, "description": "прервано"}})
                continue
            if task["type"] in PRINTING:
                self.printing_jobs.append(task["type"])
                plan = self.block_uuid.pop(uuid, None)
                if plan is None and self.block is not None:
                    plan, self.block = self.block, None
                if plan is not None:
                    printed, polls, forever = plan
                    job.blocked_polls, job.block_printed, job.block_forever = polls, printed, forever
                    if not printed:
                        job.results.append({"status": "error", "error": {"code": 2, "description": "Нет связи"}})
                        failed = True
                        continue
                if self.refuse or uuid in self.refuse_uuid:
                    code, text = self.refuse_uuid.pop(uuid) if uuid in self.refuse_uuid else self.refuse.pop(0)
                    job.results.append({"status": "error", "error": {"code": code, "description": text}})
                    failed = True
                    continue
            try:
                result = self._execute(task)
            except DeviceFault as fault:
                job.results.append({"status": "error", "error": {"code": fault.code, "description": fault.text}})
                failed = True
                continue
            job.results.append({"status": "ready", "error": {"code": 0, "description": "Ошибок нет"}, "result": result})
        if self.in_progress and any(task["type"] in PRINTING for task in tasks):
            job.running_polls, self.in_progress = self.in_progress, 0
        return job

    def _sign(self, doc_type: int, extra: dict[str, Any]) -> dict[str, Any]:
        number = self.fd + 1
        tlv = {
            "1000": doc_type,
            "1040": number,
            "1077": str(3_000_000_000 + number),
            "1012": f"2026-11-29T12:{number % 60:02d}:00+03:00",
            "1038": self.shift_number,
            "1041": FN_NUMBER,
            "1037": REG_NUMBER,
        } | extra
        self.documents.append(tlv)
        return {
            "fiscalDocumentNumber": number,
            "fiscalDocumentSign": tlv["1077"],
            "fiscalDocumentDateTime": tlv["1012"],
            "shiftNumber": self.shift_number,
            "fnNumber": FN_NUMBER,
            "registrationNumber": REG_NUMBER,
            "fnsUrl": "www.nalog.gov.ru",
        }

    def _execute(self, task: dict[str, Any]) -> dict[str, Any]:
        kind = task["type"]
        if kind in ("sell", "sellReturn", "sellCorrection", "sellReturnCorrection"):
            if not self.shift_open:
                raise DeviceFault(73, "Неверный режим: смена закрыта")
            total = sum(item["amount"] for item in task["items"])
            self.receipts_in_shift += 1
            operation = 2 if "Return" in kind else 1
            doc_type = 31 if "Correction" in kind else 3
            params = self._sign(doc_type, {"1020": total, "1042": self.receipts_in_shift, "1054": operation})
            return {"fiscalParams": params | {"total": total, "fiscalReceiptNumber": self.receipts_in_shift}}
        if kind == "openShift":
            if self.shift_open:
                raise DeviceFault(83, "Смена открыта - операция невозможна")
            self.shift_open, self.shift_number, self.receipts_in_shift = True, self.shift_number + 1, 0
            return {"fiscalParams": self._sign(2, {})}
        if kind == "closeShift":
            if not self.shift_open:
                raise DeviceFault(73, "Смена закрыта - операция невозможна")
            self.shift_open = False
            params = self._sign(5, {"1118": self.receipts_in_shift}) | {"receiptsCount": self.receipts_in_shift}
            params["fnTotals"] = {
                "receipts": {"sell": {"sum": Decimal("300.50"), "payments": {"cash": Decimal("300.50")}}}
            }
            params["fnQuantityCounters"] = {"receipts": {"sell": self.receipts_in_shift}}
            return {"fiscalParams": params}
        if kind == "reportX":
            return {}
        if kind == "getRegistrationInfo":
            return {"organization": {"taxationTypes": self.taxation_types}, "device": {}, "ofd": {}}
        if kind == "getShiftTotals":
            sold = {"count": self.receipts_in_shift, "sum": Decimal("300.50"), "payments": {"cash": Decimal("300.50")}}
            return {"shiftTotals": {"shiftNumber": self.shift_number, "receipts": {"sell": sold}}}
        if kind == "getShiftStatus":
            state = "opened" if self.shift_open else "closed"
            return {
                "shiftStatus": {"state": state, "number": self.shift_number, "expiredTime": "2026-11-30T09:00:00+03:00"}
            }
        if kind == "getDeviceStatus":
            return {
                "deviceStatus": {
                    "paperPresent": True,
                    "coverOpened": False,
                    "shift": "opened" if self.shift_open else "closed",
                    "blocked": False,
                }
            }
        if kind == "getFnInfo":
            return {
                "fnInfo": {
                    "serial": FN_NUMBER,
                    "validityDate": "2027-11-29T00:00:00+03:00",
                    "ffdVersion": "1.2",
                    "livePhase": "fiscalMode",
                    "warnings": {"memoryOverflow": False, "needReplacement": True},
                }
            }
        if kind == "getFnStatus":
            return {"fnStatus": {"fiscalDocumentNumber": self.fd, "fiscalReceiptNumber": self.receipts_in_shift}}
        if kind == "ofdExchangeStatus":
            first = self.fd - self.unsent + 1 if self.unsent else 0
            return {
                "status": {
                    "notSentCount": self.unsent,
                    "notSentFirstDocNumber": first,
                    "notSentFirstDocDateTime": "2026-10-01T10:00:00+03:00",
                },
                "errors": {},
            }
        if kind == "getFnDocument":
            number = task["fiscalDocumentNumber"]
            if not 1 <= number <= self.fd:
                raise DeviceFault(167, "Документ не найден в ФН")
            return {"documentTLV": self.documents[number - 1]}
        raise DeviceFault(400, f"unknown task {kind}")


class DeviceFault(Exception):
    """A task the fake device refuses."""

    def __init__(self, code: int, text: str) -> None:
        super().__init__(text)
        self.code = code
        self.text = text
