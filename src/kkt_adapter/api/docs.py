"""The API's own documentation, ``/docs`` (Swagger UI) and ``/redoc`` (ReDoc), served from files installed with the
adapter: a till without internet reads them as well as one with it.

FastAPI's own pages load Swagger UI and ReDoc from a CDN (and ReDoc its fonts from Google), a blank page offline.
The script and stylesheet files come from the kept ``fastapi-offline`` package (its ``static/`` folder, MIT); this
module only serves them under ``/docs/assets/`` and builds the two pages with FastAPI's own helpers pointing there.
"""

from __future__ import annotations

import asyncio
from functools import cache
from importlib import resources

from fastapi import APIRouter, Request
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html, get_swagger_ui_oauth2_redirect_html
from fastapi.responses import HTMLResponse, Response

from kkt_adapter.domain.errors import NotFound

router = APIRouter()

ASSETS = "/docs/assets"
#: The files served, by name, with their media types (no other name is ever looked up).
FILES = {
    "swagger-ui-bundle.js": "text/javascript",
    "swagger-ui.css": "text/css",
    "redoc.standalone.js": "text/javascript",
    "favicon.png": "image/png",
}
OAUTH2_REDIRECT = "/docs/oauth2-redirect"


@cache
def _file(name: str) -> bytes:
    return resources.files("fastapi_offline").joinpath("static", name).read_bytes()


def _root(request: Request) -> str:
    root: str = request.scope.get("root_path", "")
    return root


@router.get("/docs", include_in_schema=False)
async def swagger_ui(request: Request) -> HTMLResponse:
    """Swagger UI on the adapter's OpenAPI description, from the adapter's own files."""
    root = _root(request)
    return get_swagger_ui_html(
        openapi_url=f"{root}{request.app.openapi_url}",
        title=f"{request.app.title} — Swagger UI",
        oauth2_redirect_url=f"{root}{OAUTH2_REDIRECT}",
        swagger_js_url=f"{root}{ASSETS}/swagger-ui-bundle.js",
        swagger_css_url=f"{root}{ASSETS}/swagger-ui.css",
        swagger_favicon_url=f"{root}{ASSETS}/favicon.png",
    )


@router.get(OAUTH2_REDIRECT, include_in_schema=False)
async def swagger_ui_redirect() -> HTMLResponse:
    """Swagger UI's OAuth2 redirect page (it holds its script inline)."""
    return get_swagger_ui_oauth2_redirect_html()


@router.get("/redoc", include_in_schema=False)
async def redoc(request: Request) -> HTMLResponse:
    """ReDoc on the adapter's OpenAPI description, with the system's fonts instead of Google's."""
    root = _root(request)
    return get_redoc_html(
        openapi_url=f"{root}{request.app.openapi_url}",
        title=f"{request.app.title} — ReDoc",
        redoc_js_url=f"{root}{ASSETS}/redoc.standalone.js",
        redoc_favicon_url=f"{root}{ASSETS}/favicon.png",
        with_google_fonts=False,
    )


@router.get(ASSETS + "/{name}", include_in_schema=False)
async def asset(name: str) -> Response:
    """One of the documentation's files."""
    if name not in FILES:
        raise NotFound(f"no documentation file {name!r}")
    body = await asyncio.to_thread(_file, name)
    return Response(body, media_type=FILES[name], headers={"Cache-Control": "public, max-age=86400"})
