"""The mock OFD's checks of each fiscal document type's own tags; the header and the fiscal sign, common to every
type, are checked by :mod:`kkt_emulators.validation`.

- 1 registration report: address (1009), KKT serial (1013), taxation systems (1055, a bitmask).
- 2 shift opening report: address (1009).
- 3 receipt and 31 correction receipt: operation (1054), items (1059), sums and payments, one taxation system
  (1055), the FFD 1.2 attributes (cashier 1021 / 1203, customer contact 1008; per item payment object 1212, payment
  method 1214, measure 2108, marking code 2000); a correction also its type (1173) and basis (1174).
- 5 shift closing report (Z report): address (1009), documents and receipts in the shift (1111, 1118), unsent
  documents (1097, 1098), the FN's warning flags (1050..1053).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any, Final

from kkt_emulators import fiscal
from kkt_emulators.validation_values import (
    Reject,
    at_least,
    calendar_date,
    date_time,
    flag,
    integer,
    money,
    one_of,
    string,
    text,
)

PAYMENT_TAGS: Final = ("1031", "1081", "1215", "1216", "1217")
ITEM_TAGS: Final = ("1030", "1079", "1023", "1043", "1199")
FN_FLAG_TAGS: Final = ("1050", "1051", "1052", "1053")
MONEY_TOLERANCE_KOP: Final = 1
MAX_NAME_LENGTH: Final = 128
MAX_ADDRESS_LENGTH: Final = 256
MAX_CASHIER_LENGTH: Final = 64
MAX_CONTACT_LENGTH: Final = 64
MAX_MARK_CODE_LENGTH: Final = 256
MAX_ORDER_NUMBER_LENGTH: Final = 256
MAX_ADDITIONAL_ATTRIBUTE_LENGTH: Final = 16
OPERATIONS: Final = (1, 2, 3, 4)
CORRECTION_TYPES: Final = (0, 1)
PAYMENT_METHODS: Final = range(1, 8)
PAYMENT_OBJECTS: Final = range(1, 34)
MEASURES: Final = frozenset(
    (0, 10, 11, 12, 20, 21, 22, 30, 31, 32, 40, 41, 42, 50, 51, 70, 71, 72, 73, 80, 81, 82, 83, 255)
)
TAXATION_BITS: Final = sum(fiscal.TAXATION_SYSTEMS)

_EMAIL: Final = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
_PHONE: Final = re.compile(r"\+\d{10,15}", re.ASCII)
_MARK_CODE: Final = re.compile(r"[\x1d\x20-\x7e]+")


@dataclass(frozen=True, slots=True)
class DocumentRules:
    """One document type's own required tags, the smallest shift number (1038) it may carry, and its checks."""

    required: tuple[str, ...]
    check: Callable[[Mapping[str, Any], datetime], None]
    min_shift: int = 1


def check_registration_report(doc: Mapping[str, Any], when: datetime) -> None:
    """Registration report (1): address, KKT serial, and the taxation systems registered (one bit or more)."""
    _address(doc)
    text(doc, "1013", "KKT serial number", max_length=20)
    _taxation(doc, single=False)


def check_shift_opening(doc: Mapping[str, Any], when: datetime) -> None:
    """Shift opening report (2): the address of settlements."""
    _address(doc)


def check_settlement(doc: Mapping[str, Any], when: datetime) -> None:
    """Receipt (3): operation, FFD 1.2 attributes, items, and the balance of items, total and payments."""
    one_of(doc, "1054", OPERATIONS, "operation type", said="1..4")
    if "1042" in doc:
        at_least(doc, "1042", 1)
    if "1009" in doc:
        _address(doc)
    if "1055" in doc:
        _taxation(doc, single=True)
    _check_ffd12_attributes(doc)
    items_total = _check_items(doc["1059"])
    total = money(doc, "1020")
    if items_total != total:
        raise Reject("SUM_MISMATCH", f"sum of item sums (1043) {items_total} != total (1020) {total}")
    paid = sum(money(doc, tag) for tag in PAYMENT_TAGS if tag in doc)
    if paid != total:
        raise Reject("PAYMENT_MISMATCH", f"payments (1031+1081+1215+1216+1217) {paid} != total (1020) {total}")


def check_correction(doc: Mapping[str, Any], when: datetime) -> None:
    """Correction receipt (31): correction type (1173) and basis (1174), then every check of a receipt."""
    kind = one_of(doc, "1173", CORRECTION_TYPES, "correction type", said="0 or 1", code="BAD_CORRECTION_TYPE")
    basis = doc["1174"]
    if not isinstance(basis, Mapping):
        raise Reject("BAD_CORRECTION_BASIS", "correction basis (1174) must be an object with 1178 (and 1179)")
    if "1178" not in basis:
        raise Reject("BAD_CORRECTION_BASIS", "correction basis (1174) lacks the corrected settlement's date (1178)")
    corrected = calendar_date(basis, "1178", "corrected settlement's date", code="BAD_CORRECTION_BASIS")
    if corrected > when.date():
        raise Reject("BAD_CORRECTION_BASIS", f"corrected settlement's date (1178) {corrected} is after the document")
    if "1179" in basis:
        text(basis, "1179", "order number", max_length=MAX_ORDER_NUMBER_LENGTH, code="BAD_CORRECTION_BASIS")
    elif kind == 1:
        raise Reject("BAD_CORRECTION_BASIS", "a correction by order (1173 = 1) needs the order's number (1179)")
    for holder in (basis, doc):
        if "1192" in holder:
            attribute = string(holder, "1192", code="BAD_CORRECTION_BASIS")
            if not attribute.strip() or len(attribute) > MAX_ADDITIONAL_ATTRIBUTE_LENGTH:
                raise Reject(
                    "BAD_CORRECTION_BASIS",
                    f"additional attribute (1192) must be 1..{MAX_ADDITIONAL_ATTRIBUTE_LENGTH} characters",
                )
    check_settlement(doc, when)


def check_shift_closing(doc: Mapping[str, Any], when: datetime) -> None:
    """Shift closing report (5): shift counters, unsent documents, the FN's warning flags."""
    _address(doc)
    documents = at_least(doc, "1111", 1, code="BAD_SHIFT_COUNTERS")
    receipts = at_least(doc, "1118", 0, code="BAD_SHIFT_COUNTERS")
    if receipts > documents:
        raise Reject(
            "BAD_SHIFT_COUNTERS", f"receipts in shift (1118) {receipts} > documents in shift (1111) {documents}"
        )
    at_least(doc, "1097", 0, code="BAD_SHIFT_COUNTERS")
    if "1098" in doc and date_time(doc, "1098", "first unsent document's date-time") > when:
        raise Reject("INVALID_TAG", "first unsent document's date-time (1098) is after the report (1012)")
    for tag in FN_FLAG_TAGS:
        if tag in doc:
            flag(doc, tag)


#: Document type (1000) → its rules. Types not listed are refused as ``UNKNOWN_DOCUMENT_TYPE``.
RULES: Final[Mapping[int, DocumentRules]] = {
    1: DocumentRules(("1009", "1013", "1055"), check_registration_report, min_shift=0),
    2: DocumentRules(("1009",), check_shift_opening),
    3: DocumentRules(("1020", "1054", "1059"), check_settlement),
    31: DocumentRules(("1020", "1054", "1059", "1173", "1174"), check_correction),
    5: DocumentRules(("1009", "1111", "1118", "1097"), check_shift_closing),
}


def _address(doc: Mapping[str, Any]) -> None:
    text(doc, "1009", "address of settlements", max_length=MAX_ADDRESS_LENGTH)


def _taxation(doc: Mapping[str, Any], *, single: bool) -> None:
    taxation = integer(doc, "1055")
    if taxation <= 0 or taxation & ~TAXATION_BITS:
        raise Reject("INVALID_TAG", f"taxation system (1055) {taxation} is not a valid bitmask")
    if single and taxation not in fiscal.TAXATION_SYSTEMS:
        raise Reject("INVALID_TAG", f"taxation system (1055) {taxation}: a receipt names exactly one system")


def _check_ffd12_attributes(doc: Mapping[str, Any]) -> None:
    if "1021" in doc:
        text(doc, "1021", "cashier", max_length=MAX_CASHIER_LENGTH, code="BAD_CASHIER")
    if "1203" in doc:
        inn = string(doc, "1203", code="BAD_CASHIER_INN").strip()
        if not fiscal.is_valid_inn(inn):
            raise Reject("BAD_CASHIER_INN", f"cashier's INN (1203) {inn!r} is not a valid INN")
    if "1008" in doc:
        contact = text(doc, "1008", "customer contact", max_length=MAX_CONTACT_LENGTH, code="BAD_CONTACT")
        if not (_EMAIL.fullmatch(contact) or _PHONE.fullmatch(contact)):
            raise Reject("BAD_CONTACT", f"customer contact (1008) {contact!r} is neither an e-mail nor a +phone")


def _check_items(items: Any) -> int:
    if not isinstance(items, Sequence) or isinstance(items, str | bytes) or not items:
        raise Reject("INVALID_TAG", "items (1059) must be a non-empty list")
    total = 0
    for number, item in enumerate(items, start=1):
        if not isinstance(item, Mapping):
            raise Reject("INVALID_TAG", f"item {number} (1059) must be an object")
        total += _check_item(number, item)
    return total


def _check_item(number: int, item: Mapping[str, Any]) -> int:
    for tag in ITEM_TAGS:
        if tag not in item:
            raise Reject("MISSING_TAG", f"item {number}: required tag {tag} missing")
    name = string(item, "1030")
    if not name or len(name) > MAX_NAME_LENGTH:
        raise Reject("INVALID_TAG", f"item {number}: name (1030) must be 1..{MAX_NAME_LENGTH} characters")
    price, item_sum = money(item, "1079"), money(item, "1043")
    try:
        quantity = Decimal(str(item["1023"]))
    except InvalidOperation:
        raise Reject("INVALID_TAG", f"item {number}: quantity (1023) {item['1023']!r} is not a number") from None
    if not quantity.is_finite() or quantity <= 0:
        raise Reject("INVALID_TAG", f"item {number}: quantity (1023) must be positive")
    expected = int((price * quantity).quantize(Decimal(1), rounding=ROUND_HALF_UP))
    if abs(expected - item_sum) > MONEY_TOLERANCE_KOP:
        raise Reject("ITEM_SUM_MISMATCH", f"item {number}: sum (1043) {item_sum} != price × quantity {expected}")
    vat_code = integer(item, "1199")
    if vat_code not in fiscal.VAT_PERCENT_BY_CODE:
        raise Reject("INVALID_VAT", f"item {number}: VAT rate code (1199) {vat_code} is unknown")
    if "1200" in item:
        vat = money(item, "1200")
        expected_vat = fiscal.vat_included(item_sum, vat_code)
        if abs(vat - expected_vat) > MONEY_TOLERANCE_KOP:
            raise Reject("VAT_MISMATCH", f"item {number}: VAT sum (1200) {vat} != {expected_vat} for the rate")
    if "1212" in item:
        one_of(item, "1212", PAYMENT_OBJECTS, f"item {number}: payment object", said="1..33", code="BAD_PAYMENT_OBJECT")
    if "1214" in item:
        one_of(item, "1214", PAYMENT_METHODS, f"item {number}: payment method", said="1..7", code="BAD_PAYMENT_METHOD")
    if "2108" in item:
        one_of(item, "2108", MEASURES, f"item {number}: measure", said="an FFD 1.2 measure code", code="BAD_MEASURE")
    if "2000" in item:
        code = item["2000"]
        if not isinstance(code, str) or len(code) > MAX_MARK_CODE_LENGTH or not _MARK_CODE.fullmatch(code):
            raise Reject(
                "BAD_MARK_CODE",
                f"item {number}: marking code (2000) must be 1..{MAX_MARK_CODE_LENGTH} printable ASCII characters",
            )
    return item_sum
