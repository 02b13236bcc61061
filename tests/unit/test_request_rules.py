"""The receipt's request rules, shared by the route and its short path: which key a request has, and its device."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest
from fastapi.exceptions import RequestValidationError

from kkt_adapter.api.request_rules import KEY_BYTES, request_key


def _service() -> Any:
    names = ("main", "backup")
    return SimpleNamespace(knows_device=lambda name: name in names, device_names=names)


def _body(key: str | None = None, device: str | None = None) -> Any:
    return SimpleNamespace(idempotency_key=key, device=device)


@pytest.mark.parametrize(
    ("header", "body", "expected"),
    [
        ("k-1", _body(), "k-1"),
        (None, _body("k-1"), "k-1"),
        ("k-1", _body("k-1"), "k-1"),
        ("k-1", _body(device="backup"), "k-1"),
    ],
)
def test_the_key_is_the_headers_or_the_bodys(header: str | None, body: Any, expected: str) -> None:
    """A key in the header, in the body, or the same in both is the request's key; a configured device passes."""
    assert request_key(_service(), header, body) == expected


@pytest.mark.parametrize(
    ("header", "body", "loc", "kind"),
    [
        (None, _body(), ("header", "Idempotency-Key"), "missing"),
        ("k-1", _body("k-2"), ("body", "idempotency_key"), "conflict"),
        ("k-1", _body(device="elsewhere"), ("body", "device"), "value_error"),
        ("k-1", _body("k-2", device="elsewhere"), ("body", "idempotency_key"), "conflict"),
    ],
)
def test_a_broken_rule_is_a_validation_error_naming_the_field(
    header: str | None, body: Any, loc: tuple[str, str], kind: str
) -> None:
    """No key, two different keys, or an unknown device is a 422 on that field (the key's rule is checked first)."""
    with pytest.raises(RequestValidationError) as raised:
        request_key(_service(), header, body)
    (problem,) = raised.value.errors()
    assert (problem["loc"], problem["type"]) == (loc, kind)


def test_an_unknown_device_is_answered_with_the_configured_ones() -> None:
    """The message lists the configured devices in order, the primary first."""
    with pytest.raises(RequestValidationError) as raised:
        request_key(_service(), "k-1", _body(device="elsewhere"))
    assert raised.value.errors()[0]["msg"] == "unknown device 'elsewhere': the configured devices are main, backup"


@pytest.mark.parametrize(
    ("key", "ok"),
    [(b"k", True), (b"k" * 128, True), (b"!~", True), (b"", False), (b"k" * 129, False), (b"a b", False)],
)
def test_the_short_paths_header_rule_is_the_routes(key: bytes, ok: bool) -> None:
    """Printable ASCII without blanks, 1 to 128 characters, as the route's header declares."""
    assert bool(KEY_BYTES.fullmatch(key)) is ok
