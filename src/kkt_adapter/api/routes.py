"""The adapter's HTTP routes (v1). No try/except here: domain errors reach HTTP through ``api.errors``."""

from __future__ import annotations

import asyncio
from typing import Annotated, Any

from fastapi import APIRouter, Header, Query, Request
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from kkt_adapter.api import views
from kkt_adapter.api.schemas import ReceiptIn
from kkt_adapter.bootstrap import Adapter
from kkt_adapter.domain.errors import NotFound, SyncDisabled
from kkt_adapter.domain.states import ReceiptState

router = APIRouter()

#: The largest DLQ offset accepted (SQLite takes a signed 64-bit OFFSET; a till's DLQ is far smaller).
MAX_OFFSET = 1_000_000_000

IdempotencyKey = Annotated[
    str,
    Header(
        alias="Idempotency-Key",
        min_length=1,
        max_length=128,
        pattern=r"^[\x21-\x7e]+$",
        description="The client's unique id of this sale (printable ASCII, 1–128 characters). A retry with the same "
        "key returns the first answer and never prints again.",
    ),
]


def _adapter(request: Request) -> Adapter:
    adapter: Adapter = request.app.state.adapter
    return adapter


@router.post("/v1/kkt/receipt", tags=["receipts"], summary="Accept a sale or refund and print it on the KKT")
async def post_receipt(body: ReceiptIn, request: Request, idempotency_key: IdempotencyKey) -> Response:
    receipt = body.to_receipt()
    response = await _adapter(request).fiscalizer.accept(receipt, key=idempotency_key)
    return Response(content=response, media_type="application/json")


@router.get("/v1/kkt/receipt/{receipt_id}", tags=["receipts"], summary="One receipt: state, fiscal data, sync")
async def get_receipt(receipt_id: str, request: Request) -> dict[str, Any]:
    stored = await asyncio.to_thread(_adapter(request).buffer.get, receipt_id)
    if stored is None:
        raise NotFound(f"no receipt {receipt_id!r}")
    return views.receipt(stored)


@router.get("/v1/kkt/buffer/status", tags=["buffer"], summary="Buffer occupancy and counts")
async def buffer_status(request: Request) -> dict[str, Any]:
    return await _adapter(request).status.buffer_status()


@router.get("/v1/health", tags=["health"], summary="healthy, degraded or unhealthy (503), with reasons")
async def health(request: Request) -> JSONResponse:
    body = await _adapter(request).status.health()
    return JSONResponse(body, status_code=503 if body["status"] == "unhealthy" else 200)


@router.get("/v1/kkt/heartbeat/status", tags=["health"], summary="The ERP heartbeat's state")
async def heartbeat_status(request: Request) -> dict[str, Any]:
    return _adapter(request).status.heartbeat_status()


@router.get("/metrics", tags=["health"], summary="Prometheus metrics (text format)")
async def metrics(request: Request) -> Response:
    adapter = _adapter(request)
    adapter.metrics.latest = await adapter.status.metrics_snapshot()
    body = await asyncio.to_thread(generate_latest, adapter.metrics.registry)
    return Response(content=body, media_type=CONTENT_TYPE_LATEST)


@router.post("/v1/kkt/buffer/sync", tags=["sync"], summary="Run a sync pass now (same claiming as the worker)")
async def sync_now(request: Request) -> dict[str, Any]:
    delivery = _adapter(request).delivery
    if delivery.worker is None:
        raise SyncDisabled("sync is off: set KKT_OFD_API_URL (or KKT_MODE=mock for the embedded mock OFD)")
    result = await delivery.worker.step()
    return result.to_dict() | {"circuit_breaker": delivery.breaker_snapshot()}


@router.get("/v1/kkt/worker/status", tags=["sync"], summary="Sync worker state, last pass, next wake")
async def worker_status(request: Request) -> dict[str, Any]:
    delivery = _adapter(request).delivery
    if delivery.worker is None:
        return {"state": "disabled", "sync_mode": delivery.sync_mode, "circuit_breaker": delivery.breaker_snapshot()}
    return delivery.worker.status() | {"sync_mode": delivery.sync_mode, "ofd_url": delivery.ofd_url}


@router.get("/v1/kkt/dlq", tags=["sync"], summary="Dead letters: receipts the OFD did not take, with the reason")
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


@router.post("/v1/kkt/dlq/{receipt_id}/requeue", tags=["sync"], summary="Send a dead letter again")
async def requeue(receipt_id: str, request: Request) -> dict[str, Any]:
    adapter = _adapter(request)
    if not await asyncio.to_thread(adapter.outbox.requeue, receipt_id):
        raise NotFound(f"no receipt {receipt_id!r} in the DLQ")
    adapter.delivery.wake()
    return {"receipt_id": receipt_id, "state": ReceiptState.PENDING.value}
