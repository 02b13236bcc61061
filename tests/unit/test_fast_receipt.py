"""The receipt route's short path answers ordinary requests itself and hands every other one to the route intact."""

from __future__ import annotations

import json
from types import SimpleNamespace
from typing import Any

import pytest

from kkt_adapter.api.fast_receipt import FastReceipt
from kkt_adapter.domain.errors import BufferFull
from kkt_adapter.domain.receipt import Receipt
from kkt_adapter.testing import bodies

pytestmark = pytest.mark.anyio

SALE: dict[str, Any] = bodies.sale()


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


class Fiscalizer:
    """The service's receipts: records what it was asked to accept (and on which device); answers a fixed body, or
    raises ``error``. It knows the devices ``main`` and ``backup``."""

    def __init__(self) -> None:
        self.accepted: list[tuple[Receipt, str]] = []
        self.devices: list[str | None] = []
        self.error: Exception | None = None

    def knows(self, name: str) -> bool:
        return name in ("main", "backup")

    async def accept(self, receipt: Receipt, *, key: str, device: str | None = None) -> str:
        if self.error is not None:
            raise self.error
        self.accepted.append((receipt, key))
        self.devices.append(device)
        return '{"status": "printed"}'


class Route:
    """The app behind the short path: records the body it was given and answers 299."""

    def __init__(self) -> None:
        self.bodies: list[bytes] = []

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        message = await receive()
        self.bodies.append(message["body"])
        await send({"type": "http.response.start", "status": 299, "headers": []})
        await send({"type": "http.response.body", "body": b""})


async def call(
    body: bytes, headers: dict[str, str], fiscalizer: Fiscalizer, route: Route, *, path: str = "/v1/kkt/receipt"
) -> tuple[int, dict[bytes, bytes], bytes]:
    service = SimpleNamespace(receipts=fiscalizer, knows_device=fiscalizer.knows, device_names=("main", "backup"))
    app = SimpleNamespace(state=SimpleNamespace(service=service, text_policy="normalize"))
    scope = {
        "type": "http",
        "method": "POST",
        "path": path,
        "headers": [(name.lower().encode(), value.encode()) for name, value in headers.items()],
        "query_string": b"",
        "app": app,
    }
    chunks = [body[:10], body[10:]]

    async def receive() -> dict[str, Any]:
        chunk = chunks.pop(0) if chunks else b""
        return {"type": "http.request", "body": chunk, "more_body": bool(chunks)}

    sent: list[dict[str, Any]] = []

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    await FastReceipt(route)(scope, receive, send)
    return sent[0]["status"], dict(sent[0]["headers"]), b"".join(m.get("body", b"") for m in sent[1:])


JSON = {"Content-Type": "application/json"}


async def test_an_ordinary_receipt_is_accepted_without_the_route() -> None:
    """A valid body with one well-formed key is accepted by the fiscalizer and answered 200 with its body."""
    fiscalizer, route = Fiscalizer(), Route()
    status, headers, body = await call(json.dumps(SALE).encode(), JSON | {"Idempotency-Key": "k-1"}, fiscalizer, route)
    assert (status, body) == (200, b'{"status": "printed"}')
    assert headers[b"content-type"] == b"application/json"
    assert route.bodies == []
    ((receipt, key),) = fiscalizer.accepted
    assert key == "k-1" and receipt.total_kop == 10_000


@pytest.mark.parametrize(
    ("body", "headers"),
    [
        (json.dumps(SALE), JSON),  # no key: the route names the missing header
        (json.dumps(SALE), JSON | {"Idempotency-Key": "has space"}),  # the key's pattern
        (json.dumps(SALE), JSON | {"Idempotency-Key": "k" * 129}),  # the key's length
        (json.dumps(SALE), {"Content-Type": "text/plain", "Idempotency-Key": "k-1"}),
        ('{"pos_id": ', JSON | {"Idempotency-Key": "k-1"}),  # not JSON
        (json.dumps(SALE | {"type": "gift"}), JSON | {"Idempotency-Key": "k-1"}),  # does not validate
        (json.dumps(SALE | {"idempotency_key": "other"}), JSON | {"Idempotency-Key": "k-1"}),  # two keys
    ],
)
async def test_anything_unusual_goes_to_the_route_with_its_body(body: str, headers: dict[str, str]) -> None:
    """The route gets the request, its body intact, and the fiscalizer is not asked."""
    fiscalizer, route = Fiscalizer(), Route()
    status, _, _ = await call(body.encode(), headers, fiscalizer, route)
    assert status == 299
    assert route.bodies == [body.encode()]
    assert fiscalizer.accepted == []


async def test_other_paths_are_not_touched() -> None:
    """A request to another path goes straight to the app."""
    fiscalizer, route = Fiscalizer(), Route()
    status, _, _ = await call(b"{}", JSON | {"Idempotency-Key": "k"}, fiscalizer, route, path="/v1/kkt/correction")
    assert status == 299 and fiscalizer.accepted == []


async def test_the_fiscalizers_errors_are_answered_by_the_error_table() -> None:
    """A full buffer is 503 with Retry-After and the table's JSON shape, as from the route."""
    fiscalizer, route = Fiscalizer(), Route()
    fiscalizer.error = BufferFull("Buffer full", retry_after_s=7)
    status, headers, body = await call(json.dumps(SALE).encode(), JSON | {"Idempotency-Key": "k"}, fiscalizer, route)
    assert status == 503 and headers[b"retry-after"] == b"7"
    assert json.loads(body) == {
        "detail": "Buffer full",
        "error": "buffer_full",
        "code": "buffer_full",
        "message": "Буфер неотправленных чеков полон: продажи остановлены, пока связь с ОФД не восстановится.",
    }


async def test_a_named_device_is_passed_on_and_an_unknown_one_goes_to_the_route() -> None:
    """A configured device in the body reaches the router; an unknown one is left to the route (its 422)."""
    fiscalizer, route = Fiscalizer(), Route()
    named = json.dumps(SALE | {"device": "backup"}).encode()
    status, _, _ = await call(named, JSON | {"Idempotency-Key": "k-1"}, fiscalizer, route)
    assert status == 200 and fiscalizer.devices == ["backup"]
    unknown = json.dumps(SALE | {"device": "elsewhere"}).encode()
    status, _, _ = await call(unknown, JSON | {"Idempotency-Key": "k-2"}, fiscalizer, route)
    assert status == 299 and route.bodies == [unknown] and fiscalizer.devices == ["backup"]
