"""The operator's page (``GET /ui``) and the read-only JSON it needs beyond the v1 API.

The page is plain HTML with a small script and a stylesheet shipped in the package (``api/ui_assets/``): no build
step, nothing loaded from elsewhere, so it works on a till that is offline. The script reads the v1 endpoints every
couple of seconds and sends the few actions (X report, Z report, requeue) as POSTs.

Two reads exist for the page and are public like the rest of v1: the latest receipts with a search
(``GET /v1/kkt/receipts``) and one receipt's audit events (``GET /v1/kkt/receipt/{id}/events``); both are queries of
the application service (:class:`~kkt_adapter.service.queries.Queries`), whose SQL lives in the buffer
(:mod:`kkt_adapter.buffer.listing`).
"""

from __future__ import annotations

import asyncio
import html
import re
from functools import cache
from importlib import resources
from string import Template
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response

from kkt_adapter import __version__
from kkt_adapter.api import responses as r
from kkt_adapter.api.receipt_answers import EventListOut, ReceiptListOut
from kkt_adapter.api.request_rules import known_device
from kkt_adapter.domain.errors import NotFound
from kkt_adapter.service import AppService
from kkt_adapter.service.queries import MIN_PREFIX

router = APIRouter()

#: Files the page may load from ``/ui/assets/``, by suffix; anything else is a 404 (no path is ever joined).
MEDIA_TYPES = {".js": "text/javascript", ".css": "text/css", ".svg": "image/svg+xml"}
_ASSET_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]*\.(js|css|svg)$")
#: The page runs only its own files; QR images may come as blobs when a token is needed to fetch them.
CONTENT_SECURITY_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' blob:; connect-src 'self'; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)
#: The largest search string (an idempotency key is at most 128 characters; a receipt id is a UUID).
MAX_QUERY = 128


def _service(request: Request) -> AppService:
    service: AppService = request.app.state.service
    return service


@cache
def _asset(name: str) -> bytes:
    return resources.files("kkt_adapter.api").joinpath("ui_assets", name).read_bytes()


@router.get("/ui", response_class=HTMLResponse, include_in_schema=False)
async def page(request: Request) -> HTMLResponse:
    """The operator's page: state at a glance, latest receipts, search, one receipt, the DLQ and the reports."""
    service = _service(request)
    template = await asyncio.to_thread(_asset, "index.html")
    body = Template(template.decode()).substitute(
        adapter_id=html.escape(service.adapter_id), version=html.escape(__version__)
    )
    headers = {"Content-Security-Policy": CONTENT_SECURITY_POLICY, "Cache-Control": "no-store"}
    return HTMLResponse(body, headers=headers)


@router.get("/ui/assets/{name}", include_in_schema=False)
async def asset(name: str) -> Response:
    """One of the page's own files."""
    if not _ASSET_NAME.match(name):
        raise NotFound(f"no asset {name!r}")
    try:
        body = await asyncio.to_thread(_asset, name)
    except FileNotFoundError as exc:
        raise NotFound(f"no asset {name!r}") from exc
    suffix = name[name.rindex(".") :]
    return Response(body, media_type=MEDIA_TYPES[suffix], headers={"Cache-Control": "no-cache"})


@router.get(
    "/v1/kkt/receipts",
    tags=["receipts"],
    summary="The latest documents, or those matching a search",
    responses=r.ok(ReceiptListOut) | r.WITH_INPUT,
)
async def receipts(
    request: Request,
    limit: Annotated[int, Query(ge=1, le=200, description="How many, 1–200, newest first.")] = 20,
    q: Annotated[
        str | None,
        Query(
            min_length=1,
            max_length=MAX_QUERY,
            description=f"A receipt id, an idempotency key (either or its first {MIN_PREFIX}+ characters), or an FD "
            "number.",
        ),
    ] = None,
    device: Annotated[
        str | None, Query(min_length=1, max_length=64, description="Only this device's documents (KKT_DEVICES).")
    ] = None,
) -> dict[str, Any]:
    service = _service(request)
    return await service.queries.latest(limit=limit, search=q, device=known_device(service, device, "query"))


@router.get(
    "/v1/kkt/receipt/{receipt_id}/events",
    tags=["receipts"],
    summary="One receipt's audit trail, oldest first",
    responses=r.ok(EventListOut) | r.WITH_INPUT | r.NOT_FOUND,
)
async def receipt_events(
    receipt_id: str,
    request: Request,
    limit: Annotated[int, Query(ge=1, le=1000, description="The newest events, 1–1000.")] = 100,
) -> dict[str, Any]:
    return await _service(request).queries.events(receipt_id, limit=limit)
