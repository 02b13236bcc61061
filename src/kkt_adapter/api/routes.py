"""The adapter's HTTP routes (v1): each calls the application service (:mod:`kkt_adapter.service`) and shapes its
answer. No try/except here: domain errors reach HTTP through ``api.errors``."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Query, Request
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST
from pydantic import BaseModel, ConfigDict, Field, StrictInt, StringConstraints

from kkt_adapter.api import responses as r
from kkt_adapter.api.device_answers import DevicesOut, FnOut, ShiftOpenedOut, ShiftOut, XReportOut, ZReportOut
from kkt_adapter.api.receipt_answers import ReceiptAnswerOut, ReceiptViewOut, RefundCheckOut
from kkt_adapter.api.request_rules import DeviceQuery, IdempotencyKey, known_device, request_key, text_rule
from kkt_adapter.api.schemas import CorrectionIn, ReceiptIn, ShiftIn
from kkt_adapter.api.status_answers import (
    BufferStatusOut,
    DeadLettersOut,
    HealthOrError,
    HealthOut,
    HeartbeatOut,
    RequeuedOut,
    SyncPassOut,
    WorkerStatusOut,
)
from kkt_adapter.domain.ffd_codes import MAX_UINT32
from kkt_adapter.service import AppService

router = APIRouter()


class RefundCheckIn(BaseModel):
    """The ERP's refund check: the sale by its receipt id or its FD number."""

    model_config = ConfigDict(extra="forbid")

    original_fiscal_doc_id: Annotated[
        Annotated[StrictInt, Field(ge=1, le=MAX_UINT32)]
        | Annotated[str, StringConstraints(min_length=1, max_length=64)],
        Field(description="The sale's receipt_id, or its fiscal document number"),
    ]


#: The shift routes' optional body: the cashier of the shift report.
ShiftBody = Annotated[ShiftIn | None, Body()]

#: The largest DLQ offset accepted (SQLite takes a signed 64-bit OFFSET; a till's DLQ is far smaller).
MAX_OFFSET = 1_000_000_000


def _service(request: Request) -> AppService:
    service: AppService = request.app.state.service
    return service


@router.post(
    "/v1/kkt/receipt",
    tags=["receipts"],
    summary="Accept a sale or refund and print it on the KKT",
    responses=r.ok(ReceiptAnswerOut, "Printed, or the replay of a printed key (the identical bytes)")
    | r.POST
    | r.IN_FLIGHT
    | r.UNPROCESSABLE,
)
async def post_receipt(body: ReceiptIn, request: Request, idempotency_key: IdempotencyKey = None) -> Response:
    service = _service(request)
    key = request_key(service, idempotency_key, body)
    text_rule(request.app.state.text_policy, body)
    response = await service.receipts.accept(body.to_receipt(), key=key, device=body.device)
    return Response(content=response, media_type="application/json")


@router.post(
    "/v1/kkt/correction",
    tags=["receipts"],
    summary="Print a correction receipt (document type 31)",
    responses=r.ok(ReceiptAnswerOut, "Printed, or the replay of a printed key (the identical bytes)")
    | r.POST
    | r.IN_FLIGHT
    | r.UNPROCESSABLE,
)
async def post_correction(body: CorrectionIn, request: Request, idempotency_key: IdempotencyKey = None) -> Response:
    service = _service(request)
    key = request_key(service, idempotency_key, body)
    text_rule(request.app.state.text_policy, body)
    response = await service.receipts.accept(body.to_correction(), key=key, device=body.device)
    return Response(content=response, media_type="application/json")


@router.post(
    "/v1/pos/refund",
    tags=["receipts"],
    summary="May this sale be refunded now? (the ERP's refund check)",
    responses=r.ok(RefundCheckOut, "Allowed: the sale reached the OFD")
    | r.POST
    | r.NOT_FOUND
    | {409: {"model": RefundCheckOut, "description": "Not allowed now: the sale is not synced (or not printed)"}}
    | r.UNPROCESSABLE,
)
async def refund_check(body: RefundCheckIn, request: Request) -> JSONResponse:
    check = await _service(request).fiscal_day.refund_check(body.original_fiscal_doc_id)
    return JSONResponse(check.as_dict(), status_code=200 if check.allowed else 409)


@router.get(
    "/v1/kkt/shift",
    tags=["shift"],
    summary="The shift: open or not, number, expiry, receipts",
    responses=r.ok(ShiftOut) | r.COMMON | r.UNPROCESSABLE,
)
async def shift_status(request: Request, device: DeviceQuery = None) -> dict[str, Any]:
    service = _service(request)
    return await service.fiscal_day.shift(known_device(service, device, "query"))


@router.post(
    "/v1/kkt/shift/open",
    tags=["shift"],
    summary="Open a shift (prints the shift opening report)",
    responses=r.ok(ShiftOpenedOut) | r.POST | r.CONFLICT | r.UNPROCESSABLE,
)
async def shift_open(
    request: Request, idempotency_key: IdempotencyKey = None, device: DeviceQuery = None, body: ShiftBody = None
) -> dict[str, Any]:
    service = _service(request)
    cashier = None if body is None else body.to_cashier()
    return await service.fiscal_day.open_shift(
        device=known_device(service, device, "query"), key=idempotency_key, cashier=cashier
    )


@router.post(
    "/v1/kkt/shift/close",
    tags=["shift"],
    summary="Close the shift: the Z report",
    responses=r.ok(ZReportOut) | r.POST | r.CONFLICT | r.UNPROCESSABLE,
)
@router.post(
    "/v1/kkt/z_report",
    tags=["shift"],
    summary="The Z report (the ERP's path for closing the shift)",
    responses=r.ok(ZReportOut) | r.POST | r.CONFLICT | r.UNPROCESSABLE,
)
async def shift_close(
    request: Request, idempotency_key: IdempotencyKey = None, device: DeviceQuery = None, body: ShiftBody = None
) -> dict[str, Any]:
    service = _service(request)
    cashier = None if body is None else body.to_cashier()
    return await service.fiscal_day.close_shift(
        device=known_device(service, device, "query"), key=idempotency_key, cashier=cashier
    )


@router.post(
    "/v1/kkt/x_report",
    tags=["shift"],
    summary="The X report: the open shift's counters (not fiscal)",
    responses=r.ok(XReportOut) | r.POST | r.CONFLICT | r.UNPROCESSABLE,
)
async def x_report(request: Request, device: DeviceQuery = None) -> dict[str, Any]:
    service = _service(request)
    return await service.fiscal_day.x_report(known_device(service, device, "query"))


@router.get(
    "/v1/kkt/fn",
    tags=["shift"],
    summary="The fiscal drive: validity, unsent documents, warnings",
    responses=r.ok(FnOut) | r.COMMON | r.UNPROCESSABLE,
)
async def fn_status(request: Request, device: DeviceQuery = None) -> dict[str, Any]:
    service = _service(request)
    return await service.fiscal_day.fn(known_device(service, device, "query"))


@router.get(
    "/v1/kkt/devices",
    tags=["shift"],
    summary="Every device: primary or not, usable, faults, shift, FN, last document, last refusal",
    responses=r.ok(DevicesOut) | r.COMMON,
)
async def devices(request: Request) -> dict[str, Any]:
    return await _service(request).queries.devices()


@router.get(
    "/v1/kkt/receipt/{receipt_id}",
    tags=["receipts"],
    summary="One receipt: state, fiscal data, sync",
    responses=r.ok(ReceiptViewOut) | r.WITH_INPUT | r.NOT_FOUND,
)
async def get_receipt(receipt_id: str, request: Request) -> dict[str, Any]:
    return await _service(request).queries.receipt(receipt_id)


@router.get(
    "/v1/kkt/buffer/status",
    tags=["buffer"],
    summary="Buffer occupancy and counts",
    responses=r.ok(BufferStatusOut) | r.COMMON,
)
async def buffer_status(request: Request) -> dict[str, Any]:
    return await _service(request).queries.buffer_status()


@router.get(
    "/v1/health",
    tags=["health"],
    summary="healthy, degraded or unhealthy (503), with reasons",
    responses=r.ok(HealthOut, "healthy or degraded")
    | r.BAD_HOST
    | r.HEADERS_TOO_LARGE
    | {503: {"model": HealthOrError, "description": "unhealthy (the health body), or the storage failed"}},
)
async def health(request: Request) -> JSONResponse:
    body = await _service(request).queries.health()
    return JSONResponse(body, status_code=503 if body["status"] == "unhealthy" else 200)


@router.get(
    "/v1/kkt/heartbeat/status",
    tags=["health"],
    summary="The ERP heartbeat's state",
    responses=r.ok(HeartbeatOut) | r.COMMON,
)
async def heartbeat_status(request: Request) -> dict[str, Any]:
    return _service(request).queries.heartbeat_status()


@router.get(
    "/metrics",
    tags=["health"],
    summary="Prometheus metrics (text format)",
    response_class=Response,
    responses=r.METRICS | r.COMMON,
)
async def metrics(request: Request) -> Response:
    body = await _service(request).queries.metrics()
    return Response(content=body, media_type=CONTENT_TYPE_LATEST)


@router.post(
    "/v1/kkt/buffer/sync",
    tags=["sync"],
    summary="Run a sync pass now (same claiming as the worker)",
    responses=r.ok(SyncPassOut) | r.POST | {409: r.CONFLICT[409] | {"description": "Sync is off (sync_disabled)."}},
)
async def sync_now(request: Request) -> dict[str, Any]:
    return await _service(request).sync.sync_now()


@router.get(
    "/v1/kkt/worker/status",
    tags=["sync"],
    summary="Sync worker state, last pass, next wake",
    responses=r.ok(WorkerStatusOut) | r.COMMON,
)
async def worker_status(request: Request) -> dict[str, Any]:
    return _service(request).sync.worker_status()


@router.get(
    "/v1/kkt/dlq",
    tags=["sync"],
    summary="Dead letters: receipts the OFD did not take, with the reason",
    responses=r.ok(DeadLettersOut) | r.WITH_INPUT,
)
async def dead_letters(
    request: Request,
    limit: Annotated[int, Query(ge=1, le=1000, description="Page size, 1–1000.")] = 100,
    offset: Annotated[int, Query(ge=0, le=MAX_OFFSET, description=f"Rows to skip, 0–{MAX_OFFSET}.")] = 0,
) -> dict[str, Any]:
    return await _service(request).dlq.page(limit=limit, offset=offset)


@router.post(
    "/v1/kkt/dlq/{receipt_id}/requeue",
    tags=["sync"],
    summary="Send a dead letter again",
    responses=r.ok(RequeuedOut) | r.POST | r.NOT_FOUND | r.UNPROCESSABLE,
)
async def requeue(receipt_id: str, request: Request) -> dict[str, Any]:
    return await _service(request).dlq.requeue(receipt_id)
