"""Validate mode for every document type the adapter delivers: registration (1), shift opening (2), receipt (3),
correction receipt (31), shift closing (5). Each rule is refused over HTTP with 422 and its own code."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
from emulator_helpers import (
    CASHIER_INN,
    FN_NUMBER,
    FN_SECRET,
    document_body,
    make_correction,
    make_document,
    make_registration,
    make_shift_closing,
    make_shift_opening,
    receipt_body,
    sale_items,
)

from kkt_emulators import fiscal
from kkt_emulators.ofd import MockOFDServer
from kkt_emulators.validation import check_document

SECRETS = {FN_NUMBER: FN_SECRET}
MAKERS: dict[str, Callable[..., dict[str, Any]]] = {
    "registration": make_registration,
    "shift opening": make_shift_opening,
    "receipt": make_document,
    "correction": make_correction,
    "shift closing": make_shift_closing,
}
MARK_CODE = "0104601234567890215abcDEF\x1d91EE06\x1d92dGVzdA=="


def items_with(change: dict[str, Any], index: int = 0) -> list[dict[str, Any]]:
    """The reference item lines, one of them changed."""
    items = sale_items()
    items[index].update(change)
    return items


def signed_without(maker: Callable[..., dict[str, Any]], tag: str) -> dict[str, Any]:
    """A document of ``maker`` without ``tag``, signed as it is (so only the missing tag is wrong)."""
    document = {key: value for key, value in maker().items() if key not in (tag, "1077")}
    if tag != "1077":
        document["1077"] = fiscal.fiscal_sign(document, FN_SECRET)
    return document


def basis(**tags: Any) -> dict[str, Any]:
    """A correction basis (1174): the reference one with ``tags`` set (``None`` removes a tag)."""
    value: dict[str, Any] = {"1178": "2025-11-29", "1179": "ИФНС-77/123"}
    value.update(tags)
    return {key: item for key, item in value.items() if item is not None}


VALID = [
    pytest.param(make_registration(**{"1055": 1}), id="registration with one taxation system"),
    pytest.param(make_registration(**{"1055": 1 | 2 | 32}), id="registration with three taxation systems"),
    pytest.param(make_shift_opening(shift=7), id="shift opening 7"),
    pytest.param(make_document(**{"1021": "Иванова А. П.", "1203": CASHIER_INN}), id="cashier and INN"),
    pytest.param(make_document(**{"1203": "7707083893"}), id="cashier INN of 10 digits"),
    pytest.param(make_document(**{"1008": "buyer@example.com"}), id="contact e-mail"),
    pytest.param(make_document(**{"1008": "+79991234567"}), id="contact phone"),
    pytest.param(make_document(**{"1059": items_with({"1212": 33, "2000": MARK_CODE})}), id="marked item"),
    pytest.param(make_document(**{"1059": items_with({"2108": 41})}), id="litres"),
    pytest.param(make_document(**{"1059": items_with({"1214": 7, "1212": 10, "2108": 255})}), id="credit payment"),
    pytest.param(make_document(**{"1055": 32}), id="receipt under patent"),
    pytest.param(make_document(**{"1054": 2}), id="refund"),
    pytest.param(make_correction(**{"1173": 0, "1174": basis(**{"1179": None})}), id="own correction, no order"),
    pytest.param(make_correction(**{"1174": basis(**{"1192": "2981623349"})}), id="1192 in the basis"),
    pytest.param(make_correction(**{"1192": "2981623349"}), id="1192 in the document"),
    pytest.param(make_correction(**{"1174": basis(**{"1178": "2025-11-30"})}), id="corrected the same day"),
    pytest.param(make_correction(**{"1054": 4}), id="correction of an expense refund"),
    pytest.param(make_shift_closing(**{"1097": 2, "1098": "2025-11-29T18:00:00"}), id="Z with unsent documents"),
    pytest.param(make_shift_closing(documents=1, receipts=1, **{"1051": True}), id="Z with a warning flag"),
    pytest.param(make_shift_closing(receipts=0, documents=2), id="Z of an empty shift"),
]


@pytest.mark.parametrize("kind", sorted(MAKERS))
def test_every_document_type_passes_with_its_sign_verified(kind: str) -> None:
    """The reference document of each type passes every check, its fiscal sign verified with the FN's secret."""
    assert check_document(document_body(MAKERS[kind]()), SECRETS) is None


@pytest.mark.parametrize("document", VALID)
def test_valid_variants_are_accepted(document: dict[str, Any]) -> None:
    """Optional FFD 1.2 attributes, the other correction forms and Z report contents that are right pass."""
    rejection = check_document(document_body(document), SECRETS)
    assert rejection is None, rejection


@pytest.mark.parametrize("kind", sorted(MAKERS))
def test_the_fiscal_sign_is_checked_on_every_type(kind: str) -> None:
    """A document of any type changed after signing (here its organisation name) fails its fiscal sign."""
    document = MAKERS[kind]()
    document["1048"] = "ООО Другое"
    rejection = check_document(document_body(document), SECRETS)
    assert rejection is not None
    assert rejection.code == "INVALID_FISCAL_SIGN"
    assert check_document(document_body(MAKERS[kind](sign="99999999999")), {}) is not None


INVALID = [
    # The type and the header, common to every document.
    pytest.param(signed_without(make_shift_opening, "1000"), "MISSING_TAG", id="no type"),
    pytest.param(make_document(**{"1000": 99}), "UNKNOWN_DOCUMENT_TYPE", id="type 99"),
    pytest.param(make_shift_opening(**{"1000": 21}), "UNKNOWN_DOCUMENT_TYPE", id="type 21 not delivered"),
    pytest.param(make_shift_opening(**{"1000": "two"}), "UNKNOWN_DOCUMENT_TYPE", id="type not a number"),
    pytest.param(make_shift_opening(**{"1000": True}), "UNKNOWN_DOCUMENT_TYPE", id="type boolean"),
    pytest.param(signed_without(make_shift_opening, "1048"), "MISSING_TAG", id="no organisation name"),
    pytest.param(signed_without(make_shift_closing, "1209"), "MISSING_TAG", id="no FFD version"),
    pytest.param(signed_without(make_document, "1038"), "MISSING_TAG", id="receipt without shift number"),
    pytest.param(signed_without(make_registration, "1077"), "MISSING_TAG", id="no fiscal sign"),
    pytest.param(make_shift_opening(fn="12345"), "INVALID_FN_NUMBER", id="short FN number"),
    pytest.param(make_shift_closing(**{"1018": "7707083894"}), "INVALID_INN", id="Z with a bad INN"),
    pytest.param(make_shift_opening(**{"1037": "123"}), "INVALID_REGISTRATION_NUMBER", id="short RNM"),
    pytest.param(make_shift_opening(**{"1038": 0}), "INVALID_TAG", id="shift 0 outside registration"),
    pytest.param(make_shift_opening(**{"1040": 0}), "INVALID_TAG", id="FD 0"),
    pytest.param(make_shift_opening(**{"1012": "2025-11-30 12:00:00"}), "INVALID_TAG", id="date-time with a space"),
    pytest.param(make_shift_opening(**{"1012": "2025-11-30T12:00"}), "INVALID_TAG", id="date-time without seconds"),
    pytest.param(make_shift_opening(**{"1012": "2025-13-30T12:00:00"}), "INVALID_TAG", id="month 13"),
    pytest.param(make_shift_opening(**{"1048": " "}), "INVALID_TAG", id="blank organisation name"),
    pytest.param(make_shift_opening(**{"1209": 3}), "INVALID_TAG", id="FFD version 3"),
    # Registration report (1).
    pytest.param(signed_without(make_registration, "1013"), "MISSING_TAG", id="registration without serial"),
    pytest.param(signed_without(make_registration, "1055"), "MISSING_TAG", id="registration without taxation"),
    pytest.param(make_registration(**{"1055": 8}), "INVALID_TAG", id="registration taxation bit 8"),
    pytest.param(make_registration(**{"1055": 0}), "INVALID_TAG", id="registration without a system"),
    pytest.param(
        make_registration(**{"1013": "00106304249999"}), "INVALID_REGISTRATION_NUMBER", id="RNM of another serial"
    ),
    pytest.param(make_registration(**{"1009": ""}), "INVALID_TAG", id="registration with an empty address"),
    # Shift opening (2).
    pytest.param(signed_without(make_shift_opening, "1009"), "MISSING_TAG", id="shift opening without address"),
    pytest.param(make_shift_opening(**{"1009": 42}), "INVALID_TAG", id="address not a string"),
    # Receipt (3): today's rules and the FFD 1.2 attributes.
    pytest.param(make_document(**{"1055": 3}), "INVALID_TAG", id="receipt with two taxation systems"),
    pytest.param(make_document(**{"1021": ""}), "BAD_CASHIER", id="empty cashier"),
    pytest.param(make_document(**{"1021": "x" * 65}), "BAD_CASHIER", id="cashier of 65 characters"),
    pytest.param(make_document(**{"1021": 7}), "BAD_CASHIER", id="cashier not a string"),
    pytest.param(make_document(**{"1203": "7707083894"}), "BAD_CASHIER_INN", id="cashier INN check digit"),
    pytest.param(make_document(**{"1203": "12345"}), "BAD_CASHIER_INN", id="cashier INN of 5 digits"),
    pytest.param(make_document(**{"1203": None}), "BAD_CASHIER_INN", id="cashier INN null"),
    pytest.param(make_document(**{"1008": "89991234567"}), "BAD_CONTACT", id="phone without +"),
    pytest.param(make_document(**{"1008": "buyer@"}), "BAD_CONTACT", id="half an e-mail"),
    pytest.param(make_document(**{"1008": "b" * 60 + "@x.ru"}), "BAD_CONTACT", id="contact of 65 characters"),
    pytest.param(make_document(**{"1008": ""}), "BAD_CONTACT", id="empty contact"),
    pytest.param(make_document(**{"1059": items_with({"1214": 0})}), "BAD_PAYMENT_METHOD", id="1214 0"),
    pytest.param(make_document(**{"1059": items_with({"1214": 8})}), "BAD_PAYMENT_METHOD", id="1214 8"),
    pytest.param(make_document(**{"1059": items_with({"1212": 0})}), "BAD_PAYMENT_OBJECT", id="1212 0"),
    pytest.param(make_document(**{"1059": items_with({"1212": 34})}), "BAD_PAYMENT_OBJECT", id="1212 34"),
    pytest.param(make_document(**{"1059": items_with({"2108": 1}, 1)}), "BAD_MEASURE", id="2108 1"),
    pytest.param(make_document(**{"1059": items_with({"2108": 256})}), "BAD_MEASURE", id="2108 256"),
    pytest.param(make_document(**{"1059": items_with({"2000": ""})}), "BAD_MARK_CODE", id="empty marking code"),
    pytest.param(make_document(**{"1059": items_with({"2000": "01Ж"})}), "BAD_MARK_CODE", id="marking code Cyrillic"),
    pytest.param(make_document(**{"1059": items_with({"2000": "01\n"})}), "BAD_MARK_CODE", id="marking code newline"),
    pytest.param(make_document(**{"1059": items_with({"2000": "0" * 257})}), "BAD_MARK_CODE", id="marking code 257"),
    pytest.param(make_document(**{"1059": items_with({"2000": 104601})}), "BAD_MARK_CODE", id="marking code number"),
    pytest.param(make_document(**{"1020": 32191}), "SUM_MISMATCH", id="receipt total"),
    # Correction receipt (31): its own tags and every receipt rule.
    pytest.param(signed_without(make_correction, "1173"), "MISSING_TAG", id="correction without type"),
    pytest.param(signed_without(make_correction, "1174"), "MISSING_TAG", id="correction without basis"),
    pytest.param(signed_without(make_correction, "1059"), "MISSING_TAG", id="correction without items"),
    pytest.param(make_correction(**{"1173": 2}), "BAD_CORRECTION_TYPE", id="correction type 2"),
    pytest.param(make_correction(**{"1173": "own"}), "BAD_CORRECTION_TYPE", id="correction type text"),
    pytest.param(make_correction(**{"1174": "ИФНС-77/123"}), "BAD_CORRECTION_BASIS", id="basis not an object"),
    pytest.param(make_correction(**{"1174": basis(**{"1178": None})}), "BAD_CORRECTION_BASIS", id="basis no date"),
    pytest.param(
        make_correction(**{"1174": basis(**{"1178": "29.11.2025"})}), "BAD_CORRECTION_BASIS", id="basis date format"
    ),
    pytest.param(
        make_correction(**{"1174": basis(**{"1178": "2025-02-30"})}), "BAD_CORRECTION_BASIS", id="basis no such day"
    ),
    pytest.param(
        make_correction(**{"1174": basis(**{"1178": "2025-12-01"})}), "BAD_CORRECTION_BASIS", id="basis in the future"
    ),
    pytest.param(
        make_correction(**{"1174": basis(**{"1179": None})}), "BAD_CORRECTION_BASIS", id="order without its number"
    ),
    pytest.param(make_correction(**{"1174": basis(**{"1179": ""})}), "BAD_CORRECTION_BASIS", id="empty order number"),
    pytest.param(
        make_correction(**{"1173": 0, "1174": basis(**{"1179": 5})}), "BAD_CORRECTION_BASIS", id="order number int"
    ),
    pytest.param(make_correction(**{"1174": basis(**{"1192": ""})}), "BAD_CORRECTION_BASIS", id="empty 1192"),
    pytest.param(make_correction(**{"1192": "x" * 17}), "BAD_CORRECTION_BASIS", id="1192 of 17 characters"),
    pytest.param(make_correction(**{"1054": 5}), "INVALID_TAG", id="correction operation 5"),
    pytest.param(make_correction(**{"1055": 6}), "INVALID_TAG", id="correction with two systems"),
    pytest.param(make_correction(**{"1020": 1}), "SUM_MISMATCH", id="correction total"),
    pytest.param(make_correction(**{"1031": 0}), "PAYMENT_MISMATCH", id="correction payments"),
    pytest.param(make_correction(**{"1059": items_with({"1043": 1})}), "ITEM_SUM_MISMATCH", id="correction item"),
    pytest.param(make_correction(**{"1059": items_with({"1214": 9})}), "BAD_PAYMENT_METHOD", id="correction 1214"),
    pytest.param(make_correction(**{"1203": "1"}), "BAD_CASHIER_INN", id="correction cashier INN"),
    # Shift closing, Z report (5).
    pytest.param(signed_without(make_shift_closing, "1009"), "MISSING_TAG", id="Z without address"),
    pytest.param(signed_without(make_shift_closing, "1111"), "MISSING_TAG", id="Z without documents"),
    pytest.param(signed_without(make_shift_closing, "1118"), "MISSING_TAG", id="Z without receipts"),
    pytest.param(signed_without(make_shift_closing, "1097"), "MISSING_TAG", id="Z without unsent count"),
    pytest.param(make_shift_closing(documents=0), "BAD_SHIFT_COUNTERS", id="Z with no documents"),
    pytest.param(make_shift_closing(receipts=-1), "BAD_SHIFT_COUNTERS", id="negative receipts"),
    pytest.param(make_shift_closing(documents=3, receipts=4), "BAD_SHIFT_COUNTERS", id="more receipts than documents"),
    pytest.param(make_shift_closing(**{"1097": -1}), "BAD_SHIFT_COUNTERS", id="negative unsent"),
    pytest.param(make_shift_closing(**{"1097": "many"}), "BAD_SHIFT_COUNTERS", id="unsent not a number"),
    pytest.param(make_shift_closing(**{"1111": True}), "BAD_SHIFT_COUNTERS", id="documents boolean"),
    pytest.param(make_shift_closing(**{"1097": 1, "1098": "29.11.2025"}), "INVALID_TAG", id="1098 format"),
    pytest.param(make_shift_closing(**{"1097": 1, "1098": "2025-12-01T00:00:00"}), "INVALID_TAG", id="1098 later"),
    pytest.param(make_shift_closing(**{"1050": 1}), "INVALID_TAG", id="flag 1050 a number"),
    pytest.param(make_shift_closing(**{"1053": "false"}), "INVALID_TAG", id="flag 1053 a string"),
]


@pytest.fixture(scope="module")
def validating_ofd() -> Iterator[MockOFDServer]:
    """One validating mock OFD for the whole module, knowing the test FN's secret."""
    with MockOFDServer(port=0, validate=True, fn_secrets=SECRETS) as ofd:
        yield ofd


@pytest.mark.parametrize(("document", "code"), INVALID)
def test_each_rule_is_refused_over_http_with_its_code(
    validating_ofd: MockOFDServer, client: httpx.Client, document: dict[str, Any], code: str
) -> None:
    """The document breaks one rule (its sign is right): 422 with the rule's code and a message; nothing stored."""
    before = validating_ofd.get_stats()
    body = receipt_body(document) if document.get("1000") in (3, 31) else document_body(document)
    answer = client.post(f"{validating_ofd.url}/ofd/v1/receipt", json=body)
    assert answer.status_code == 422, answer.text
    assert answer.json()["code"] == code
    assert answer.json()["error"]
    after = validating_ofd.get_stats()
    assert after["unique_documents"] == before["unique_documents"]
    assert after["rejected"] == before["rejected"] + 1


def test_a_refused_type_names_the_accepted_ones() -> None:
    """The message of UNKNOWN_DOCUMENT_TYPE names the type refused and lists the types accepted."""
    rejection = check_document(document_body(make_shift_opening(**{"1000": 21})), SECRETS)
    assert rejection is not None
    assert "21 (current settlement state report)" in rejection.message
    for code in ("1 (", "2 (", "3 (", "31 (", "5 ("):
        assert code in rejection.message


def test_receipt_checks_do_not_apply_to_shift_documents() -> None:
    """A shift opening carries no items, total or operation type, and needs none."""
    document = make_shift_opening()
    assert not {"1020", "1054", "1059"} & document.keys()
    assert check_document(document_body(document), SECRETS) is None


def test_missing_tags_are_listed_together() -> None:
    """Every missing header and type tag is named in one MISSING_TAG answer."""
    document = {key: value for key, value in make_shift_closing().items() if key not in ("1048", "1111", "1097")}
    rejection = check_document(document_body(document), {})
    assert rejection is not None
    assert rejection.code == "MISSING_TAG"
    assert rejection.message == "required tags missing: 1048, 1111, 1097"
