"""Clear answers to the JSON mistakes tills and ERPs make: a body sent without ``Content-Type`` (or as ``text/plain``),
another content type, and a JSON syntax error.

- :class:`UntypedJson` (ASGI middleware, outside the receipt's short path): a POST to ``/v1/`` whose body comes
  without a content type or as ``text/plain`` (1C's HTTP connection sends no type) is read as JSON when it parses:
  the request goes on as ``application/json``, so the route and the short path answer it as any other. A body that
  does not parse, or one sent as another type (a form, XML), is a 422 telling the client to send
  ``Content-Type: application/json``, in the shape of every 422: ``{"detail": [{"loc", "msg", "type"}]}``.
- :func:`json_problem`: FastAPI reports a JSON syntax error by its character offset only; the error table rewrites it
  to name the line and column (``JSON syntax error at line 3, column 5: ...``).

A request with a JSON content type passes untouched: this costs the till's ordinary sale a header scan, no parsing.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from email.message import Message as MimeMessage
from typing import Any

from starlette.types import ASGIApp, Receive, Scope, Send

from kkt_adapter.api.asgi_body import read_body, replay

#: The content types read as JSON when the body parses: none at all, and plain text.
_UNTYPED = ("", "text/plain")
_SEND_JSON = "send the body as JSON with Content-Type: application/json"


def is_json_type(content_type: str) -> bool:
    """Whether ``content_type`` names JSON (``application/json``, ``application/*+json``, any parameters)."""
    message = MimeMessage()
    message["content-type"] = content_type
    subtype = message.get_content_subtype()
    return message.get_content_maintype() == "application" and (subtype == "json" or subtype.endswith("+json"))


def syntax_message(error: json.JSONDecodeError) -> str:
    """``JSON syntax error at line L, column C: <what>`` (lines and columns from 1)."""
    return f"JSON syntax error at line {error.lineno}, column {error.colno}: {error.msg}"


def json_problem(error: Mapping[str, Any], body: object) -> Mapping[str, Any]:
    """FastAPI's ``json_invalid`` problem with the line and column of its offset in ``body``; others unchanged."""
    loc = error.get("loc", ())
    if error.get("type") != "json_invalid" or len(loc) != 2 or not isinstance(loc[1], int):
        return error
    doc = body.decode("utf-8", "replace") if isinstance(body, bytes) else body
    if not isinstance(doc, str):
        return error
    reason = error.get("ctx", {}).get("error", "invalid JSON")
    located = json.JSONDecodeError(str(reason), doc, min(loc[1], len(doc)))
    return {
        **error,
        "msg": syntax_message(located),
        "ctx": {"error": reason, "line": located.lineno, "column": located.colno},
    }


class UntypedJson:
    """ASGI middleware: a POST body to ``/v1/`` without a JSON content type is read as JSON or refused, plainly."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "POST" or not scope["path"].startswith("/v1/"):
            await self.app(scope, receive, send)
            return
        content_type = ""
        for name, value in scope["headers"]:
            if name == b"content-type":
                content_type = value.decode("latin-1").strip()
        if content_type and is_json_type(content_type):
            await self.app(scope, receive, send)
            return
        body = await read_body(receive)
        if body is None:
            return  # the client went away before its body arrived: nothing to answer
        if not body:
            await self.app(scope, replay(body, receive), send)  # no body: the route decides (many take none)
            return
        media_type = content_type.split(";", 1)[0].strip().lower()
        if media_type not in _UNTYPED:
            refusal = f"Content-Type {content_type!r} is not JSON: {_SEND_JSON}"
            await _refuse(send, ["header", "content-type"], refusal, kind="content_type")
            return
        try:
            json.loads(body)
        except json.JSONDecodeError as exc:
            sent = f"Content-Type {content_type!r}" if content_type else "no Content-Type"
            await _refuse(send, ["body", exc.pos], f"{syntax_message(exc)} (the body came with {sent}: {_SEND_JSON})")
            return
        except ValueError as exc:  # not UTF-8
            await _refuse(send, ["body"], f"the body is not JSON in UTF-8 ({exc}): {_SEND_JSON}")
            return
        headers = [(name, value) for name, value in scope["headers"] if name != b"content-type"]
        typed = {**scope, "headers": [*headers, (b"content-type", b"application/json")]}
        await self.app(typed, replay(body, receive), send)


async def _refuse(send: Send, loc: list[str | int], message: str, *, kind: str = "json_invalid") -> None:
    """A 422 in the shape of every other: one problem, at ``loc``."""
    body = json.dumps({"detail": [{"loc": loc, "msg": message, "type": kind}]}, ensure_ascii=False).encode("utf-8")
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode("ascii"))]
    await send({"type": "http.response.start", "status": 422, "headers": headers})
    await send({"type": "http.response.body", "body": body})
