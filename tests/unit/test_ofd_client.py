"""The OFD client classifies each answer once: accepted, retryable or permanent (no sockets: MockTransport)."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
from pydantic import SecretStr

from kkt_adapter.delivery.ofd_client import Accepted, OFDClient, Permanent, Retryable, SendOutcome

pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


async def send_with(handler: Any, **kwargs: Any) -> tuple[SendOutcome, list[httpx.Request]]:
    seen: list[httpx.Request] = []

    def record(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        result: httpx.Response = handler(request)
        return result

    client = OFDClient("http://ofd.test", transport=httpx.MockTransport(record), **kwargs)
    try:
        outcome = await client.send(receipt_id="r-1", pos_id="POS-1", document={"1040": 5}, key="r-1")
    finally:
        await client.aclose()
    return outcome, seen


async def test_request_shape_key_and_token() -> None:
    """The document goes with receipt_id, pos_id, a stable Idempotency-Key and the bearer token."""
    answer = {"status": "accepted", "ofd_id": "OFD-000001", "timestamp": "2025-11-30T09:00:00+00:00"}
    outcome, seen = await send_with(lambda r: httpx.Response(200, json=answer), token=SecretStr("s3cret"))
    assert outcome == Accepted("OFD-000001", "2025-11-30T09:00:00+00:00", 1764493200000)
    (request,) = seen
    assert request.url.path == "/ofd/v1/receipt"
    assert request.headers["Idempotency-Key"] == "r-1"
    assert request.headers["Authorization"] == "Bearer s3cret"
    assert json.loads(request.content) == {"receipt_id": "r-1", "pos_id": "POS-1", "fiscal_document": {"1040": 5}}


@pytest.mark.parametrize(
    ("status", "body", "headers", "expected"),
    [
        (200, {"status": "accepted", "ofd_id": "OFD-7", "duplicate": True}, {}, Accepted("OFD-7", None, None, True)),
        (
            200,
            {"status": "accepted", "ofd_id": "OFD-8", "server_time": 1764493200},
            {},
            Accepted("OFD-8", None, 1764493200000),
        ),
        (409, {"ofd_id": "OFD-9"}, {}, Accepted("OFD-9", None, None, True)),
        (503, {"error": "OFD unavailable"}, {}, Retryable("HTTP 503: OFD unavailable")),
        (500, {"error": "boom"}, {}, Retryable("HTTP 500: boom")),
        (429, {"error": "slow down"}, {"Retry-After": "7"}, Retryable("HTTP 429: slow down", 7.0)),
        (401, {"error": "bad token"}, {}, Retryable("HTTP 401: bad token")),
        (408, {"error": "timeout"}, {}, Retryable("HTTP 408: timeout")),
        (422, {"error": "sum mismatch", "code": "OFD-102"}, {}, Permanent("HTTP 422: OFD-102: sum mismatch", 422)),
        (400, {"error": "bad"}, {}, Permanent("HTTP 400: bad", 400)),
        (200, {"status": "queued"}, {}, Retryable("HTTP 200 without an acknowledgement")),
        (429, {"error": "later"}, {"Retry-After": "inf"}, Retryable("HTTP 429: later")),
        (200, b'{"status": "accepted", "ofd_id": "OFD-6", "server_time": 1e400}', {}, Accepted("OFD-6", None, None)),
        (
            200,
            {"status": "accepted", "ofd_id": "OFD-6", "timestamp": "9999-99-99"},
            {},
            Accepted("OFD-6", "9999-99-99", None),
        ),
    ],
)
async def test_answers_are_classified(status: int, body: Any, headers: dict[str, str], expected: SendOutcome) -> None:
    """Each kind of answer falls in its class; 401/403 are retried, not dead-lettered."""
    if isinstance(body, bytes):  # JSON that Python's encoder will not write (an infinite number)
        answer = lambda r: httpx.Response(status, content=body, headers=headers)  # noqa: E731
    else:
        answer = lambda r: httpx.Response(status, json=body, headers=headers)  # noqa: E731
    outcome, _ = await send_with(answer)
    assert outcome == expected


async def test_timeout_is_retryable_outcome_unknown() -> None:
    """A read timeout is retryable and says the outcome is unknown."""

    def slow(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("read timed out", request=request)

    outcome, _ = await send_with(slow)
    assert isinstance(outcome, Retryable)
    assert "outcome unknown" in outcome.reason


async def test_connection_error_is_retryable() -> None:
    """A refused connection is retryable."""

    def refused(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    outcome, _ = await send_with(refused)
    assert isinstance(outcome, Retryable)
    assert "connection error" in outcome.reason


def test_token_never_in_repr() -> None:
    """The token is a secret: the settings' repr does not show it."""
    from kkt_adapter.config import load_settings

    settings = load_settings({"KKT_OFD_API_TOKEN": "s3cret"})
    assert "s3cret" not in repr(settings)
    assert "s3cret" not in str(settings.model_dump())


async def test_broken_pooled_connection_is_resent_at_once_with_the_same_key() -> None:
    """A connection dropped under the request is resent at once with the same key, costing no attempt."""
    calls: list[str] = []

    def flaky(request: httpx.Request) -> httpx.Response:
        calls.append(request.headers["Idempotency-Key"])
        if len(calls) == 1:
            raise httpx.RemoteProtocolError("server disconnected without sending a response", request=request)
        return httpx.Response(200, json={"status": "accepted", "ofd_id": "OFD-5"})

    outcome, _ = await send_with(flaky)
    assert outcome == Accepted("OFD-5", None, None)
    assert calls == ["r-1", "r-1"]
