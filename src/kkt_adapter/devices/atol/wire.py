"""ATOL's JSON on the wire, with money kept exact: amounts are written from ``Decimal`` as JSON numbers and every
number with a fraction is read back as ``Decimal`` (never a binary float)."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

#: The type of a JSON value read by :func:`loads`: numbers with a fraction are ``Decimal``.
JSON = Any


def loads(text: str | bytes) -> JSON:
    """Parse JSON; numbers with a fraction or exponent become ``Decimal``."""
    return json.loads(text, parse_float=Decimal)


def dumps(value: JSON) -> str:
    """Serialize JSON; a ``Decimal`` is written as a JSON number digit for digit (``Decimal("200.00")`` → ``200.00``).

    Only JSON's own types and ``Decimal`` are accepted; a float is refused, so that no binary float reaches the KKT.
    """
    return _encode(value)


def _encode(value: JSON) -> str:
    if value is None or isinstance(value, bool | str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise ValueError(f"not a JSON number: {value}")
        return format(value, "f")
    if isinstance(value, dict):
        items = (f"{json.dumps(str(key), ensure_ascii=False)}:{_encode(item)}" for key, item in value.items())
        return "{" + ",".join(items) + "}"
    if isinstance(value, list | tuple):
        return "[" + ",".join(_encode(item) for item in value) + "]"
    raise TypeError(f"{type(value).__name__} is not written to ATOL's JSON (money must be Decimal, never float)")
