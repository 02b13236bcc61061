"""The adapter's HTTP routes (v1). No try/except here: domain errors reach HTTP through ``api.errors``."""

from __future__ import annotations

import asyncio
from dataclasses import asdict
from typing import Annotated, Any

from fastapi import APIRouter, Header, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from pydantic import BaseModel, ConfigDict, Field, StrictInt, StringConstraints

from kkt_adapter.api import responses as r
from kkt_adapter.api import views
from kkt_adapter.api.device_answers import DevicesOut, FnOut, ShiftOpenedOut, ShiftOut, XReportOut, ZReportOut
from kkt_adapter.api.receipt_answers import ReceiptAnswerOut, ReceiptViewOut, RefundCheckOut
from kkt_adapter.api.schemas import CorrectionIn, ReceiptIn
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
from kkt_adapter.bootstrap import Adapter
from kkt_adapter.domain.errors import NotFound, SyncDisabled
from kkt_adapter.domain.ffd_codes import MAX_UINT32
from kkt_adapter.domain.states import ReceiptState
from kkt_adapter.intake.devices import DeviceUnit

router = APIRouter()


class RefundCheckIn(BaseModel):
    """The ERP's refund check: the sale by its receipt id or its FD number."""

    model_config = ConfigDict(extra="forbid")

    original_fiscal_doc_id: Annotated[
        Annotated[StrictInt, Field(ge=1, le=MAX_UINT32)]
        | Annotated[str, StringConstraints(min_length=1, max_length=64)],
        Field(description="The sale's receipt_id, or its fiscal document number"),
    ]


#: The largest DLQ offset accepted (SQLite takes a signed 64-bit OFFSET; a till's DLQ is far smaller).
MAX_OFFSET = 1_000_000_000

IdempotencyKey = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        min_length=1,
        max_length=128,
        pattern=r"^[\x21-\x7e]+$",
        description="The client's unique id of this sale (printable ASCII, 1–128 characters). A retry with the same "
        "key returns the first answer and never prints again.",
    ),
]


DeviceQuery = Annotated[
    str | None,
    Query(
        pattern=r"^[A-Za-z0-9_-]{1,32}$",
        description="The device (a name from KKT_DEVICES); the primary when absent.",
    ),
]


def _device(adapter: Adapter, name: str | None, where: str) -> str | None:
    """``name`` if it is a configured device (or ``None``); else a 422 on ``where``'s ``device``."""
    if name is not None and not adapter.devices.knows(name):
        allowed = ", ".join(adapter.devices.names)
        raise RequestValidationError(
            [_problem(where, "device", f"unknown device {name!r}: the configured devices are {allowed}", "value_error")]
        )
    return name


def _unit(request: Request, name: str | None) -> DeviceUnit:
    adapter = _adapter(request)
    return adapter.devices.get(_device(adapter, name, "query"))


def _adapter(request: Request) -> Adapter:
    adapter: Adapter = request.app.state.adapter
    return adapter


def _key(header: str | None, body: str | None) -> str:
    """The request's idempotency key: the header, or the body's ``idempotency_key`` for clients that cannot set one."""
    if header is not None and body is not None and header != body:
        raise RequestValidationError(
            [_problem("body", "idempotency_key", "differs from the Idempotency-Key header: send one key", "conflict")]
        )
    key = header if header is not None else body
    if key is None:
        raise RequestValidationError(
            [
                _problem(
                    "header",
                    "Idempotency-Key",
                    "an Idempotency-Key header (or a body field idempotency_key) "
                    "is required: the client's unique id of this sale",
                    "missing",
                )
            ]
        )
    return key


def _problem(where: str, name: str, message: str, kind: str) -> dict[str, Any]:
    return {"loc": (where, name), "msg": message, "type": kind}


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
    key = _key(idempotency_key, body.idempotency_key)
    adapter = _adapter(request)
    device = _device(adapter, body.device, "body")
    response = await adapter.devices.accept(body.to_receipt(), key=key, device=device)
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
    key = _key(idempotency_key, body.idempotency_key)
    adapter = _adapter(request)
    device = _device(adapter, body.device, "body")
    response = await adapter.devices.accept(body.to_correction(), key=key, device=device)
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
    sale = await asyncio.to_thread(_adapter(request).buffer.find, body.original_fiscal_doc_id)
    if sale is None:
        raise NotFound(f"no receipt {body.original_fiscal_doc_id!r} (give its receipt_id or its FD number)")
    if sale.state is ReceiptState.SYNCED:
        return JSONResponse({"allowed": True, "receipt_id": sale.receipt_id, "sync_status": sale.state.value})
    reason = (
        f"the sale has not reached the OFD yet (state {sale.state.value}): refund it once it is synced"
        if sale.state.unsynced
        else f"the sale was not printed (state {sale.state.value}): there is nothing to refund"
    )
    body_out = {"allowed": False, "reason": reason, "receipt_id": sale.receipt_id, "sync_status": sale.state.value}
    return JSONResponse(body_out, status_code=409)


@router.get(
    "/v1/kkt/shift",
    tags=["shift"],
    summary="The shift: open or not, number, expiry, receipts",
    responses=r.ok(ShiftOut) | r.COMMON | r.UNPROCESSABLE,
)
async def shift_status(request: Request, device: DeviceQuery = None) -> dict[str, Any]:
    unit = _unit(request, device)
    return await unit.shifts.status() | {"device": unit.name}


@router.post(
    "/v1/kkt/shift/open",
    tags=["shift"],
    summary="Open a shift (prints the shift opening report)",
    responses=r.ok(ShiftOpenedOut) | r.POST | r.CONFLICT | r.UNPROCESSABLE,
)
async def shift_open(
    request: Request, idempotency_key: IdempotencyKey = None, device: DeviceQuery = None
) -> dict[str, Any]:
    unit = _unit(request, device)
    return await unit.shifts.open(key=idempotency_key) | {"device": unit.name}


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
    request: Request, idempotency_key: IdempotencyKey = None, device: DeviceQuery = None
) -> dict[str, Any]:
    unit = _unit(request, device)
    return await unit.shifts.close(key=idempotency_key) | {"device": unit.name}


@router.post(
    "/v1/kkt/x_report",
    tags=["shift"],
    summary="The X report: the open shift's counters (not fiscal)",
    responses=r.ok(XReportOut) | r.POST | r.CONFLICT | r.UNPROCESSABLE,
)
async def x_report(request: Request, device: DeviceQuery = None) -> dict[str, Any]:
    unit = _unit(request, device)
    return await unit.shifts.x_report() | {"device": unit.name}


@router.get(
    "/v1/kkt/fn",
    tags=["shift"],
    summary="The fiscal drive: validity, unsent documents, warnings",
    responses=r.ok(FnOut) | r.COMMON | r.UNPROCESSABLE,
)
async def fn_status(request: Request, device: DeviceQuery = None) -> dict[str, Any]:
    unit = _unit(request, device)
    status = await unit.lane.run(unit.driver.fn_status)
    return asdict(status) | {"warnings": list(status.warnings), "device": unit.name}


@router.get(
    "/v1/kkt/devices",
    tags=["shift"],
    summary="Every device: primary or not, usable, faults, shift, FN, last document, last refusal",
    responses=r.ok(DevicesOut) | r.COMMON,
)
async def devices(request: Request) -> dict[str, Any]:
    return await _adapter(request).status.devices_view()


@router.get(
    "/v1/kkt/receipt/{receipt_id}",
    tags=["receipts"],
    summary="One receipt: state, fiscal data, sync",
    responses=r.ok(ReceiptViewOut) | r.WITH_INPUT | r.NOT_FOUND,
)
async def get_receipt(receipt_id: str, request: Request) -> dict[str, Any]:
    stored = await asyncio.to_thread(_adapter(request).buffer.get, receipt_id)
    if stored is None:
        raise NotFound(f"no receipt {receipt_id!r}")
    return views.receipt(stored)


@router.get(
    "/v1/kkt/buffer/status",
    tags=["buffer"],
    summary="Buffer occupancy and counts",
    responses=r.ok(BufferStatusOut) | r.COMMON,
)
async def buffer_status(request: Request) -> dict[str, Any]:
    return await _adapter(request).status.buffer_status()


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
    body = await _adapter(request).status.health()
    return JSONResponse(body, status_code=503 if body["status"] == "unhealthy" else 200)


@router.get(
    "/v1/kkt/heartbeat/status",
    tags=["health"],
    summary="The ERP heartbeat's state",
    responses=r.ok(HeartbeatOut) | r.COMMON,
)
async def heartbeat_status(request: Request) -> dict[str, Any]:
    return _adapter(request).status.heartbeat_status()


@router.get(
    "/metrics",
    tags=["health"],
    summary="Prometheus metrics (text format)",
    response_class=Response,
    responses=r.METRICS | r.COMMON,
)
async def metrics(request: Request) -> Response:
    adapter = _adapter(request)
    adapter.metrics.latest = await adapter.status.metrics_snapshot()
    body = await asyncio.to_thread(generate_latest, adapter.metrics.registry)
    return Response(content=body, media_type=CONTENT_TYPE_LATEST)


@router.post(
    "/v1/kkt/buffer/sync",
    tags=["sync"],
    summary="Run a sync pass now (same claiming as the worker)",
    responses=r.ok(SyncPassOut) | r.POST | {409: r.CONFLICT[409] | {"description": "Sync is off (sync_disabled)."}},
)
async def sync_now(request: Request) -> dict[str, Any]:
    delivery = _adapter(request).delivery
    if delivery.tracker is not None:
        raise SyncDisabled("the KKT delivers its own documents (KKT_OFD_DELIVERY=device): the adapter sends nothing")
    if delivery.worker is None:
        raise SyncDisabled("sync is off: set KKT_OFD_API_URL (or KKT_MODE=mock for the embedded mock OFD)")
    result = await delivery.worker.step()
    return result.to_dict() | {"circuit_breaker": delivery.breaker_snapshot()}


@router.get(
    "/v1/kkt/worker/status",
    tags=["sync"],
    summary="Sync worker state, last pass, next wake",
    responses=r.ok(WorkerStatusOut) | r.COMMON,
)
async def worker_status(request: Request) -> dict[str, Any]:
    delivery = _adapter(request).delivery
    if delivery.tracker is not None:
        answer = delivery.tracker.status() | {"sync_mode": "device", "circuit_breaker": delivery.breaker_snapshot()}
        if len(delivery.trackers) > 1:  # several devices: each one's tracker, the primary's above
            answer["devices"] = {tracker.device: tracker.status() for tracker in delivery.trackers}
        return answer
    if delivery.worker is None:
        return {"state": "disabled", "sync_mode": delivery.sync_mode, "circuit_breaker": delivery.breaker_snapshot()}
    return delivery.worker.status() | {"sync_mode": delivery.sync_mode, "ofd_url": delivery.ofd_url}


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
    adapter = _adapter(request)
    items, counts = await asyncio.gather(
        asyncio.to_thread(adapter.outbox.dead_letters, limit=limit, offset=offset),
        asyncio.to_thread(adapter.buffer.counts),
    )
    return {"items": items, "count": counts.dlq}


@router.post(
    "/v1/kkt/dlq/{receipt_id}/requeue",
    tags=["sync"],
    summary="Send a dead letter again",
    responses=r.ok(RequeuedOut) | r.POST | r.NOT_FOUND | r.UNPROCESSABLE,
)
async def requeue(receipt_id: str, request: Request) -> dict[str, Any]:
    adapter = _adapter(request)
    if not await asyncio.to_thread(adapter.outbox.requeue, receipt_id):
        raise NotFound(f"no receipt {receipt_id!r} in the DLQ")
    adapter.delivery.wake()
    return {"receipt_id": receipt_id, "state": ReceiptState.PENDING.value}
