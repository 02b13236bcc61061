"""The operator's page (``GET /ui``) and the read-only JSON it needs beyond the v1 API.

The page is plain HTML with a small script and a stylesheet shipped in the package (``api/ui_assets/``): no build
step, nothing loaded from elsewhere, so it works on a till that is offline. The script reads the v1 endpoints every
couple of seconds and sends the few actions (X report, Z report, requeue) as POSTs.

Two reads exist for the page and are public like the rest of v1: the latest receipts with a search
(``GET /v1/kkt/receipts``) and one receipt's audit events (``GET /v1/kkt/receipt/{id}/events``). SQLite is read in
a worker thread on that thread's read connection, as every other read.
"""

from __future__ import annotations

import asyncio
import html
import re
import sqlite3
from functools import cache
from importlib import resources
from string import Template
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response

from kkt_adapter import __version__
from kkt_adapter.api import responses as r
from kkt_adapter.api import views
from kkt_adapter.api.receipt_answers import EventListOut, ReceiptListOut
from kkt_adapter.bootstrap import Adapter
from kkt_adapter.buffer import StoredReceipt
from kkt_adapter.buffer.store import Buffer
from kkt_adapter.domain.errors import NotFound

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
#: The shortest query that also matches the beginnings of ids and keys (a UUID's first group).
MIN_PREFIX = 8
#: Above every character: ``[q, q + _PREFIX_END)`` is the range of strings that start with ``q``.
_PREFIX_END = "\U0010ffff"
#: A document by FD number through the (fn_number, fd_number) index: the buffer's few FN numbers are walked first
#: (one index step each), so the lookup never scans the table.
_BY_FD_NUMBER = """
WITH RECURSIVE fns(fn) AS (
    SELECT MIN(fn_number) FROM receipts WHERE fd_number IS NOT NULL
    UNION ALL
    SELECT (SELECT MIN(fn_number) FROM receipts WHERE fd_number IS NOT NULL AND fn_number > fn) FROM fns
    WHERE fn IS NOT NULL
)
SELECT * FROM receipts WHERE fn_number IN (SELECT fn FROM fns) AND fd_number = ? ORDER BY seq DESC LIMIT ?
"""


def _adapter(request: Request) -> Adapter:
    adapter: Adapter = request.app.state.adapter
    return adapter


@cache
def _asset(name: str) -> bytes:
    return resources.files("kkt_adapter.api").joinpath("ui_assets", name).read_bytes()


@router.get("/ui", response_class=HTMLResponse, include_in_schema=False)
async def page(request: Request) -> HTMLResponse:
    """The operator's page: state at a glance, latest receipts, search, one receipt, the DLQ and the reports."""
    adapter = _adapter(request)
    template = await asyncio.to_thread(_asset, "index.html")
    body = Template(template.decode()).substitute(
        adapter_id=html.escape(adapter.settings.adapter_id), version=html.escape(__version__)
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
) -> dict[str, Any]:
    buffer = _adapter(request).buffer
    query = None if q is None else q.strip() or None
    found = await asyncio.to_thread(latest, buffer, limit=limit, query=query)
    return {"items": [_row(stored) for stored in found], "count": len(found), "q": query}


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
    buffer = _adapter(request).buffer
    stored = await asyncio.to_thread(buffer.get, receipt_id)
    if stored is None:
        raise NotFound(f"no receipt {receipt_id!r}")
    events = await asyncio.to_thread(buffer.events, receipt_id=receipt_id, limit=limit)
    return {"receipt_id": receipt_id, "items": events}


def latest(buffer: Buffer, *, limit: int, query: str | None = None) -> list[StoredReceipt]:
    """The newest ``limit`` documents, or those whose id or key is ``query`` (or starts with it, from
    :data:`MIN_PREFIX` characters on) or whose FD number it is; newest first. Every lookup goes by an index."""
    with buffer.db.read() as conn:
        if query is None:
            rows = conn.execute("SELECT * FROM receipts ORDER BY seq DESC LIMIT ?", (limit,)).fetchall()
        else:
            rows = _search(conn, query, limit)
    return [StoredReceipt.from_row(row) for row in rows]


def _search(conn: sqlite3.Connection, query: str, limit: int) -> list[sqlite3.Row]:
    found: dict[int, sqlite3.Row] = {}
    for column in ("receipt_id", "idempotency_key"):
        if len(query) >= MIN_PREFIX:
            sql = f"SELECT * FROM receipts WHERE {column} >= ? AND {column} < ? ORDER BY {column} LIMIT ?"
            args: tuple[Any, ...] = (query, query + _PREFIX_END, limit)
        else:
            # A short query matches whole values only: "42" is FD number 42, not every id that starts with "42".
            sql, args = f"SELECT * FROM receipts WHERE {column} = ?", (query,)
        for row in conn.execute(sql, args):
            found[row["seq"]] = row
    if query.isdigit() and len(query) <= 18:
        for row in conn.execute(_BY_FD_NUMBER, (int(query), limit)):
            found[row["seq"]] = row
    return [found[seq] for seq in sorted(found, reverse=True)[:limit]]


def _row(stored: StoredReceipt) -> dict[str, Any]:
    return views.receipt(stored) | {"idempotency_key": stored.idempotency_key}
