"""Helpers for the emulator tests: a valid FFD 1.2 receipt document and the adapter's request body."""

from __future__ import annotations

from typing import Any

from kkt_emulators import fiscal

FN_NUMBER = "9999078900001234"
FN_SECRET = b"fn-secret-for-tests"
INN = "7707083893"
KKT_SERIAL = "00106304241645"


def make_document(fd: int = 1, *, fn: str = FN_NUMBER, secret: bytes = FN_SECRET, **overrides: Any) -> dict[str, Any]:
    """A valid, signed FFD 1.2 sale document (two items, mixed payment), with tags replaced by ``overrides``."""
    items = [
        {"1030": "Линза очковая", "1079": 12345, "1023": "2", "1043": 24690, "1199": 1, "1212": 1, "1214": 4},
        {"1030": "Футляр", "1079": 5000, "1023": "1.5", "1043": 7500, "1199": 6, "1212": 1, "1214": 4, "2108": 0},
    ]
    for item in items:
        item["1200"] = fiscal.vat_included(int(item["1043"]), int(item["1199"]))
    document: dict[str, Any] = {
        "1040": fd,
        "1041": fn,
        "1020": 32190,
        "1031": 2190,
        "1081": 30000,
        "1215": 0,
        "1216": 0,
        "1217": 0,
        "1054": 1,
        "1012": "2025-11-30T12:00:00",
        "1018": INN,
        "1037": fiscal.registration_number(1, INN, KKT_SERIAL),
        "1013": KKT_SERIAL,
        "1038": 1,
        "1042": fd,
        "1055": 1,
        "1209": 4,
        "1059": items,
    }
    document.update({key: value for key, value in overrides.items() if key != "sign"})
    document["1077"] = overrides.get("sign", fiscal.fiscal_sign(document, secret))
    return document


def receipt_body(document: dict[str, Any], receipt_id: str = "r-1") -> dict[str, Any]:
    """The body the adapter posts to the OFD."""
    return {"receipt_id": receipt_id, "pos_id": "POS-001", "fiscal_document": document}
