"""Helpers for the emulator tests: valid, signed FFD 1.2 fiscal documents of every type the adapter delivers
(registration report, shift opening, receipt, correction receipt, shift closing) and the adapter's request body."""

from __future__ import annotations

from typing import Any

from kkt_emulators import fiscal

FN_NUMBER = "9999078900001234"
FN_SECRET = b"fn-secret-for-tests"
INN = "7707083893"
CASHIER_INN = "500100732259"
KKT_SERIAL = "00106304241645"
REG_NUMBER = fiscal.registration_number(1, INN, KKT_SERIAL)
ORG_NAME = 'ООО "Оптика"'
ADDRESS = "г. Москва, ул. Тверская, д. 1"
WHEN = "2025-11-30T12:00:00"

DOC_REGISTRATION, DOC_SHIFT_OPENING, DOC_RECEIPT, DOC_CORRECTION, DOC_SHIFT_CLOSING = 1, 2, 3, 31, 5


def header(doc_type: int, fd: int, *, fn: str = FN_NUMBER, shift: int = 1, when: str = WHEN) -> dict[str, Any]:
    """The tags every fiscal document carries (without its sign)."""
    return {
        "1000": doc_type,
        "1012": when,
        "1018": INN,
        "1037": REG_NUMBER,
        "1038": shift,
        "1040": fd,
        "1041": fn,
        "1048": ORG_NAME,
        "1209": 4,
    }


def signed(document: dict[str, Any], overrides: dict[str, Any], secret: bytes) -> dict[str, Any]:
    """``document`` with ``overrides`` applied, signed with ``secret`` (or given the sign ``overrides["sign"]``)."""
    document.update({key: value for key, value in overrides.items() if key != "sign"})
    document["1077"] = overrides.get("sign", fiscal.fiscal_sign(document, secret))
    return document


def sale_items() -> list[dict[str, Any]]:
    """Two item lines (1059) worth 32190 kopecks, their VAT sums computed."""
    items = [
        {"1030": "Линза очковая", "1079": 12345, "1023": "2", "1043": 24690, "1199": 1, "1212": 1, "1214": 4},
        {"1030": "Футляр", "1079": 5000, "1023": "1.5", "1043": 7500, "1199": 6, "1212": 1, "1214": 4, "2108": 0},
    ]
    for item in items:
        item["1200"] = fiscal.vat_included(int(item["1043"]), int(item["1199"]))
    return items


def settlement(doc_type: int, fd: int, *, fn: str, shift: int) -> dict[str, Any]:
    """The tags of a receipt (3) or correction receipt (31): two items, mixed payment, sale (1054 = 1)."""
    document = header(doc_type, fd, fn=fn, shift=shift)
    document.update(
        {
            "1009": ADDRESS,
            "1013": KKT_SERIAL,
            "1020": 32190,
            "1031": 2190,
            "1081": 30000,
            "1215": 0,
            "1216": 0,
            "1217": 0,
            "1042": fd,
            "1054": 1,
            "1055": 1,
            "1059": sale_items(),
        }
    )
    return document


def make_document(fd: int = 1, *, fn: str = FN_NUMBER, secret: bytes = FN_SECRET, **overrides: Any) -> dict[str, Any]:
    """A valid, signed FFD 1.2 sale receipt (type 3; two items, mixed payment), tags replaced by ``overrides``."""
    shift = overrides.get("1038", 1)
    return signed(settlement(DOC_RECEIPT, fd, fn=fn, shift=shift), overrides, secret)


def make_correction(fd: int = 1, *, fn: str = FN_NUMBER, secret: bytes = FN_SECRET, **overrides: Any) -> dict[str, Any]:
    """A valid, signed correction receipt (type 31) by order of the tax service (1173 = 1), with its basis."""
    document = settlement(DOC_CORRECTION, fd, fn=fn, shift=overrides.get("1038", 1))
    document.update({"1173": 1, "1174": {"1178": "2025-11-29", "1179": "ИФНС-77/123"}})
    return signed(document, overrides, secret)


def make_registration(
    fd: int = 1, *, fn: str = FN_NUMBER, secret: bytes = FN_SECRET, **overrides: Any
) -> dict[str, Any]:
    """A valid, signed registration report (type 1): shift 0, address, KKT serial, taxation systems OSN + USN."""
    document = header(DOC_REGISTRATION, fd, fn=fn, shift=0)
    document.update({"1009": ADDRESS, "1013": KKT_SERIAL, "1055": 1 | 2})
    return signed(document, overrides, secret)


def make_shift_opening(
    fd: int = 2, *, shift: int = 1, fn: str = FN_NUMBER, secret: bytes = FN_SECRET, **overrides: Any
) -> dict[str, Any]:
    """A valid, signed shift opening report (type 2) of shift ``shift``."""
    document = header(DOC_SHIFT_OPENING, fd, fn=fn, shift=shift)
    document["1009"] = ADDRESS
    return signed(document, overrides, secret)


def make_shift_closing(
    fd: int = 3,
    *,
    shift: int = 1,
    documents: int = 2,
    receipts: int = 0,
    fn: str = FN_NUMBER,
    secret: bytes = FN_SECRET,
    **overrides: Any,
) -> dict[str, Any]:
    """A valid, signed Z report (type 5): documents (1111) and receipts (1118) in the shift, nothing unsent."""
    document = header(DOC_SHIFT_CLOSING, fd, fn=fn, shift=shift)
    document.update({"1009": ADDRESS, "1111": documents, "1118": receipts, "1097": 0})
    document.update({"1050": False, "1051": False, "1052": False, "1053": False})
    return signed(document, overrides, secret)


def receipt_body(document: dict[str, Any], receipt_id: str = "r-1") -> dict[str, Any]:
    """The body the adapter posts to the OFD for a receipt."""
    return {"receipt_id": receipt_id, "pos_id": "POS-001", "fiscal_document": document}


def document_body(document: dict[str, Any], document_id: str = "d-1") -> dict[str, Any]:
    """The body the adapter posts to the OFD for a document that belongs to no point of sale (pos_id null)."""
    return {"receipt_id": document_id, "pos_id": None, "fiscal_document": document}
