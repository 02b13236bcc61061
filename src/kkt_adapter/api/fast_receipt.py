"""``POST /v1/kkt/receipt`` on a short path: the same validation and answers, without FastAPI's per-request routing,
dependency solving and response classes, which cost more CPU than the rest of an accept on the event loop.

Both check one set of request rules (:mod:`kkt_adapter.api.request_rules`) and call the same application service
(:attr:`AppService.receipts <kkt_adapter.service.AppService.receipts>`). A request the short path does not fully
understand goes to the FastAPI route unchanged (its body replayed): a missing or malformed ``Idempotency-Key``, a
content type other than JSON, a body that is not JSON or does not validate, a broken request rule (a key in the body
that differs from the header, a device that is not configured). So every 422 still comes from the route, in its
words; the short path only answers what the route would answer 200 (or with the error table, for the service's
errors). The route stays the one described in the OpenAPI document.
"""

from __future__ import annotations

import json

from fastapi.exceptions import RequestValidationError
from pydantic import ValidationError
from starlette.requests import Request
from starlette.types import ASGIApp, Receive, Scope, Send

from kkt_adapter.api import errors
from kkt_adapter.api.asgi_body import read_body, replay
from kkt_adapter.api.request_rules import KEY_BYTES, request_key, text_rule
from kkt_adapter.api.schemas import ReceiptIn
from kkt_adapter.domain.errors import AdapterError
from kkt_adapter.service import STORAGE_FAULTS, AppService

PATH = "/v1/kkt/receipt"
_JSON_TYPES = (b"application/json", b"application/json; charset=utf-8")
_OK_HEADERS = [(b"content-type", b"application/json")]


class FastReceipt:
    """ASGI middleware, innermost: takes the receipt route's ordinary requests, hands everything else on."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] != PATH or scope["method"] != "POST":
            await self.app(scope, receive, send)
            return
        key: bytes | None = None
        content_type = b""
        keys = 0
        for name, value in scope["headers"]:
            if name == b"idempotency-key":
                key, keys = value, keys + 1
            elif name == b"content-type":
                content_type = value.lower()
        body = await read_body(receive)
        if body is None:
            return  # the client went away before its body arrived: nothing was stored, nothing to answer
        if keys != 1 or key is None or not KEY_BYTES.fullmatch(key) or content_type not in _JSON_TYPES:
            await self.app(scope, replay(body, receive), send)
            return
        service: AppService = scope["app"].state.service
        try:
            model = ReceiptIn.model_validate(json.loads(body))
            text_key = request_key(service, key.decode("ascii"), model)
            text_rule(scope["app"].state.text_policy, model)
        except (ValueError, ValidationError, RequestValidationError):
            await self.app(scope, replay(body, receive), send)
            return
        request = Request(scope, receive)
        try:
            answer = await service.receipts.accept(model.to_receipt(), key=text_key, device=model.device)
        except AdapterError as exc:
            response = await errors.adapter_error_handler(request, exc)
        except STORAGE_FAULTS as exc:
            response = await errors.storage_error_handler(request, exc)
        else:
            content = answer.encode("utf-8")
            headers = [(b"content-length", str(len(content)).encode("ascii")), *_OK_HEADERS]
            await send({"type": "http.response.start", "status": 200, "headers": headers})
            await send({"type": "http.response.body", "body": content})
            return
        await response(scope, receive, send)
