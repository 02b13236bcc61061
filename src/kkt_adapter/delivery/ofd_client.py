"""The OFD client (aiohttp, async): send one fiscal document, classify the answer once.

Outcome classes (decided here, and only here):

- :class:`Accepted` — 2xx with an acknowledgement, or the OFD's duplicate acknowledgement (also a 409 that names
  the document): keep ``ofd_id`` and the server's time.
- :class:`Retryable` — 5xx, 429 (honouring ``Retry-After``), 408, 401/403 (a wrong token is the adapter's
  configuration, not the document's fault), connection errors, and timeouts. A timeout means "outcome unknown":
  the retry carries the same ``Idempotency-Key`` and the OFD answers it as a duplicate.
- :class:`Permanent` — any other 4xx: the OFD rejected the document itself; it goes to the DLQ with the reason.

The transport is aiohttp's client (its HTTP parser is written in C: drain spends far less CPU per document than with
httpx) over one pool of at most ``max_connections`` kept-alive connections, TLS verified against the system's
certificates for ``https``. The same path serves production and the tests: they talk to real loopback servers.
"""

from __future__ import annotations

import asyncio
import base64
import json
import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import unquote

import aiohttp
from pydantic import SecretStr
from yarl import URL

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


def _retry_after(headers: Mapping[str, str]) -> float | None:
    value = headers.get("Retry-After")
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


def _json(body: bytes) -> Any:
    """The parsed body, or ``None`` when it is not JSON (or not UTF-8)."""
    try:
        return json.loads(body)
    except ValueError:
        return None


def _reason(status: int, body: bytes) -> str:
    parsed = _json(body)
    if parsed is None:
        return f"HTTP {status}: {body.decode('utf-8', 'replace')[:200]}"
    if isinstance(parsed, dict):
        message = parsed.get("error") or parsed.get("message") or parsed.get("detail")
        code = parsed.get("code")
        text = f"{code}: {message}" if code else str(message)
        return f"HTTP {status}: {text}"
    return f"HTTP {status}: {parsed!r}"[:300]


def classify(status: int, headers: Mapping[str, str], body: bytes) -> SendOutcome:
    """Turn an OFD answer (status, headers, the whole body) into an outcome."""
    if 200 <= status < 300 or status == 409:
        parsed = _json(body)
        if isinstance(parsed, dict) and (parsed.get("status") == "accepted" or parsed.get("ofd_id")):
            stamp = parsed.get("timestamp")
            return Accepted(
                ofd_id=str(parsed.get("ofd_id") or parsed.get("id") or ""),
                server_time=str(stamp) if stamp is not None else None,
                server_ms=_server_ms(parsed),
                duplicate=bool(parsed.get("duplicate")) or status == 409,
            )
        if status == 409:
            return Permanent(_reason(status, body), status)
        return Retryable(f"HTTP {status} without an acknowledgement")
    if status == 429:
        return Retryable(_reason(status, body), _retry_after(headers))
    if status >= 500 or status in (401, 403, 408):
        return Retryable(_reason(status, body), _retry_after(headers))
    return Permanent(_reason(status, body), status)


def _endpoint(base_url: str, token: SecretStr | None) -> tuple[URL, dict[str, str]]:
    """The receipt URL (without user info) and the headers every request carries.

    A token is sent as ``Authorization: Bearer``; without one, user info in the URL (``https://user:pass@host``) is
    sent as ``Authorization: Basic``. User info never travels in the URL itself.
    """
    url = URL(base_url.rstrip("/"))
    if url.scheme not in ("http", "https") or not url.host:
        raise ValueError(f"KKT_OFD_API_URL must be an http(s) URL with a host, got {base_url!r}")
    headers = {"User-Agent": "kkt-adapter", "Content-Type": "application/json"}
    if token is not None:
        headers["Authorization"] = f"Bearer {token.get_secret_value()}"
    elif url.raw_user is not None or url.raw_password is not None:
        pair = f"{unquote(url.raw_user or '')}:{unquote(url.raw_password or '')}".encode()
        headers["Authorization"] = "Basic " + base64.b64encode(pair).decode("ascii")
    return url.with_user(None).with_path(url.path.rstrip("/") + RECEIPT_PATH), headers


class OFDClient:
    """Sends fiscal documents to ``{base_url}/ofd/v1/receipt`` over at most ``max_connections`` connections."""

    def __init__(
        self,
        base_url: str,
        *,
        token: SecretStr | None = None,
        timeout: float = 10.0,
        connect_retries: int = 1,
        max_connections: int = 16,
    ) -> None:
        self._url, self._headers = _endpoint(base_url, token)
        #: The whole exchange (a free connection, connecting, sending, the complete answer) within this time.
        self._timeout = aiohttp.ClientTimeout(total=timeout)
        self._max_connections = max_connections
        self.resend_on_broken_connection = connect_retries
        self._session: aiohttp.ClientSession | None = None  # made on the first send, on the loop that sends

    def _open(self) -> aiohttp.ClientSession:
        self._session = aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(limit=self._max_connections, limit_per_host=0),
            headers=self._headers,
            timeout=self._timeout,
            cookie_jar=aiohttp.DummyCookieJar(),  # an OFD has no session; never replay what it might set
            trust_env=False,  # no proxy from the environment: the OFD's address is the configured one
            raise_for_status=False,
        )
        return self._session

    async def send(self, *, receipt_id: str, pos_id: str, document: dict[str, Any], key: str) -> SendOutcome:
        """POST one document with a stable ``Idempotency-Key``; never raises for network trouble."""
        body = {"receipt_id": receipt_id, "pos_id": pos_id, "fiscal_document": document}
        content = json.dumps(body, ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode("utf-8")
        session = self._session or self._open()
        outcome: SendOutcome | None = None
        # A connection the server closed while it sat in the pool fails at once; the same key makes an immediate
        # resend safe (the OFD answers a duplicate if the first one did arrive), so it does not cost an attempt.
        for _ in range(1 + self.resend_on_broken_connection):
            try:
                async with session.post(self._url, data=content, headers={"Idempotency-Key": key}) as response:
                    answer = await response.read()
                    outcome = classify(response.status, response.headers, answer)
                break
            except TimeoutError as exc:  # aiohttp's timeouts are TimeoutError too
                outcome = Retryable(f"timeout, outcome unknown ({type(exc).__name__})")
                break
            except aiohttp.ClientError as exc:
                outcome = Retryable(f"connection error: {type(exc).__name__}: {exc}")
        assert outcome is not None
        return outcome

    async def aclose(self) -> None:
        """Close the pool's connections; a later send opens a new pool."""
        session, self._session = self._session, None
        if session is not None:
            await session.close()
            await asyncio.sleep(0)  # let the transports' close callbacks run before the loop may end
