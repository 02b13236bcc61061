"""ATOL's JSON on the wire: rubles as JSON numbers, read into :class:`~decimal.Decimal` and written back exactly.

Request bodies are parsed with ``parse_float=Decimal``, so ``200.10`` is never a binary float; an amount becomes
integer kopecks only if it has at most two decimals. Answers carry kopecks as ruble numbers (``39075`` →
``390.75``), written from the integer, never through a float.
"""

from __future__ import annotations

import json
import re
from decimal import Decimal, InvalidOperation
from typing import Any

from kkt_emulators.atol.errors import bad_param

# A Decimal in an answer is encoded as this marked string first, then the marked string becomes the bare number.
_MARK = "\x00num:"
_MARKED = re.compile(r'"\\u0000num:(-?\d+(?:\.\d+)?)"')


def parse_body(raw: bytes) -> Any:
    """The JSON value of a request body, numbers with a fraction as Decimal; ``ValueError`` if it is not JSON."""
    return json.loads(raw, parse_float=Decimal)


def is_number(value: object) -> bool:
    """A JSON number as parsed by :func:`parse_body` (an int or a Decimal, never a bool)."""
    return isinstance(value, int | Decimal) and not isinstance(value, bool)


def to_kopecks(value: object, field: str) -> int:
    """A ruble amount (a JSON number, >= 0, at most 2 decimals) as integer kopecks; the task error otherwise."""
    if not is_number(value):
        raise bad_param(f"{field}: нужна сумма в рублях (число), получено {value!r}")
    try:
        amount = Decimal(value) * 100  # type: ignore[arg-type]
    except InvalidOperation as exc:  # pragma: no cover - a parsed JSON number is always a valid Decimal
        raise bad_param(f"{field}: неверное число {value!r}") from exc
    if not amount.is_finite() or amount != amount.to_integral_value():
        raise bad_param(f"{field}: не больше 2 знаков после запятой, получено {value}")
    if amount < 0:
        raise bad_param(f"{field}: отрицательная сумма {value}")
    return int(amount)


def to_quantity(value: object, field: str) -> Decimal:
    """A quantity (a positive JSON number) as Decimal; the device checks its range and decimals."""
    if not is_number(value):
        raise bad_param(f"{field}: нужно количество (число), получено {value!r}")
    quantity = Decimal(value)  # type: ignore[arg-type]
    if not quantity.is_finite() or quantity <= 0:
        raise bad_param(f"{field}: количество должно быть больше нуля, получено {value}")
    return quantity


def rubles(kopecks: int) -> Decimal:
    """Kopecks as an exact ruble amount for an answer: 39075 → Decimal('390.75')."""
    return Decimal(kopecks).scaleb(-2)


def _encode(value: Any) -> Any:
    if isinstance(value, Decimal):
        return f"{_MARK}{value:f}"
    if isinstance(value, dict):
        return {key: _encode(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_encode(item) for item in value]
    return value


def dumps(value: Any) -> bytes:
    """Compact JSON; a Decimal is written as the plain number it is (``rubles(20000)`` as ``200.00``)."""
    text = json.dumps(_encode(value), ensure_ascii=False, separators=(",", ":"))
    return _MARKED.sub(lambda match: match.group(1), text).encode("utf-8")
