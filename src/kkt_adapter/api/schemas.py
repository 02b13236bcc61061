"""Request bodies of the API, exactly as the field's documents write them; amounts are ``Decimal`` rubles.

Each model checks its fields one by one (a wrong field is a 422 naming it and what is allowed); rules across
fields (balanced sums, a marking code's payment object, a refund's link to its sale, a correction's basis) are the
domain's, checked by ``to_receipt`` / ``to_correction``, which raise ``InvalidReceipt`` naming the field.

FFD 1.2 codes are taken by the names below or as their integer codes (tags 1214, 1212, 2108, 1055).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from datetime import date
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationInfo,
    WithJsonSchema,
)
from stdnum.exceptions import ValidationError as StdnumError
from stdnum.ru import inn as ru_inn

from kkt_adapter.api.text import fiscal_text_problem
from kkt_adapter.domain.correction import Correction, CorrectionType, build_correction
from kkt_adapter.domain.money import to_kopecks
from kkt_adapter.domain.receipt import (
    DEFAULT_MEASURE,
    DEFAULT_PAYMENT_METHOD,
    VAT_RATE_CODES,
    Cashier,
    ItemInput,
    Payment,
    Receipt,
    build_receipt,
)

ALLOWED_VAT = ", ".join(repr(rate) if "/" in rate or rate == "none" else rate for rate in VAT_RATE_CODES)

#: Tag 1214 payment method by name.
PAYMENT_METHOD_CODES: dict[str, int] = {
    "full_prepayment": 1,
    "prepayment": 2,
    "advance": 3,
    "full_payment": 4,
    "partial_payment": 5,
    "credit": 6,
    "credit_payment": 7,
}

#: Tag 1212 payment object by name (FFD 1.2; 28 and 29 are not defined).
PAYMENT_OBJECT_CODES: dict[str, int] = {
    "commodity": 1,
    "excise": 2,
    "job": 3,
    "service": 4,
    "gambling_bet": 5,
    "gambling_prize": 6,
    "lottery": 7,
    "lottery_prize": 8,
    "intellectual_activity": 9,
    "payment": 10,
    "agent_commission": 11,
    "payout": 12,
    "another": 13,
    "property_right": 14,
    "non_operating_gain": 15,
    "insurance_premium": 16,
    "sales_tax": 17,
    "resort_fee": 18,
    "deposit": 19,
    "expense": 20,
    "pension_insurance_ip": 21,
    "pension_insurance": 22,
    "medical_insurance_ip": 23,
    "medical_insurance": 24,
    "social_insurance": 25,
    "casino_payment": 26,
    "funds_issuance": 27,
    "marked_excise_without_code": 30,
    "marked_excise": 31,
    "marked_commodity_without_code": 32,
    "marked_commodity": 33,
}

#: Tag 2108 measure by name.
MEASURE_CODES: dict[str, int] = {
    "piece": 0,
    "gram": 10,
    "kg": 11,
    "ton": 12,
    "cm": 20,
    "dm": 21,
    "m": 22,
    "sq_cm": 30,
    "sq_dm": 31,
    "sq_m": 32,
    "ml": 40,
    "l": 41,
    "cubic_m": 42,
    "kwh": 50,
    "gcal": 51,
    "day": 70,
    "hour": 71,
    "minute": 72,
    "second": 73,
    "kb": 80,
    "mb": 81,
    "gb": 82,
    "tb": 83,
    "other": 255,
}

#: Tag 1055 taxation system by name (one bit: a receipt is made under one system).
TAXATION_CODES: dict[str, int] = {"osn": 1, "usn_income": 2, "usn_income_expense": 4, "esn": 16, "patent": 32}

#: The largest fiscal sign and fiscal document number: both are unsigned 32-bit numbers.
MAX_UINT32 = 4_294_967_295


def _vat_rate(value: object) -> str:
    if isinstance(value, bool) or value is None:
        raise ValueError(f"vat_rate must be one of {ALLOWED_VAT}")
    if isinstance(value, int | Decimal) or (isinstance(value, float) and value.is_integer()):
        text = str(int(value)) if Decimal(str(value)) == int(value) else str(value)
    elif isinstance(value, str):
        text = value.strip().lower()
    else:
        raise ValueError(f"vat_rate must be one of {ALLOWED_VAT}")
    if text not in VAT_RATE_CODES:
        raise ValueError(f"vat_rate must be one of {ALLOWED_VAT}, got {value!r}")
    return text


def _code(field: str, codes: Mapping[str, int]) -> Callable[[object], int]:
    """A validator taking one of ``codes`` by name (any case) or by its integer code, also written as a string."""
    allowed = ", ".join(f"{name!r} ({code})" for name, code in codes.items())

    def parse(value: object) -> int:
        if isinstance(value, str) and value.strip().lower() in codes:
            return codes[value.strip().lower()]
        text = value.strip() if isinstance(value, str) else value
        if isinstance(text, str) and text.isascii() and text.isdigit():
            text = int(text)
        if isinstance(text, int) and not isinstance(text, bool) and text in codes.values():
            return text
        raise ValueError(f"{field} must be one of {allowed}, as the name or the code; got {value!r}")

    return parse


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


def _mark_code(value: str) -> str:
    if not 1 <= len(value) <= 256 or not re.fullmatch(r"[\x21-\x7e\x1d]+", value):
        raise ValueError(
            "mark_code must be the DataMatrix content as read: 1–256 printable ASCII characters without spaces, "
            "GS1 group separators (\\u001d) allowed"
        )
    return value


def _inn(value: str) -> str:
    try:
        return str(ru_inn.validate(value))
    except StdnumError as exc:
        raise ValueError(
            f"inn must be a valid INN: 10 digits (organisation) or 12 (individual) with correct check digits; {exc}"
        ) from exc


_EMAIL = re.compile(
    r"[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
    r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+"
)
_PHONE = re.compile(r"\+[0-9]{11,15}")


def _contact(value: str) -> str:
    if len(value) > 64 or not (_EMAIL.fullmatch(value) or _PHONE.fullmatch(value)):
        raise ValueError(
            "customer_contact must be an e-mail (buyer@example.ru) or a phone as + and 11–15 digits "
            "(+79161234567), at most 64 characters"
        )
    return value


def _not_bool(value: object) -> object:
    if isinstance(value, bool):
        raise ValueError("must be a whole number, not true or false")
    return value


def _idempotency_key(value: str) -> str:
    if not 1 <= len(value) <= 128 or not re.fullmatch(r"[\x21-\x7e]+", value):
        raise ValueError("idempotency_key must be 1–128 printable ASCII characters without spaces, as the header")
    return value


def _basis_date(value: object) -> date:
    message = "basis_date must be a date as YYYY-MM-DD, from 2017-01-01 to 2100-12-31"
    if not isinstance(value, str) or not re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", value):
        raise ValueError(f"{message}; got {value!r}")
    try:
        parsed = date.fromisoformat(value)
    except ValueError:
        raise ValueError(f"{message}; {value!r} is not a date") from None
    if not date(2017, 1, 1) <= parsed <= date(2100, 12, 31):
        raise ValueError(f"{message}; got {value!r}")
    return parsed


def _fiscal_sign(value: str) -> str:
    text = value.strip()
    if not (text.isascii() and text.isdigit() and len(text) <= 10 and int(text) <= MAX_UINT32):
        raise ValueError(f"corrected_fiscal_sign must be the fiscal sign as printed: 1–10 digits, at most {MAX_UINT32}")
    return str(int(text))


def _fiscal_text(value: object, info: ValidationInfo) -> object:
    """Refuse text a fiscal drive cannot store: checked before stripping, so a trailing CR/LF or TAB is refused too."""
    if isinstance(value, str) and (problem := fiscal_text_problem(info.field_name or "text", value)):
        raise ValueError(problem)
    return value


#: A text field printed on the receipt or stored by the fiscal drive: no control characters, only CP866 characters.
FiscalText = BeforeValidator(_fiscal_text)

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
    BeforeValidator(_vat_rate),
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
    BeforeValidator(_code("payment_method", PAYMENT_METHOD_CODES)),
    _code_schema(PAYMENT_METHOD_CODES, "Payment method (tag 1214); full_payment (4) when left out."),
]
PaymentObject = Annotated[
    int,
    BeforeValidator(_code("payment_object", PAYMENT_OBJECT_CODES)),
    _code_schema(
        PAYMENT_OBJECT_CODES,
        "Payment object (tag 1212). Left out: marked_commodity (33) on a line with a mark_code, else commodity (1). "
        "A line with a mark_code takes marked_excise (31) or marked_commodity (33); those two require a mark_code.",
    ),
]
Measure = Annotated[
    int,
    BeforeValidator(_code("measure", MEASURE_CODES)),
    _code_schema(MEASURE_CODES, "Measure (tag 2108); piece (0) when left out."),
]
Taxation = Annotated[
    int,
    BeforeValidator(_code("taxation", TAXATION_CODES)),
    _code_schema(TAXATION_CODES, "Taxation system (tag 1055), one of those the KKT was registered with."),
]
MarkCode = Annotated[
    str,
    AfterValidator(_mark_code),
    Field(description="Marking code (tag 2000): the DataMatrix content, GS1 separators as \\u001d."),
]
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
    Field(description="Optional; when given it must equal the Idempotency-Key header."),
]


class ItemIn(BaseModel):
    """One item line: unit price and optional line total in rubles, quantity, VAT rate (percent or fraction), and
    optional FFD 1.2 codes (payment method, payment object, measure) and marking code."""

    model_config = ConfigDict(extra="forbid", strict=False)

    name: Name
    price: Money
    quantity: Quantity
    vat_rate: VatRate
    total: Money | None = None
    payment_method: PaymentMethod | None = None
    payment_object: PaymentObject | None = None
    measure: Measure | None = None
    mark_code: MarkCode | None = None

    def to_input(self) -> ItemInput:
        """The line in kopecks and codes, defaults filled in by the domain."""
        return ItemInput(
            name=self.name,
            price_kop=to_kopecks(self.price),
            quantity=self.quantity,
            vat_rate=self.vat_rate,
            total_kop=None if self.total is None else to_kopecks(self.total),
            payment_method=DEFAULT_PAYMENT_METHOD if self.payment_method is None else self.payment_method,
            payment_object=self.payment_object,
            measure=DEFAULT_MEASURE if self.measure is None else self.measure,
            mark_code=self.mark_code,
        )


class PaymentIn(BaseModel):
    """One payment: ``cash``, ``card`` (= ``electronic``), ``prepaid``, ``credit`` or ``provision``."""

    model_config = ConfigDict(extra="forbid")

    type: Literal["cash", "card", "electronic", "prepaid", "credit", "provision"]
    amount: Money

    def to_payment(self) -> Payment:
        """The payment in kopecks."""
        return Payment(kind=self.type, amount_kop=to_kopecks(self.amount))


class CashierIn(BaseModel):
    """The cashier: name (tag 1021, 1–64 characters) and optional INN (tag 1203, check digits verified)."""

    model_config = ConfigDict(extra="forbid")

    name: Text64
    inn: Annotated[str, AfterValidator(_inn)] | None = None

    def to_cashier(self) -> Cashier:
        """The domain's cashier."""
        return Cashier(name=self.name, inn=self.inn)


_SALE_EXAMPLE: dict[str, Any] = {
    "pos_id": "POS-001",
    "type": "sale",
    "items": [{"name": "Test Product", "price": 100, "quantity": 1, "vat_rate": 20}],
    "payments": [{"type": "cash", "amount": 100}],
}


class ReceiptIn(BaseModel):
    """A sale or a refund of a sale; a refund may name its sale by ``original_receipt_id`` or ``original_fd_number``."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                _SALE_EXAMPLE,
                {
                    "pos_id": "POS-001",
                    "type": "refund",
                    "original_fd_number": 3,
                    "cashier": {"name": "Иванова А.", "inn": "500100732259"},
                    "customer_contact": "+79161234567",
                    "taxation": "usn_income",
                    "items": [
                        {
                            "name": "Test Product",
                            "price": 100,
                            "quantity": 1,
                            "vat_rate": 20,
                            "payment_method": "full_payment",
                            "payment_object": "commodity",
                            "measure": "piece",
                        }
                    ],
                    "payments": [{"type": "cash", "amount": 100}],
                },
            ]
        },
    )

    pos_id: Text64
    type: Literal["sale", "refund"]
    items: Annotated[list[ItemIn], Field(min_length=1, max_length=1000)]
    payments: Annotated[list[PaymentIn], Field(min_length=1, max_length=16)]
    cashier: CashierIn | None = None
    customer_contact: Annotated[str, StringConstraints(strip_whitespace=True), AfterValidator(_contact)] | None = None
    taxation: Taxation | None = None
    original_receipt_id: Text64 | None = Field(
        default=None, description='The refunded sale\'s receipt_id; only with type "refund".'
    )
    original_fd_number: Annotated[int, BeforeValidator(_not_bool), Field(ge=1, le=MAX_UINT32)] | None = Field(
        default=None, description='The refunded sale\'s fiscal document number; only with type "refund".'
    )
    idempotency_key: IdempotencyKey | None = None
    device: DeviceName | None = None

    def to_receipt(self) -> Receipt:
        """The domain receipt in kopecks; raises ``InvalidReceipt`` when a rule across fields is broken.

        ``idempotency_key`` is not part of the receipt (nor of its hash): it names the request, not the sale.
        """
        return build_receipt(
            pos_id=self.pos_id,
            operation=self.type,
            items=[item.to_input() for item in self.items],
            payments=[p.to_payment() for p in self.payments],
            cashier=None if self.cashier is None else self.cashier.to_cashier(),
            customer_contact=self.customer_contact,
            taxation=self.taxation,
            original_receipt_id=self.original_receipt_id,
            original_fd_number=self.original_fd_number,
        )


class CorrectionIn(BaseModel):
    """A correction receipt (FFD document type 31): the corrected settlement's lines and payments, and the basis."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    **_SALE_EXAMPLE,
                    "correction_type": "instruction",
                    "basis_date": "2025-11-30",
                    "basis_number": "ЕД-7-20/123",
                    "corrected_fiscal_sign": "2981623349",
                }
            ]
        },
    )

    pos_id: Text64
    type: Literal["sale", "refund"] = Field(description="The corrected settlement (tag 1054).")
    correction_type: CorrectionType = Field(
        description="Tag 1173: self (0, the seller's own initiative) or instruction (1, by order of the tax service)."
    )
    basis_date: Annotated[date, BeforeValidator(_basis_date)] = Field(
        description="Tag 1178: the date of the corrected settlement, YYYY-MM-DD."
    )
    basis_number: Text64 | None = Field(
        default=None, description='Tag 1179: the order\'s number; required with correction_type "instruction".'
    )
    items: Annotated[list[ItemIn], Field(min_length=1, max_length=1000)]
    payments: Annotated[list[PaymentIn], Field(min_length=1, max_length=16)]
    cashier: CashierIn | None = None
    taxation: Taxation | None = None
    corrected_fiscal_sign: Annotated[str, AfterValidator(_fiscal_sign)] | None = Field(
        default=None, description="The wrong receipt's fiscal sign (additional attribute 1192)."
    )
    idempotency_key: IdempotencyKey | None = None
    device: DeviceName | None = None

    def to_correction(self) -> Correction:
        """The domain correction in kopecks; raises ``InvalidReceipt`` when a rule across fields is broken."""
        return build_correction(
            pos_id=self.pos_id,
            operation=self.type,
            items=[item.to_input() for item in self.items],
            payments=[p.to_payment() for p in self.payments],
            correction_type=self.correction_type,
            basis_date=self.basis_date,
            basis_number=self.basis_number,
            corrected_fiscal_sign=self.corrected_fiscal_sign,
            cashier=None if self.cashier is None else self.cashier.to_cashier(),
            taxation=self.taxation,
        )
