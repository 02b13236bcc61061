"""The request rules of the receipt and the correction, one set for the routes and the receipt's short path
(:mod:`kkt_adapter.api.fast_receipt`): the ``Idempotency-Key`` header, a key sent in the body instead, the device a
request names.

A broken rule is a :class:`~fastapi.exceptions.RequestValidationError`, answered 422 by the error table. The short
path checks the same rules by calling the same functions; where one is broken it hands the request to the route,
so every 422 comes from the route, in its words.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Protocol

from fastapi import Header, Query
from fastapi.exceptions import RequestValidationError

from kkt_adapter.api.fields import path_loc
from kkt_adapter.domain.text import TextPolicy, strict_text_problem
from kkt_adapter.service import AppService

#: An idempotency key's characters: printable ASCII, no blanks.
KEY_CHARS = r"[\x21-\x7e]"
#: The longest idempotency key.
KEY_MAX = 128
#: The header's rule on its raw bytes, for the short path (the same rule as :data:`IdempotencyKey`).
KEY_BYTES = re.compile(rf"{KEY_CHARS}{{1,{KEY_MAX}}}".encode("ascii"))

IdempotencyKey = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        min_length=1,
        max_length=KEY_MAX,
        pattern=rf"^{KEY_CHARS}+$",
        description="The client's unique id of this sale (printable ASCII, 1–128 characters). A retry with the same "
        "key returns the first answer and never prints again.",
    ),
]

DeviceQuery = Annotated[
    str | None,
    Query(
        pattern=r"^[A-Za-z0-9_-]{1,32}$",
        description="The device (a name from KKT_DEVICES); the primary when absent.",
    ),
]


class KeyedRequest(Protocol):
    """A receipt or correction body: its own idempotency key (for clients that cannot set a header), its device, and
    the texts normalized for the fiscal drive, as sent."""

    @property
    def idempotency_key(self) -> str | None: ...

    @property
    def device(self) -> str | None: ...

    @property
    def as_sent(self) -> tuple[tuple[str, str], ...]: ...


def text_rule(policy: TextPolicy, body: KeyedRequest) -> None:
    """``KKT_TEXT_POLICY=strict``: a text the policy would have changed is a 422 naming each field and every
    character of it; ``normalize`` takes the request as it is (its changes become the answer's ``warnings``)."""
    if policy == "strict" and body.as_sent:
        raise RequestValidationError(
            [
                {"loc": ("body", *path_loc(path)), "msg": strict_text_problem(path, text), "type": "value_error"}
                for path, text in body.as_sent
            ]
        )


def request_key(service: AppService, header: str | None, body: KeyedRequest) -> str:
    """The key of a receipt or correction whose header and body passed validation: the header's, or the body's
    ``idempotency_key``; the body's ``device`` must be configured."""
    # Once per receipt: the usual request (a header, no key in the body, no device) takes no further call.
    body_key, device = body.idempotency_key, body.device
    key = header if header is not None and body_key is None else idempotency_key(header, body_key)
    if device is not None:
        known_device(service, device, "body")
    return key


def idempotency_key(header: str | None, body: str | None) -> str:
    """The request's idempotency key: the header, or the body's ``idempotency_key`` for clients that cannot set one."""
    if header is not None and body is not None and header != body:
        raise RequestValidationError(
            [_problem("body", "idempotency_key", "differs from the Idempotency-Key header: send one key", "conflict")]
        )
    key = header if header is not None else body
    if key is None:
        raise RequestValidationError(
            [
                _problem(
                    "header",
                    "Idempotency-Key",
                    "an Idempotency-Key header (or a body field idempotency_key) "
                    "is required: the client's unique id of this sale",
                    "missing",
                )
            ]
        )
    return key


def known_device(service: AppService, name: str | None, where: str) -> str | None:
    """``name`` if it is a configured device (or ``None``); else a 422 on ``where``'s ``device``."""
    if name is not None and not service.knows_device(name):
        allowed = ", ".join(service.device_names)
        raise RequestValidationError(
            [_problem(where, "device", f"unknown device {name!r}: the configured devices are {allowed}", "value_error")]
        )
    return name


def _problem(where: str, name: str, message: str, kind: str) -> dict[str, Any]:
    return {"loc": (where, name), "msg": message, "type": kind}
