"""What the API answers, for its OpenAPI description: a model for every 200 and the error bodies of every status.

The routes build their bodies themselves (the receipt POST returns pre-serialised bytes, the others plain dicts);
these models describe those bodies and never serialise them, so the bytes a client gets do not depend on them.
Each model allows fields it does not name: an answer may grow a field without breaking a client that checks it.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, RootModel

#: Rubles as the API writes them in strings: an exact decimal with two places (``"100.00"``).
MONEY_PATTERN = r"^-?[0-9]+\.[0-9]{2}$"

MoneyText = Annotated[str, Field(pattern=MONEY_PATTERN, description='Rubles, exact, two decimals: "100.00".')]


class _Open(BaseModel):
    model_config = ConfigDict(extra="allow")


# --- errors ---------------------------------------------------------------------------------------------------


class ErrorOut(BaseModel):
    """Every refusal other than a field's: what went wrong, and a stable code to act on."""

    model_config = ConfigDict(extra="allow", json_schema_extra={"examples": [{"detail": "...", "error": "not_found"}]})

    detail: str = Field(description="What went wrong, for people.")
    error: str = Field(description="A stable code for programs: buffer_full, paper_out, not_found, ...")


class ProblemOut(_Open):
    """One wrong field."""

    loc: list[str | int] = Field(description='Where: ["body", "items", 0, "price"], ["header", "Idempotency-Key"].')
    msg: str
    type: str


class FieldErrorsOut(_Open):
    """The request's fields are wrong (or its sums do not balance): each problem names its field."""

    detail: list[ProblemOut]
    error: str | None = Field(default=None, description="invalid_receipt when a rule across fields is broken.")


class UnprocessableOut(RootModel[FieldErrorsOut | ErrorOut]):
    """A 422: wrong fields (``detail`` is a list), or a refusal with a code (``detail`` is a text), such as
    ``idempotency_conflict`` (the key was used with another body) or ``invalid_task`` (the device refused it)."""


def _error(description: str, *, retry_after: bool = False) -> dict[str, Any]:
    answer: dict[str, Any] = {"model": ErrorOut, "description": description}
    if retry_after:
        answer["headers"] = {
            "Retry-After": {"description": "Seconds to wait before retrying.", "schema": {"type": "integer"}}
        }
    return answer


Responses = dict[int | str, dict[str, Any]]


class BadRequestOut(_Open):
    """A 400: the Host is not allowed (with ``error``: host_not_allowed), or the body is not JSON at all."""

    detail: str
    error: str | None = Field(default=None, description="host_not_allowed; absent when the body could not be parsed.")


BAD_HOST: Responses = {
    400: {
        "model": BadRequestOut,
        "description": "The Host header names no address of this adapter, or the body could not be parsed.",
    }
}
UNAUTHORIZED: Responses = {401: _error("KKT_API_TOKEN is set and the request lacks it (unauthorized).")}
NOT_FOUND: Responses = {404: _error("Unknown id (not_found).")}
CONFLICT: Responses = {409: _error("The state does not allow it now.")}
IN_FLIGHT: Responses = {
    409: _error("The key is being printed by another process on this buffer: retry with it.", retry_after=True)
}
TOO_LARGE: Responses = {413: _error("The body is larger than KKT_MAX_BODY_BYTES (body_too_large).")}
UNPROCESSABLE: Responses = {
    422: {"model": UnprocessableOut, "description": "A field is wrong; or a refusal with a code (detail, error)."}
}
HEADERS_TOO_LARGE: Responses = {431: _error("The request's headers exceed KKT_MAX_HEADER_BYTES (headers_too_large).")}
UNAVAILABLE: Responses = {
    503: _error(
        "The buffer is full or its storage failed, or the device refused or is unreachable; nothing was printed.",
        retry_after=True,
    )
}

#: What every route may answer before it runs (the middleware), and when its storage fails.
COMMON: Responses = BAD_HOST | UNAUTHORIZED | HEADERS_TOO_LARGE | UNAVAILABLE
#: ... and a route that takes parameters or a body.
WITH_INPUT: Responses = COMMON | UNPROCESSABLE
#: ... and a POST (any POST may carry a body too large).
POST: Responses = COMMON | TOO_LARGE


def ok(model: type[BaseModel], description: str = "Successful Response") -> Responses:
    """A 200 described by ``model`` (declared in ``responses``, so that the route's own bytes go out unchanged)."""
    return {200: {"model": model, "description": description}}


# --- receipts -------------------------------------------------------------------------------------------------


class FiscalDocOut(_Open):
    """The fiscal data the device signed."""

    fiscal_doc_number: int = Field(description="FD number (tag 1040).")
    fiscal_sign: str = Field(description="Fiscal sign (tag 1077).")
    fiscal_datetime: str
    fn_number: str
    kkt_number: str
    qr_code_data: str = Field(description="The FNS QR string t=…&s=…&fn=…&i=…&fp=…&n=….")
    shift_number: int
    receipt_number: int


class PrintedFiscalDocOut(FiscalDocOut):
    total: float = Field(description="Rubles as a JSON number written exactly from kopecks (100.00).")


class ReceiptAnswerOut(_Open):
    """A printed receipt or correction (or the replay of its key: the identical bytes)."""

    status: Literal["printed"]
    receipt_id: str
    fiscal_doc: PrintedFiscalDocOut
    device: str = Field(description="The name of the device that printed it (KKT_DEVICES; main with one device).")


class StoredFiscalDocOut(FiscalDocOut):
    total: MoneyText


class SyncProgressOut(_Open):
    attempts: int
    next_attempt_at: float | None
    last_error: str | None
    ofd_id: str | None
    ofd_server_time: str | None
    hlc_server_ms: int | None
    synced_at: float | None


class ReceiptViewOut(_Open):
    """One stored document: its state, totals, fiscal data and delivery."""

    receipt_id: str
    document_type: str = Field(
        description="receipt, correction, shift_opening, shift_closing, registration (or the FFD code)."
    )
    state: Literal["accepted", "pending", "synced", "print_failed", "dlq"]
    pos_id: str
    type: str = Field(description="sale or refund (the settlement corrected, for a correction).")
    total: MoneyText
    created_at: float
    fiscal_doc: StoredFiscalDocOut | None
    print_error: str | None
    original_receipt_id: str | None
    hlc: str | None
    sync: SyncProgressOut


class ReceiptRowOut(ReceiptViewOut):
    idempotency_key: str


class ReceiptListOut(_Open):
    items: list[ReceiptRowOut]
    count: int
    q: str | None


class EventOut(_Open):
    id: int
    at: float
    kind: str
    receipt_id: str | None
    from_state: str | None
    to_state: str | None
    detail: str | None


class EventListOut(_Open):
    receipt_id: str
    items: list[EventOut]


class RefundCheckOut(_Open):
    """May the sale be refunded now: yes once it reached the OFD (200), else no with the reason (409)."""

    allowed: bool
    reason: str | None = None
    receipt_id: str
    sync_status: Literal["accepted", "pending", "synced", "print_failed", "dlq"]


# --- buffer, health -------------------------------------------------------------------------------------------


class BufferStatusOut(_Open):
    total_capacity: int
    current_queued: int
    percent_full: float
    accepted: int
    pending: int
    synced: int
    failed: int
    dlq_size: int
    oldest_unsynced_age_seconds: float | None
    oldest_pending_age_seconds: float | None
    network_status: Literal["online", "degraded", "offline", "unknown"]
    sync_mode: Literal["embedded", "remote", "off", "device"]
    buffer_percent: float = Field(description="= percent_full, under the ERP's name.")
    buffer_count: int = Field(description="= current_queued, under the ERP's name.")
    cb_state: str = Field(description="The circuit breaker's state.")


class HealthOut(_Open):
    """healthy or degraded (200), unhealthy (503), with the reasons and each component's state."""

    status: Literal["healthy", "degraded", "unhealthy"]
    reasons: list[str]
    version: str
    adapter_id: str
    uptime_seconds: float
    components: dict[str, dict[str, Any]]


class HeartbeatOut(_Open):
    enabled: bool
    state: str


class BreakerOut(_Open):
    state: str
    failure_count: int
    total_failures: int
    total_successes: int
    times_opened: int
    open_interval_seconds: float
    retry_in_seconds: float


# --- shift and reports ----------------------------------------------------------------------------------------


class DeviceShiftOut(_Open):
    open: bool | None
    number: int | None
    expired: bool | None
    expires_at: float | None


class DeviceFnOut(_Open):
    number: str | None
    unsent_count: int | None
    first_unsent_at: str | None
    warnings: list[str]


class DeviceRefusalOut(_Open):
    code: str
    reason: str
    at: float


class DeviceOut(_Open):
    """One device as routing and the operator see it."""

    name: str
    primary: bool
    driver: Literal["emulated", "atol"]
    usable: bool
    problem: str | None
    faults: list[str] = Field(description="offline, paper_out, fn_blocked, shift_expired, or the last refusal's code.")
    shift: DeviceShiftOut
    fn: DeviceFnOut
    last_document: dict[str, int | None]
    last_refusal: DeviceRefusalOut | None
    skipped_until: float | None = Field(
        description="Sales naming no device go to the others first until then (it refused one)."
    )
    checked_at: float | None


class DevicesOut(_Open):
    """Every device behind the adapter, the primary first."""

    primary: str
    devices: list[DeviceOut]


class TotalsOut(_Open):
    by_operation: dict[str, MoneyText]
    count_by_operation: dict[str, int]
    by_payment: dict[str, MoneyText]


class ShiftOut(_Open):
    shift_number: int | None
    open: bool
    opened_at: str | None
    expires_at: str | None
    expired: bool
    receipts: int
    documents: int
    totals: TotalsOut


class XReportOut(ShiftOut):
    report: Literal["X"]
    fiscal: Literal[False]


class _ShiftDocOut(_Open):
    fiscal_doc_number: int
    fiscal_sign: str
    fiscal_datetime: str
    fn_number: str
    kkt_number: str
    shift_number: int


class ShiftOpenedOut(_ShiftDocOut):
    status: Literal["opened"]


class ZReportOut(_ShiftDocOut):
    status: Literal["closed"]
    report: Literal["Z"]
    receipts: int
    documents: int
    totals: TotalsOut


class FnOut(_Open):
    fn_number: str
    validity_date: str | None
    ffd_version: str
    documents_count: int
    unsent_count: int
    first_unsent_fd_number: int | None
    first_unsent_at: str | None
    warnings: list[Literal["replace_soon", "resource_exhausted", "memory_nearly_full", "ofd_timeout"]]
    blocked: str | None = Field(description="Why the drive refuses documents now, or null.")


# --- sync -----------------------------------------------------------------------------------------------------


class PassOut(_Open):
    claimed: int
    synced: int
    retried: int
    dead: int
    released: int
    fenced: int
    breaker_open: bool


class SyncPassOut(PassOut):
    circuit_breaker: BreakerOut


class WorkerStatusOut(_Open):
    state: Literal["running", "idle", "stopped", "disabled"]
    sync_mode: Literal["embedded", "remote", "off", "device"]
    passes: int | None = None
    last_pass_at: float | None = None
    last_pass: PassOut | None = None
    next_wake_at: float | None = None
    totals: PassOut | None = None
    circuit_breaker: BreakerOut


class DeadLetterOut(_Open):
    receipt_id: str
    pos_id: str
    total_kop: int
    fd_number: int | None
    fn_number: str | None
    attempts: int
    reason: str
    moved_at: float


class DeadLettersOut(_Open):
    items: list[DeadLetterOut]
    count: int


class RequeuedOut(_Open):
    receipt_id: str
    state: Literal["pending"]


#: ``/metrics``: Prometheus' text format.
METRICS: Responses = {
    200: {
        "description": "Prometheus metrics, text exposition format.",
        "content": {"text/plain": {"schema": {"type": "string"}}},
    }
}


def image(media_type: str) -> Responses:
    """A 200 that is an image of ``media_type``."""
    return {
        200: {
            "description": "The receipt's QR code",
            "content": {media_type: {"schema": {"type": "string", "format": "binary"}}},
        }
    }


class HealthOrError(RootModel[HealthOut | ErrorOut]):
    """A 503 from health: the health body saying unhealthy, or a storage failure's error body."""
