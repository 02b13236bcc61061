"""One table from the domain's errors to HTTP answers; routes hold no try/except."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from kkt_adapter.domain import errors

#: Status code by error type; the most specific type listed wins.
STATUS: dict[type[errors.AdapterError], int] = {
    errors.InvalidReceipt: 422,
    errors.IdempotencyConflict: 422,
    errors.RequestInFlight: 409,
    errors.BufferFull: 503,
    errors.DeviceUnavailable: 503,
    errors.DeviceRejectedReceipt: 422,
    errors.ShiftConflict: 409,
    errors.DeviceRefused: 503,
    errors.NotFound: 404,
    errors.SyncDisabled: 409,
}


def _status_of(exc: errors.AdapterError) -> int:
    for kind in type(exc).__mro__:
        if kind in STATUS:
            return STATUS[kind]
    return 500


async def adapter_error_handler(request: Request, exc: Exception) -> JSONResponse:
    """Answer an :class:`~kkt_adapter.domain.errors.AdapterError` by the table above."""
    assert isinstance(exc, errors.AdapterError)
    headers: dict[str, str] = {}
    if isinstance(exc, errors.InvalidReceipt):
        detail: object = [
            {"loc": ["body", *problem.loc], "msg": problem.message, "type": "value_error"} for problem in exc.problems
        ]
    else:
        detail = exc.message
    if isinstance(exc, errors.BufferFull):
        headers["Retry-After"] = str(exc.retry_after_s)
    if isinstance(exc, errors.RequestInFlight):
        headers["Retry-After"] = "1"
    return JSONResponse({"detail": detail, "error": exc.code}, status_code=_status_of(exc), headers=headers)


def install(app: FastAPI) -> None:
    """Register the table's handler on ``app``."""
    app.add_exception_handler(errors.AdapterError, adapter_error_handler)
