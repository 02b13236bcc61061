"""The OFD client (httpx, async): send one fiscal document, classify the answer once.

Outcome classes (decided here, and only here):

- :class:`Accepted` — 2xx with an acknowledgement, or the OFD's duplicate acknowledgement (also a 409 that names
  the document): keep ``ofd_id`` and the server's time.
- :class:`Retryable` — 5xx, 429 (honouring ``Retry-After``), 408, 401/403 (a wrong token is the adapter's
  configuration, not the document's fault), connection errors, and timeouts. A timeout means "outcome unknown":
  the retry carries the same ``Idempotency-Key`` and the OFD answers it as a duplicate.
- :class:`Permanent` — any other 4xx: the OFD rejected the document itself; it goes to the DLQ with the reason.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import httpx
from pydantic import SecretStr

from kkt_adapter.delivery.http1 import KeepAliveClient

RECEIPT_PATH = "/ofd/v1/receipt"


@dataclass(frozen=True)
class Accepted:
    ofd_id: str
    server_time: str | None
    server_ms: int | None
    duplicate: bool = False


@dataclass(frozen=True)
class Retryable:
    reason: str
    retry_after_s: float | None = None


@dataclass(frozen=True)
class Permanent:
    reason: str
    status_code: int


SendOutcome = Accepted | Retryable | Permanent


def _retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("Retry-After")
    if value is None:
        return None
    try:
        seconds = float(value)
    except ValueError:
        return None
    return max(0.0, seconds) if math.isfinite(seconds) else None


def _server_ms(body: dict[str, Any]) -> int | None:
    """The server's time in ms from ``server_time`` (s or ms) or ``timestamp`` (ISO 8601); ``None`` if unusable."""
    raw = body.get("server_time")
    if isinstance(raw, int | float) and not isinstance(raw, bool) and math.isfinite(raw) and 0 < raw < 10**14:
        return int(raw if raw > 10**11 else raw * 1000)  # seconds or milliseconds since the epoch
    stamp = body.get("timestamp")
    if isinstance(stamp, str):
        try:
            return int(datetime.fromisoformat(stamp.replace("Z", "+00:00")).timestamp() * 1000)
        except (ValueError, OverflowError):
            return None
    return None


def _reason(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return f"HTTP {response.status_code}: {response.text[:200]}"
    if isinstance(body, dict):
        message = body.get("error") or body.get("message") or body.get("detail")
        code = body.get("code")
        text = f"{code}: {message}" if code else str(message)
        return f"HTTP {response.status_code}: {text}"
    return f"HTTP {response.status_code}: {body!r}"[:300]


def classify(response: httpx.Response) -> SendOutcome:
    """Turn an OFD answer into an outcome."""
    status = response.status_code
    if 200 <= status < 300 or status == 409:
        try:
            body = response.json()
        except ValueError:
            body = None
        if isinstance(body, dict) and (body.get("status") == "accepted" or body.get("ofd_id")):
            stamp = body.get("timestamp")
            return Accepted(
                ofd_id=str(body.get("ofd_id") or body.get("id") or ""),
                server_time=str(stamp) if stamp is not None else None,
                server_ms=_server_ms(body),
                duplicate=bool(body.get("duplicate")) or status == 409,
            )
        if status == 409:
            return Permanent(_reason(response), status)
        return Retryable(f"HTTP {status} without an acknowledgement")
    if status == 429:
        return Retryable(_reason(response), _retry_after(response))
    if status >= 500 or status in (401, 403, 408):
        return Retryable(_reason(response), _retry_after(response))
    return Permanent(_reason(response), status)


class OFDClient:
    """Sends fiscal documents to ``{base_url}/ofd/v1/receipt``."""

    def __init__(
        self,
        base_url: str,
        *,
        token: SecretStr | None = None,
        timeout: float = 10.0,
        connect_retries: int = 1,
        max_connections: int = 16,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        headers = {"User-Agent": "kkt-adapter"}
        if token is not None:
            headers["Authorization"] = f"Bearer {token.get_secret_value()}"
        self._http = httpx.AsyncClient(
            base_url=base_url.rstrip("/"),
            headers=headers,
            timeout=timeout,
            transport=transport
            or httpx.AsyncHTTPTransport(
                limits=httpx.Limits(max_connections=max_connections, max_keepalive_connections=max_connections),
            ),
        )
        self.resend_on_broken_connection = connect_retries
        #: The lean keep-alive client for the real network; an injected transport (tests) goes through httpx.
        self._fast = (
            None
            if transport is not None
            else KeepAliveClient(base_url, headers=headers, timeout=timeout, max_connections=max_connections)
        )

    async def send(self, *, receipt_id: str, pos_id: str, document: dict[str, Any], key: str) -> SendOutcome:
        """POST one document with a stable ``Idempotency-Key``; never raises for network trouble."""
        body = {"receipt_id": receipt_id, "pos_id": pos_id, "fiscal_document": document}
        outcome: SendOutcome | None = None
        # A connection the server closed while it sat in the pool fails at once; the same key makes an immediate
        # resend safe (the OFD answers a duplicate if the first one did arrive), so it does not cost an attempt.
        for _ in range(1 + self.resend_on_broken_connection):
            try:
                if self._fast is not None:
                    content = json.dumps(body, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
                    response = await self._fast.post(RECEIPT_PATH, content.encode("utf-8"), {"Idempotency-Key": key})
                else:
                    response = await self._http.post(RECEIPT_PATH, json=body, headers={"Idempotency-Key": key})
            except httpx.TimeoutException as exc:
                outcome = Retryable(f"timeout, outcome unknown ({type(exc).__name__})")
                break
            except httpx.TransportError as exc:
                outcome = Retryable(f"connection error: {type(exc).__name__}: {exc}")
                continue
            outcome = classify(response)
            break
        assert outcome is not None
        return outcome

    async def aclose(self) -> None:
        if self._fast is not None:
            await self._fast.aclose()
        await self._http.aclose()
