"""The mock OFD's document checks (``validate=True``): what a real OFD refuses, with an OFD-style code.

Checked, in order: the body carries a ``fiscal_document`` object; required tags are present with the right types;
FN number (1041) of 16 digits; INN (1018) with its check digits; KKT registration number (1037) of 16 digits, and its
CRC check when the document also carries the KKT serial (1013); operation type (1054); date-time (1012); items (1059):
name, price, quantity, item sum = price × quantity (±1 kopeck), VAT code and VAT sum (±1 kopeck); sum of items = total
(1020) = cash + electronic + prepaid + credit + counter-provision; the fiscal sign (1077) is a uint32, and matches the
document when the OFD knows the FN's secret.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any, Final

from kkt_emulators import fiscal

REQUIRED_TAGS: Final = ("1012", "1018", "1020", "1037", "1040", "1041", "1054", "1059", "1077")
PAYMENT_TAGS: Final = ("1031", "1081", "1215", "1216", "1217")
MONEY_TOLERANCE_KOP: Final = 1
MAX_NAME_LENGTH: Final = 128
FFD_VERSIONS: Final = (2, 4)
TAXATION_BITS: Final = 1 | 2 | 4 | 16 | 32


@dataclass(frozen=True, slots=True)
class Rejection:
    """Why the OFD refuses a document: HTTP status, OFD-style code, message."""

    status: int
    code: str
    message: str

    def answer(self) -> dict[str, str]:
        """The JSON body of the 4xx answer."""
        return {"error": self.message, "code": self.code}


class _Reject(Exception):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.rejection = Rejection(422, code, message)


def check_receipt(body: Mapping[str, Any], secrets: Mapping[str, bytes]) -> Rejection | None:
    """Check a receipt request's body; ``None`` when the OFD would accept it."""
    try:
        _check(body, secrets)
    except _Reject as exc:
        return exc.rejection
    return None


def _check(body: Mapping[str, Any], secrets: Mapping[str, bytes]) -> None:
    doc = body.get("fiscal_document")
    if not isinstance(doc, Mapping):
        raise _Reject("MISSING_DOCUMENT", "the body has no 'fiscal_document' object")
    missing = [tag for tag in REQUIRED_TAGS if tag not in doc]
    if missing:
        raise _Reject("MISSING_TAG", f"required tags missing: {', '.join(missing)}")
    fn_number = _string(doc, "1041")
    if not fiscal.is_valid_fn_number(fn_number):
        raise _Reject("INVALID_FN_NUMBER", f"FN number (1041) must be 16 digits, got {fn_number!r}")
    _positive_int(doc, "1040")
    inn = _string(doc, "1018").strip()
    if not fiscal.is_valid_inn(inn):
        raise _Reject("INVALID_INN", f"INN (1018) {inn!r} is not a valid 10- or 12-digit INN")
    _check_registration(doc, inn)
    operation = _int(doc, "1054")
    if operation not in (1, 2, 3, 4):
        raise _Reject("INVALID_TAG", f"operation type (1054) must be 1..4, got {operation}")
    try:
        datetime.fromisoformat(_string(doc, "1012"))
    except ValueError:
        raise _Reject("INVALID_TAG", f"date-time (1012) {doc['1012']!r} is not YYYY-MM-DDTHH:MM:SS") from None
    _check_optional(doc)
    items_total = _check_items(doc["1059"])
    total = _money(doc, "1020")
    if items_total != total:
        raise _Reject("SUM_MISMATCH", f"sum of item sums (1043) {items_total} != total (1020) {total}")
    paid = sum(_money(doc, tag) for tag in PAYMENT_TAGS if tag in doc)
    if paid != total:
        raise _Reject("PAYMENT_MISMATCH", f"payments (1031+1081+1215+1216+1217) {paid} != total (1020) {total}")
    _check_sign(doc, fn_number, secrets)


def _check_registration(doc: Mapping[str, Any], inn: str) -> None:
    rnm = _string(doc, "1037").strip()
    if len(rnm) != 16 or not rnm.isdigit():
        raise _Reject("INVALID_REGISTRATION_NUMBER", f"KKT registration number (1037) must be 16 digits, got {rnm!r}")
    if "1013" in doc:
        serial = _string(doc, "1013").strip()
        if not fiscal.is_valid_registration_number(rnm, inn, serial):
            raise _Reject(
                "INVALID_REGISTRATION_NUMBER",
                f"KKT registration number (1037) {rnm} fails its check for INN {inn} and KKT serial {serial}",
            )


def _check_optional(doc: Mapping[str, Any]) -> None:
    for tag in ("1038", "1042"):
        if tag in doc:
            _positive_int(doc, tag)
    if "1055" in doc:
        taxation = _int(doc, "1055")
        if taxation <= 0 or taxation & ~TAXATION_BITS:
            raise _Reject("INVALID_TAG", f"taxation system (1055) {taxation} is not a valid bitmask")
    if "1209" in doc and _int(doc, "1209") not in FFD_VERSIONS:
        raise _Reject("INVALID_TAG", f"FFD version (1209) must be 2 or 4, got {doc['1209']!r}")


def _check_items(items: Any) -> int:
    if not isinstance(items, Sequence) or isinstance(items, str | bytes) or not items:
        raise _Reject("INVALID_TAG", "items (1059) must be a non-empty list")
    total = 0
    for number, item in enumerate(items, start=1):
        if not isinstance(item, Mapping):
            raise _Reject("INVALID_TAG", f"item {number} (1059) must be an object")
        for tag in ("1030", "1079", "1023", "1043", "1199"):
            if tag not in item:
                raise _Reject("MISSING_TAG", f"item {number}: required tag {tag} missing")
        name = _string(item, "1030")
        if not name or len(name) > MAX_NAME_LENGTH:
            raise _Reject("INVALID_TAG", f"item {number}: name (1030) must be 1..{MAX_NAME_LENGTH} characters")
        price, item_sum = _money(item, "1079"), _money(item, "1043")
        try:
            quantity = Decimal(str(item["1023"]))
        except InvalidOperation:
            raise _Reject("INVALID_TAG", f"item {number}: quantity (1023) {item['1023']!r} is not a number") from None
        if not quantity.is_finite() or quantity <= 0:
            raise _Reject("INVALID_TAG", f"item {number}: quantity (1023) must be positive")
        expected = int((price * quantity).quantize(Decimal(1), rounding=ROUND_HALF_UP))
        if abs(expected - item_sum) > MONEY_TOLERANCE_KOP:
            raise _Reject("ITEM_SUM_MISMATCH", f"item {number}: sum (1043) {item_sum} != price × quantity {expected}")
        vat_code = _int(item, "1199")
        if vat_code not in fiscal.VAT_PERCENT_BY_CODE:
            raise _Reject("INVALID_VAT", f"item {number}: VAT rate code (1199) {vat_code} is unknown")
        if "1200" in item:
            vat = _money(item, "1200")
            expected_vat = fiscal.vat_included(item_sum, vat_code)
            if abs(vat - expected_vat) > MONEY_TOLERANCE_KOP:
                raise _Reject("VAT_MISMATCH", f"item {number}: VAT sum (1200) {vat} != {expected_vat} for the rate")
        total += item_sum
    return total


def _check_sign(doc: Mapping[str, Any], fn_number: str, secrets: Mapping[str, bytes]) -> None:
    sign = str(doc["1077"])
    if not sign.isdigit() or int(sign) > 0xFFFFFFFF:
        raise _Reject("INVALID_FISCAL_SIGN", f"fiscal sign (1077) must be a decimal uint32, got {sign!r}")
    secret = secrets.get(fn_number)
    if secret is not None and not fiscal.verify_fiscal_sign(doc, secret):
        raise _Reject("INVALID_FISCAL_SIGN", f"fiscal sign (1077) does not match the document for FN {fn_number}")


def _string(doc: Mapping[str, Any], tag: str) -> str:
    value = doc[tag]
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise _Reject("INVALID_TAG", f"tag {tag} must be a string, got {value!r}")
    return str(value)


def _int(doc: Mapping[str, Any], tag: str) -> int:
    value = doc[tag]
    if isinstance(value, bool):
        raise _Reject("INVALID_TAG", f"tag {tag} must be an integer, got {value!r}")
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.isdigit():
        return int(value)
    raise _Reject("INVALID_TAG", f"tag {tag} must be an integer, got {value!r}")


def _positive_int(doc: Mapping[str, Any], tag: str) -> int:
    value = _int(doc, tag)
    if value < 1:
        raise _Reject("INVALID_TAG", f"tag {tag} must be at least 1, got {value}")
    return value


def _money(doc: Mapping[str, Any], tag: str) -> int:
    value = doc[tag]
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise _Reject("INVALID_TAG", f"tag {tag} must be a non-negative integer of kopecks, got {value!r}")
    return value
