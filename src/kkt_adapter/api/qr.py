"""Receipt QR images: the FNS QR string of a signed receipt, drawn as SVG or PNG for a POS screen or an e-receipt.

The image encodes exactly ``fiscal_doc.qr_code_data`` of the stored receipt. A signed document never changes, so
the images may be cached for good. Documents without a QR string (shift reports) and unknown ids are 404s, raised as
:class:`~kkt_adapter.domain.errors.NotFound` so that they answer like every other 404.
"""

from __future__ import annotations

import asyncio
import io
from typing import Annotated, Any, Literal

import segno
from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from kkt_adapter.api import responses as r
from kkt_adapter.service import AppService

router = APIRouter()

#: A signed fiscal document, and so its QR string, never changes.
CACHE_CONTROL = "public, max-age=31536000, immutable"
SVG_MEDIA_TYPE = "image/svg+xml"
PNG_MEDIA_TYPE = "image/png"

Scale = Annotated[int, Query(ge=1, le=20, description="Size of one QR module: pixels (PNG) or SVG units, 1–20.")]

_NOT_FOUND: dict[int | str, dict[str, Any]] = {
    404: {"description": "No such receipt, or a document without a QR code (shift reports)"}
}


def _responses(media_type: str) -> dict[int | str, dict[str, Any]]:
    return r.image(media_type) | r.WITH_INPUT | {404: r.NOT_FOUND[404] | _NOT_FOUND[404]}


def render(data: str, kind: Literal["svg", "png"], *, scale: int) -> bytes:
    """The QR code of ``data`` as an SVG or PNG file (a plain QR code, never a Micro QR, with its quiet zone)."""
    out = io.BytesIO()
    segno.make_qr(data).save(out, kind=kind, scale=scale)
    return out.getvalue()


async def _image(request: Request, receipt_id: str, kind: Literal["svg", "png"], scale: int) -> Response:
    service: AppService = request.app.state.service
    data = await service.queries.qr_data(receipt_id)
    body = await asyncio.to_thread(render, data, kind, scale=scale)
    media_type = SVG_MEDIA_TYPE if kind == "svg" else PNG_MEDIA_TYPE
    return Response(content=body, media_type=media_type, headers={"Cache-Control": CACHE_CONTROL})


@router.get(
    "/v1/kkt/receipt/{receipt_id}/qr.svg",
    tags=["receipts"],
    summary="The receipt's FNS QR code as SVG",
    response_class=Response,
    responses=_responses(SVG_MEDIA_TYPE),
)
async def receipt_qr_svg(receipt_id: str, request: Request, scale: Scale = 4) -> Response:
    return await _image(request, receipt_id, "svg", scale)


@router.get(
    "/v1/kkt/receipt/{receipt_id}/qr.png",
    tags=["receipts"],
    summary="The receipt's FNS QR code as PNG",
    response_class=Response,
    responses=_responses(PNG_MEDIA_TYPE),
)
async def receipt_qr_png(receipt_id: str, request: Request, scale: Scale = 4) -> Response:
    return await _image(request, receipt_id, "png", scale)
