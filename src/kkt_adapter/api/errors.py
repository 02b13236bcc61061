"""One table from the domain's errors to HTTP answers; routes hold no try/except."""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from kkt_adapter.api.json_body import json_problem
from kkt_adapter.api.messages import language, message
from kkt_adapter.api.text import safe_problem
from kkt_adapter.domain import errors
from kkt_adapter.service import STORAGE_FAULTS

log = logging.getLogger(__name__)

#: Retry-After for a storage fault that reached HTTP untranslated (a read on a route other than the receipt path).
STORAGE_RETRY_AFTER_S = 5

#: Status code by error type; the most specific type listed wins.
STATUS: dict[type[errors.AdapterError], int] = {
    errors.InvalidReceipt: 422,
    errors.IdempotencyConflict: 422,
    errors.RequestInFlight: 409,
    errors.BufferFull: 503,
    errors.StorageUnavailable: 503,
    errors.DeviceUnavailable: 503,
    errors.DeviceRejectedReceipt: 422,
    errors.ShiftConflict: 409,
    errors.DeviceRefused: 503,
    errors.DeviceError: 503,
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
    if isinstance(exc, errors.BufferFull | errors.StorageUnavailable):
        headers["Retry-After"] = str(exc.retry_after_s)
    if isinstance(exc, errors.RequestInFlight):
        headers["Retry-After"] = "1"
    body: dict[str, object] = {"detail": detail, "error": exc.code}
    if isinstance(exc, errors.DeviceError) and exc.device is not None:
        body["device"] = exc.device
    if isinstance(exc, errors.FieldRequired):
        body |= {"field": exc.field, "allowed": list(exc.allowed)}
    if isinstance(exc, errors.NoDeviceCouldPrint):
        body["devices"] = {name: {"code": one.code, "reason": one.reason} for name, one in exc.refusals.items()}
    body |= _for_people(request, exc.code, kind="device" if isinstance(exc, errors.DeviceError) else "error")
    return JSONResponse(body, status_code=_status_of(exc), headers=headers)


def _for_people(request: Request, code: str, *, kind: str = "error") -> dict[str, str]:
    """The stable ``code`` and a ``message`` in the request's language (api/messages.py), beside ``detail``."""
    return {"code": code, "message": message(code, language(request.headers.get("accept-language")), kind=kind)}


async def storage_error_handler(request: Request, exc: Exception) -> JSONResponse:
    """A storage fault no inner layer translated is still a 503 with its reason, never a bare 500."""
    log.error("storage fault", extra={"path": request.url.path, "error": f"{type(exc).__name__}: {exc}"})
    unavailable = errors.StorageUnavailable(
        f"the buffer's storage failed ({type(exc).__name__}: {exc}); retry later", retry_after_s=STORAGE_RETRY_AFTER_S
    )
    return await adapter_error_handler(request, unavailable)


async def validation_error_handler(request: Request, exc: Exception) -> JSONResponse:
    """422 naming each wrong field: JSON-safe (``NaN``, ``1e309``, lone surrogates), only excerpts of the input."""
    assert isinstance(exc, RequestValidationError)
    problems = [safe_problem(json_problem(error, exc.body)) for error in exc.errors()]
    body = {"detail": problems} | _for_people(request, "invalid_request")
    return JSONResponse(body, status_code=422)


def install(app: FastAPI) -> None:
    """Register the table's handler on ``app``, and the safety net for untranslated storage faults."""
    app.add_exception_handler(errors.AdapterError, adapter_error_handler)
    for fault in STORAGE_FAULTS:
        app.add_exception_handler(fault, storage_error_handler)
    app.add_exception_handler(RequestValidationError, validation_error_handler)
