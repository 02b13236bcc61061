"""The field types of the API's request bodies: each a pydantic annotation over a fiscal field rule of the domain.

A rule lives in ``kkt_adapter.domain`` as a pure function that returns the field's value or raises ``ValueError``;
here it becomes a validator (a wrong field is a 422 naming it and what is allowed), with the JSON schema the OpenAPI
description shows for it. FFD 1.2 codes are taken by their names or as their integer codes (tags 1214, 1212, 2108,
1055).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date
from decimal import Decimal
from typing import Annotated

from pydantic import AfterValidator, BeforeValidator, Field, StringConstraints, ValidationInfo, WithJsonSchema

from kkt_adapter.domain.contact import parse_customer_contact
from kkt_adapter.domain.correction import parse_basis_date, parse_fiscal_sign
from kkt_adapter.domain.ffd_codes import (
    MAX_UINT32,
    MEASURE_CODES,
    PAYMENT_METHOD_CODES,
    PAYMENT_OBJECT_CODES,
    TAXATION_CODES,
    VAT_RATE_CODES,
    code_parser,
    parse_vat_rate,
)
from kkt_adapter.domain.inn import parse_inn
from kkt_adapter.domain.marking import parse_mark_code
from kkt_adapter.domain.text import fiscal_text_problem, normalize_fiscal_text


def _code_schema(codes: Mapping[str, int], description: str) -> WithJsonSchema:
    return WithJsonSchema(
        {
            "anyOf": [
                {"type": "string", "enum": list(codes)},
                {"type": "integer", "enum": sorted(set(codes.values()))},
            ],
            "description": description,
        }
    )


def _not_bool(value: object) -> object:
    if isinstance(value, bool):
        raise ValueError("must be a whole number, not true or false")
    return value


def _idempotency_key(value: str) -> str:
    """The body's key, from an ERP's own order number (``Заказ-000123``, ``Заказ покупателя 000123``): any printable
    Unicode text of 1–128 characters. Spaces only between other characters, and no other blank (a tab, a no-break
    space): an ERP that trims a key once and not the next time must not get two keys, so two prints."""
    blanks = any(char.isspace() and char != " " for char in value) or value != value.strip()
    if not 1 <= len(value) <= 128 or not value.isprintable() or blanks:
        raise ValueError(
            "idempotency_key must be 1–128 printable characters of any script, spaces only between them "
            "(e.g. Заказ-000123)"
        )
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise ValueError("idempotency_key must be text: it holds a lone UTF-16 surrogate") from exc
    return value


def _fiscal_text(value: object, info: ValidationInfo) -> object:
    """Text a fiscal drive can store, normalized (``KKT_TEXT_POLICY`` is applied to the originals afterwards, by
    :func:`~kkt_adapter.api.request_rules.text_rule`); what has no replacement is refused, every character at once.
    Before stripping and the length check, so a trailing TAB is seen and the limit holds for the printed text."""
    if not isinstance(value, str):
        return value
    if problem := fiscal_text_problem(info.field_name or "text", value):
        raise ValueError(problem)
    return normalize_fiscal_text(value).text


#: A text field printed on the receipt or stored by the fiscal drive: normalized to CP866 characters.
FiscalText = BeforeValidator(_fiscal_text)

#: Where a receipt's and a correction's texts are, for :func:`texts_as_sent` (``*``: every element of a list).
RECEIPT_TEXTS: tuple[tuple[str, ...], ...] = (
    ("pos_id",),
    ("items", "*", "name"),
    ("cashier", "name"),
    ("original_receipt_id",),
)
CORRECTION_TEXTS: tuple[tuple[str, ...], ...] = (
    ("pos_id",),
    ("basis_number",),
    ("items", "*", "name"),
    ("cashier", "name"),
)


def texts_as_sent(raw: object, paths: tuple[tuple[str, ...], ...]) -> tuple[tuple[str, str], ...]:
    """The texts of a request body (as parsed from JSON) that normalization changes, by path
    (``items[0].name``), as sent."""
    found: list[tuple[str, str]] = []
    for path in paths:
        found += _texts(raw, path, "")
    return tuple((where, text) for where, text in found if normalize_fiscal_text(text).substitutions)


def _texts(node: object, path: tuple[str, ...], where: str) -> list[tuple[str, str]]:
    if not path:
        return [(where, node)] if isinstance(node, str) else []
    head, rest = path[0], path[1:]
    if head == "*":
        if not isinstance(node, list):
            return []
        return [text for index, item in enumerate(node) for text in _texts(item, rest, f"{where}[{index}]")]
    if not isinstance(node, Mapping) or head not in node:
        return []
    return _texts(node[head], rest, f"{where}.{head}" if where else head)


def path_loc(path: str) -> tuple[str | int, ...]:
    """``items[0].name`` as a 422's ``loc``: ``("items", 0, "name")``."""
    return tuple(int(part) if part.isdigit() else part for part in re.split(r"[.\[\]]+", path) if part)


#: Rubles in a string, for the OpenAPI description: up to 10 digits and up to 2 decimals (validation is the Field's).
MONEY_PATTERN = r"^[0-9]{1,10}(\.[0-9]{1,2})?$"
Money = Annotated[
    Decimal,
    Field(gt=0, max_digits=12, decimal_places=2, allow_inf_nan=False),
    WithJsonSchema(
        {
            "anyOf": [
                {"type": "number", "exclusiveMinimum": 0},
                {"type": "string", "pattern": MONEY_PATTERN},
            ],
            "description": 'Rubles, more than 0, at most 2 decimals: 100, 89.9 or "89.90".',
        }
    ),
]
#: Up to 99,999.999 with three decimals: what a fiscal drive takes in tag 1023.
Quantity = Annotated[Decimal, Field(gt=0, le=Decimal("99999.999"), decimal_places=3, allow_inf_nan=False)]
VatRate = Annotated[
    str,
    BeforeValidator(parse_vat_rate),
    WithJsonSchema(
        {
            "anyOf": [
                {"type": "string", "enum": list(VAT_RATE_CODES)},
                {"type": "integer", "enum": sorted({int(rate) for rate in VAT_RATE_CODES if rate.isdigit()})},
            ],
            "description": 'VAT rate (tag 1199): a percent, "none", or a fraction such as "20/120".',
        }
    ),
]
Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=128), FiscalText]
Text64 = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64), FiscalText]
PaymentMethod = Annotated[
    int,
    BeforeValidator(code_parser("payment_method", PAYMENT_METHOD_CODES)),
    _code_schema(PAYMENT_METHOD_CODES, "Payment method (tag 1214); full_payment (4) when left out."),
]
PaymentObject = Annotated[
    int,
    BeforeValidator(code_parser("payment_object", PAYMENT_OBJECT_CODES)),
    _code_schema(
        PAYMENT_OBJECT_CODES,
        "Payment object (tag 1212). Left out: marked_commodity (33) on a line with a mark_code, else commodity (1). "
        "A line with a mark_code takes marked_excise (31) or marked_commodity (33); those two require a mark_code.",
    ),
]
Measure = Annotated[
    int,
    BeforeValidator(code_parser("measure", MEASURE_CODES)),
    _code_schema(MEASURE_CODES, "Measure (tag 2108); piece (0) when left out."),
]
Taxation = Annotated[
    int,
    BeforeValidator(code_parser("taxation", TAXATION_CODES)),
    _code_schema(TAXATION_CODES, "Taxation system (tag 1055), one of those the KKT was registered with."),
]
MarkCode = Annotated[
    str,
    AfterValidator(parse_mark_code),
    Field(description="Marking code (tag 2000): the DataMatrix content, GS1 separators as \\u001d."),
]
#: The cashier's INN (tag 1203), check digits verified.
Inn = Annotated[str, AfterValidator(parse_inn)]
#: The buyer's e-mail or phone (tag 1008).
CustomerContact = Annotated[str, StringConstraints(strip_whitespace=True), AfterValidator(parse_customer_contact)]
#: A refunded sale's fiscal document number (tag 1040): a whole number, not a boolean.
FdNumber = Annotated[int, BeforeValidator(_not_bool), Field(ge=1, le=MAX_UINT32)]
#: A correction's basis date (tag 1178).
BasisDate = Annotated[date, BeforeValidator(parse_basis_date)]
#: The corrected receipt's fiscal sign (attribute 1192).
FiscalSign = Annotated[str, AfterValidator(parse_fiscal_sign)]
DeviceName = Annotated[
    str,
    StringConstraints(pattern=r"^[A-Za-z0-9_-]{1,32}$"),
    Field(
        description="Optional: the device to print on (a name from KKT_DEVICES). A request naming a device is "
        "printed there or refused, never moved to another; without it the adapter chooses (the primary, then the "
        "next after a refusal). Not part of the request's hash."
    ),
]
IdempotencyKey = Annotated[
    str,
    AfterValidator(_idempotency_key),
    Field(
        description="Optional: the key for clients that cannot set the Idempotency-Key header, any printable text "
        "of 1–128 characters (e.g. an ERP's order number, Заказ-000123); when both are given they must be equal."
    ),
]
