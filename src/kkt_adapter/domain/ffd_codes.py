"""FFD 1.2 code tables of a receipt line and a receipt, and how a request names their codes.

A fiscal drive stores these attributes as integer codes: VAT rate (tag 1199), payment method (1214), payment object
(1212), measure (2108) and taxation system (1055). A request may give each by the name below (any case) or by its
code; :func:`code_parser` turns either into the code, or refuses with every allowed value listed. The VAT rate is
kept as the request writes it (``"20"``, ``"20/120"``, ``"none"``) and turned into its code when the receipt is built.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import Final

#: Tag 1199 codes by the request's ``vat_rate`` (numbers as percent, fractions as written on receipts).
VAT_RATE_CODES: Final[dict[str, int]] = {
    "20": 1,
    "10": 2,
    "20/120": 3,
    "10/110": 4,
    "0": 5,
    "none": 6,
    "5": 7,
    "7": 8,
    "5/105": 9,
    "7/107": 10,
    "22": 11,
    "22/122": 12,
}

#: Tag 1214 payment method by name.
PAYMENT_METHOD_CODES: Final[dict[str, int]] = {
    "full_prepayment": 1,
    "prepayment": 2,
    "advance": 3,
    "full_payment": 4,
    "partial_payment": 5,
    "credit": 6,
    "credit_payment": 7,
}

#: Tag 1212 payment object by name (FFD 1.2; 28 and 29 are not defined).
PAYMENT_OBJECT_CODES: Final[dict[str, int]] = {
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
MEASURE_CODES: Final[dict[str, int]] = {
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
TAXATION_CODES: Final[dict[str, int]] = {
    "osn": 1,
    "usn_income": 2,
    "usn_income_expense": 4,
    "esn": 16,
    "patent": 32,
}

#: Tag 1214 payment method: 4 is full payment, the usual one.
DEFAULT_PAYMENT_METHOD: Final = 4
#: Tag 1212 payment object: 1 is a commodity, the usual one.
DEFAULT_PAYMENT_OBJECT: Final = 1
#: Tag 2108 measure: 0 is a piece.
DEFAULT_MEASURE: Final = 0

#: The largest fiscal sign and fiscal document number: both are unsigned 32-bit numbers.
MAX_UINT32: Final = 4_294_967_295

#: The VAT rates as a refusal lists them: fractions and "none" quoted, percents bare.
ALLOWED_VAT: Final = ", ".join(repr(rate) if "/" in rate or rate == "none" else rate for rate in VAT_RATE_CODES)


def parse_vat_rate(value: object) -> str:
    """The VAT rate as a key of :data:`VAT_RATE_CODES`, from a whole number (``20``, ``20.0``) or a text in any case;
    anything else raises ``ValueError`` listing the rates."""
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


def code_parser(field: str, codes: Mapping[str, int]) -> Callable[[object], int]:
    """A parser taking one of ``codes`` by name (any case) or by its integer code, also written as a string; it
    raises ``ValueError`` naming ``field`` and every allowed name with its code."""
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
