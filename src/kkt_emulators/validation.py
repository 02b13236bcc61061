"""The mock OFD's document checks (``validate=True``): what a real OFD refuses, with an OFD-style code.

Every fiscal document the FN signs is checked: registration report (1000 = 1), shift opening (2), receipt (3),
correction receipt (31), shift closing / Z report (5). Checked, in order: the body carries a ``fiscal_document``
object; its type (1000) is one of those; the header's and the type's required tags are present; the header: FN number
(1041) of 16 digits, FD number (1040) ≥ 1, INN (1018) with its check digits, KKT registration number (1037) of 16
digits with its CRC check when the document also carries the KKT serial (1013), date-time (1012)
``YYYY-MM-DDTHH:MM:SS``, shift number (1038), FFD version (1209), organisation name (1048); then the type's own tags
(:mod:`kkt_emulators.validation_documents`); last, the fiscal sign (1077) is a uint32 and matches the document when
the OFD knows the FN's secret.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any, Final

from kkt_emulators import fiscal
from kkt_emulators.validation_documents import RULES, DocumentRules
from kkt_emulators.validation_values import Reject, Rejection, at_least, date_time, integer, string, text

__all__ = ["HEADER_TAGS", "Rejection", "check_document", "check_receipt"]

#: Tags every fiscal document carries (1000 is its type).
HEADER_TAGS: Final = ("1000", "1012", "1018", "1037", "1038", "1040", "1041", "1048", "1077", "1209")
FFD_VERSIONS: Final = (2, 4)
MAX_ORG_NAME_LENGTH: Final = 256


def check_document(body: Mapping[str, Any], secrets: Mapping[str, bytes]) -> Rejection | None:
    """Check the body of ``POST /ofd/v1/receipt`` (any document type); ``None`` when the OFD would accept it."""
    try:
        _check(body, secrets)
    except Reject as exc:
        return exc.rejection
    return None


#: The name this check had when only receipts were delivered.
check_receipt = check_document


def _check(body: Mapping[str, Any], secrets: Mapping[str, bytes]) -> None:
    doc = body.get("fiscal_document")
    if not isinstance(doc, Mapping):
        raise Reject("MISSING_DOCUMENT", "the body has no 'fiscal_document' object")
    if fiscal.TAG_DOCUMENT_TYPE not in doc:
        _require(doc, HEADER_TAGS)
    rules = _rules(doc)
    _require(doc, HEADER_TAGS + rules.required)
    fn_number, when = _check_header(doc, rules)
    rules.check(doc, when)
    _check_sign(doc, fn_number, secrets)


def _require(doc: Mapping[str, Any], tags: tuple[str, ...]) -> None:
    missing = [tag for tag in tags if tag not in doc]
    if missing:
        raise Reject("MISSING_TAG", f"required tags missing: {', '.join(missing)}")


def _rules(doc: Mapping[str, Any]) -> DocumentRules:
    doc_type = integer(doc, fiscal.TAG_DOCUMENT_TYPE, code="UNKNOWN_DOCUMENT_TYPE")
    rules = RULES.get(doc_type)
    if rules is None:
        name = fiscal.DOCUMENT_TYPES.get(doc_type)
        accepted = ", ".join(f"{code} ({fiscal.DOCUMENT_TYPES[code]})" for code in RULES)
        raise Reject(
            "UNKNOWN_DOCUMENT_TYPE",
            f"document type (1000) {doc_type}{f' ({name})' if name else ''} is not accepted; accepted: {accepted}",
        )
    return rules


def _check_header(doc: Mapping[str, Any], rules: DocumentRules) -> tuple[str, datetime]:
    fn_number = string(doc, "1041")
    if not fiscal.is_valid_fn_number(fn_number):
        raise Reject("INVALID_FN_NUMBER", f"FN number (1041) must be 16 digits, got {fn_number!r}")
    at_least(doc, "1040", 1)
    inn = string(doc, "1018").strip()
    if not fiscal.is_valid_inn(inn):
        raise Reject("INVALID_INN", f"INN (1018) {inn!r} is not a valid 10- or 12-digit INN")
    _check_registration_number(doc, inn)
    when = date_time(doc, "1012", "date-time")
    at_least(doc, "1038", rules.min_shift)
    if integer(doc, "1209") not in FFD_VERSIONS:
        raise Reject("INVALID_TAG", f"FFD version (1209) must be 2 or 4, got {doc['1209']!r}")
    text(doc, "1048", "organisation name", max_length=MAX_ORG_NAME_LENGTH)
    return fn_number, when


def _check_registration_number(doc: Mapping[str, Any], inn: str) -> None:
    rnm = string(doc, "1037").strip()
    if len(rnm) != 16 or not rnm.isdigit():
        raise Reject("INVALID_REGISTRATION_NUMBER", f"KKT registration number (1037) must be 16 digits, got {rnm!r}")
    if "1013" in doc:
        serial = string(doc, "1013").strip()
        if not fiscal.is_valid_registration_number(rnm, inn, serial):
            raise Reject(
                "INVALID_REGISTRATION_NUMBER",
                f"KKT registration number (1037) {rnm} fails its check for INN {inn} and KKT serial {serial}",
            )


def _check_sign(doc: Mapping[str, Any], fn_number: str, secrets: Mapping[str, bytes]) -> None:
    sign = str(doc[fiscal.TAG_FISCAL_SIGN])
    if not sign.isdigit() or int(sign) > 0xFFFFFFFF:
        raise Reject("INVALID_FISCAL_SIGN", f"fiscal sign (1077) must be a decimal uint32, got {sign!r}")
    secret = secrets.get(fn_number)
    if secret is not None and not fiscal.verify_fiscal_sign(doc, secret):
        raise Reject("INVALID_FISCAL_SIGN", f"fiscal sign (1077) does not match the document for FN {fn_number}")
