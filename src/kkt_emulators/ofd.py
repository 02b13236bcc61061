"""The mock OFD (fiscal data operator): receives fiscal documents, acknowledges each once, and fails on demand.

HTTP contract (see ``docs/emulators.md``)::

    POST /ofd/v1/receipt          any JSON object (validate=True: a fiscal document) → 200 acknowledgement
    GET  /ofd/v1/health           {"status": "healthy", "permanent_failure", "failure_count", "call_count", ...}
    POST /ofd/v1/_test/reset      and the other admin routes under /ofd/v1/_test/ (stats, receipts, faults, ...)

Every fiscal document type goes through the same endpoint: registration report (1000 = 1), shift opening (2),
receipt (3), correction receipt (31), shift closing (5). A fiscal document is identified by its FN (1041) and FD
number (1040), whatever its type; a resend of it gets its first acknowledgement again, with ``"duplicate": true``, and
is counted as a duplicate, never as a second document. Bodies without an FN and FD number are identified by their
``Idempotency-Key`` header.
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Mapping
from typing import Any, ClassVar

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.types import ASGIApp

from kkt_clock import Clock
from kkt_emulators import fiscal
from kkt_emulators.emulator import EmulatorServer
from kkt_emulators.faults import FaultProgram
from kkt_emulators.ledger import Ack, DedupeLedger, FnFd, FnSequence, Journal
from kkt_emulators.validation import check_document
from kkt_emulators.web import (
    BadRequest,
    RequestCounters,
    admin_routes,
    error_response,
    guarded_endpoint,
    json_response,
)
from kkt_emulators.web import parse_object as parse_json_object

RECEIPT_PATH = "/ofd/v1/receipt"
HEALTH_PATH = "/ofd/v1/health"
ADMIN_PREFIX = "/ofd/v1/_test"

DEFAULT_JOURNAL_SIZE = 10_000
DEFAULT_LEDGER_SIZE = 100_000


def _fn_fd(body: Mapping[str, Any]) -> FnFd | None:
    doc = body.get("fiscal_document")
    if not isinstance(doc, Mapping):
        return None
    fn, fd = doc.get("1041"), doc.get("1040")
    if fn is None or fd is None or isinstance(fd, bool):
        return None
    try:
        return str(fn), int(fd)
    except (TypeError, ValueError):
        return None


def _doc_type(body: Mapping[str, Any]) -> str:
    """The document's type (1000) as the statistics name it: ``"3"``, or ``"unknown"`` when it is not an FFD type."""
    doc = body.get("fiscal_document")
    value = doc.get(fiscal.TAG_DOCUMENT_TYPE) if isinstance(doc, Mapping) else None
    if isinstance(value, str) and value.isdigit():
        value = int(value)
    if isinstance(value, int) and not isinstance(value, bool) and value in fiscal.DOCUMENT_TYPES:
        return str(value)
    return "unknown"


def _digest(body: Mapping[str, Any]) -> bytes:
    content = body.get("fiscal_document", body)
    canonical = json.dumps(content, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.blake2b(canonical.encode(), digest_size=16).digest()


class OFDCore(RequestCounters):
    """The mock OFD's state and rules, without HTTP: counters, dedupe ledger, per-FN order, journal; thread-safe."""

    def __init__(
        self,
        *,
        clock: Clock,
        validate: bool = False,
        fn_secrets: Mapping[str, bytes] | None = None,
        journal_size: int = DEFAULT_JOURNAL_SIZE,
        ledger_size: int = DEFAULT_LEDGER_SIZE,
    ) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self.validate = validate
        self._secrets: dict[str, bytes] = dict(fn_secrets or {})
        self._journal_size = journal_size
        self._ledger_size = ledger_size
        self.reset()

    def reset(self) -> None:
        """Forget every document and counter (FN secrets and the validate switch stay)."""
        with self._lock:
            self._journal = Journal(self._journal_size)
            self._ledger = DedupeLedger(self._ledger_size)
            self._fns: dict[str, FnSequence] = {}
            self._seq = 0
            self._duplicates = 0
            self._conflicts = 0
            self._key_reuses = 0
            self._reset_counters()

    def register_fn(self, fn_number: str, secret: bytes) -> None:
        """Let validation check the fiscal signs of FN ``fn_number`` with ``secret``."""
        with self._lock:
            self._secrets[fn_number] = secret

    def submit(self, body: dict[str, Any], key: str | None) -> tuple[int, dict[str, Any]]:
        """Process one document: the HTTP status and JSON answer the OFD gives."""
        if self.validate:
            with self._lock:
                secrets = dict(self._secrets)
            rejection = check_document(body, secrets)
            if rejection is not None:
                with self._lock:
                    self._rejected += 1
                return rejection.status, rejection.answer()
        fn_fd = _fn_fd(body)
        digest = _digest(body)
        with self._lock:
            first = self._ledger.find(key, fn_fd)
            if first is not None:
                self._duplicates += 1
                if first.digest != digest:
                    self._conflicts += 1
                return 200, first.answer(duplicate=True)
            if key is not None and fn_fd is not None and self._ledger.holder_of(key) is not None:
                self._key_reuses += 1  # another fiscal document under a known key: new all the same
            self._seq += 1
            ack = Ack(self._seq, int(self._clock.time() * 1000), digest, key, fn_fd)
            self._ledger.remember(ack)
            self._journal.append(body)
            if fn_fd is not None:
                self._fns.setdefault(fn_fd[0], FnSequence()).arrive(fn_fd[1], _doc_type(body))
            return 200, ack.answer(duplicate=False)

    def received(self, limit: int | None = None) -> list[dict[str, Any]]:
        """The bodies of the documents accepted (first copies only), oldest first, from the bounded journal."""
        with self._lock:
            return self._journal.last(limit)

    def stats(self) -> dict[str, Any]:
        """Counters, dedupe and per-FN order statistics, as JSON-ready values."""
        with self._lock:
            return {
                "calls": self._calls,
                "unique_documents": self._journal.total,
                "duplicates": self._duplicates,
                "conflicts": self._conflicts,
                "key_reuses": self._key_reuses,
                "rejected": self._rejected,
                "faulted": self._faulted,
                "lost_replies": self._lost,
                "journal": self._journal.as_dict(),
                "ledger": {"size": self._ledger_size, "kept": len(self._ledger)},
                "fn": {fn: sequence.as_dict() for fn, sequence in self._fns.items()},
            }


def create_ofd_app(core: OFDCore, faults: FaultProgram) -> ASGIApp:
    """The mock OFD's ASGI app over ``core`` and ``faults``."""

    def process(request: Request, body: dict[str, Any]) -> Response:
        key = request.headers.get("idempotency-key", "").strip() or None
        status, answer = core.submit(body, key)
        return json_response(answer, status)

    receipt = guarded_endpoint(core, faults, process, malformed_code="INVALID_JSON")

    async def health(request: Request) -> Response:
        armed = faults.snapshot()
        stats = core.stats()
        return json_response(
            {
                "status": "healthy",
                "permanent_failure": armed["permanent_failure"],
                "failure_count": armed["failure_count"],
                "call_count": stats["calls"],
                "receipts_received": stats["unique_documents"],
                "duplicates": stats["duplicates"],
                "validate": core.validate,
            }
        )

    async def register_fn(request: Request) -> Response:
        try:
            body = parse_json_object(await request.body())
            fn_number, secret = body.get("fn_number"), body.get("secret")
            if not isinstance(fn_number, str) or not isinstance(secret, str):
                raise BadRequest("'fn_number' and 'secret' must be strings")
        except BadRequest as exc:
            return error_response(400, str(exc))
        core.register_fn(fn_number, secret.encode())
        return json_response({"status": "ok"})

    async def set_validate(request: Request) -> Response:
        try:
            body = parse_json_object(await request.body(), allow_empty=True)
        except BadRequest as exc:
            return error_response(400, str(exc))
        core.validate = bool(body.get("enabled", True))
        return json_response({"status": "ok", "validate": core.validate})

    routes = [
        Route(RECEIPT_PATH, receipt, methods=["POST"]),
        Route(HEALTH_PATH, health, methods=["GET"]),
        Route(f"{ADMIN_PREFIX}/register-fn", register_fn, methods=["POST"]),
        Route(f"{ADMIN_PREFIX}/validate", set_validate, methods=["POST"]),
        *admin_routes(ADMIN_PREFIX, core, faults, journal="receipts"),
    ]
    return Starlette(routes=routes)


class MockOFDServer(EmulatorServer[OFDCore]):
    """The mock OFD, served from a background thread: ``with MockOFDServer(port=0) as ofd: ofd.set_failure_count(3)``.

    ``validate=True`` checks fiscal documents (every type) and answers 422 with an OFD-style code; ``fn_secrets``
    (FN number → secret) lets it verify fiscal signs. ``clock`` drives timestamps and ``set_down_for``. The journal
    keeps the last ``journal_size`` documents; dedupe remembers the last ``ledger_size`` acknowledgements.
    """

    name: ClassVar[str] = "mock OFD"

    def __init__(
        self,
        port: int = 9000,
        *,
        host: str = "127.0.0.1",
        validate: bool = False,
        fn_secrets: Mapping[str, bytes] | None = None,
        clock: Clock | None = None,
        journal_size: int = DEFAULT_JOURNAL_SIZE,
        ledger_size: int = DEFAULT_LEDGER_SIZE,
    ) -> None:
        super().__init__(host=host, port=port, clock=clock)
        self.core = OFDCore(
            clock=self.clock,
            validate=validate,
            fn_secrets=fn_secrets,
            journal_size=journal_size,
            ledger_size=ledger_size,
        )

    def _build_app(self) -> ASGIApp:
        return create_ofd_app(self.core, self.faults)

    @property
    def validate(self) -> bool:
        """Whether documents are checked (can be switched at any time)."""
        return self.core.validate

    @validate.setter
    def validate(self, enabled: bool) -> None:
        self.core.validate = enabled

    def register_fn(self, fn_number: str, secret: bytes) -> None:
        """Let validation verify the fiscal signs of FN ``fn_number``, signed with ``secret``."""
        self.core.register_fn(fn_number, secret)

    def get_received_receipts(self) -> list[dict[str, Any]]:
        """The bodies of the accepted documents (first copies only; the last ``journal_size``), oldest first."""
        return self.core.received()
