"""What the API answers, for its OpenAPI description: the error bodies of every status, and how a route lists them.

The routes build their bodies themselves (the receipt POST returns pre-serialised bytes, the others plain dicts);
the models here and those of every 200 (``receipt_answers``, ``device_answers``, ``status_answers``) describe those
bodies and never serialise them, so the bytes a client gets do not depend on them. Each model allows fields it does
not name: an answer may grow a field without breaking a client that checks it.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, RootModel

#: Rubles as the API writes them in strings: an exact decimal with two places (``"100.00"``).
MONEY_PATTERN = r"^-?[0-9]+\.[0-9]{2}$"

MoneyText = Annotated[str, Field(pattern=MONEY_PATTERN, description='Rubles, exact, two decimals: "100.00".')]


class OpenModel(BaseModel):
    """A described answer that may carry fields it does not name."""

    model_config = ConfigDict(extra="allow")


# --- errors ---------------------------------------------------------------------------------------------------


class ErrorOut(BaseModel):
    """Every refusal other than a field's: what went wrong, and a stable code to act on."""

    model_config = ConfigDict(extra="allow", json_schema_extra={"examples": [{"detail": "...", "error": "not_found"}]})

    detail: str = Field(description="What went wrong, for people.")
    error: str = Field(description="A stable code for programs: buffer_full, paper_out, not_found, ...")


class ProblemOut(OpenModel):
    """One wrong field."""

    loc: list[str | int] = Field(description='Where: ["body", "items", 0, "price"], ["header", "Idempotency-Key"].')
    msg: str
    type: str


class FieldErrorsOut(OpenModel):
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


class BadRequestOut(OpenModel):
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
