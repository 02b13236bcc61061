"""Validate mode: the mock OFD refuses what a real OFD refuses, with 422 and an OFD-style code."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from emulator_helpers import FN_NUMBER, FN_SECRET, make_document, receipt_body

from kkt_emulators.ofd import MockOFDServer
from kkt_emulators.validation import check_receipt

SECRETS = {FN_NUMBER: FN_SECRET}


def without(document: dict[str, Any], tag: str) -> dict[str, Any]:
    """The document without one tag."""
    return {key: value for key, value in document.items() if key != tag}


def test_a_correct_signed_document_is_accepted() -> None:
    """The reference document passes every check, its fiscal sign verified."""
    assert check_receipt(receipt_body(make_document()), SECRETS) is None


def test_unknown_fn_signs_are_not_verified() -> None:
    """Without the FN's secret the sign is only checked for its form."""
    assert check_receipt(receipt_body(make_document(secret=b"another")), {}) is None


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"receipt_id": "r"}, "MISSING_DOCUMENT"),
        (receipt_body(without(make_document(), "1041")), "MISSING_TAG"),
        (receipt_body(make_document(fn="12345")), "INVALID_FN_NUMBER"),
        (receipt_body(make_document(**{"1018": "7707083894"})), "INVALID_INN"),
        (receipt_body(make_document(**{"1037": "123"})), "INVALID_REGISTRATION_NUMBER"),
        (receipt_body(make_document(**{"1037": "0000000001000000"})), "INVALID_REGISTRATION_NUMBER"),
        (receipt_body(make_document(**{"1054": 9})), "INVALID_TAG"),
        (receipt_body(make_document(**{"1012": "30.11.2025 12:00"})), "INVALID_TAG"),
        (receipt_body(make_document(**{"1040": 0})), "INVALID_TAG"),
        (receipt_body(make_document(**{"1209": 3})), "INVALID_TAG"),
        (receipt_body(make_document(**{"1055": 8})), "INVALID_TAG"),
        (receipt_body(make_document(**{"1020": 32191})), "SUM_MISMATCH"),
        (receipt_body(make_document(**{"1031": 2191})), "PAYMENT_MISMATCH"),
        (receipt_body(make_document(**{"1020": "321.90"})), "INVALID_TAG"),
        (receipt_body(make_document(**{"1059": []})), "INVALID_TAG"),
        (receipt_body(make_document(sign="12345")), "INVALID_FISCAL_SIGN"),
        (receipt_body(make_document(sign="99999999999")), "INVALID_FISCAL_SIGN"),
    ],
)
def test_each_rule_has_its_code(body: dict[str, Any], code: str) -> None:
    """Each broken rule is refused with 422 and its own code."""
    rejection = check_receipt(body, SECRETS)
    assert rejection is not None
    assert (rejection.status, rejection.code) == (422, code)
    assert rejection.answer() == {"error": rejection.message, "code": code}


@pytest.mark.parametrize(
    ("item_change", "code"),
    [
        ({"1043": 24000}, "ITEM_SUM_MISMATCH"),
        ({"1199": 99}, "INVALID_VAT"),
        ({"1200": 1}, "VAT_MISMATCH"),
        ({"1023": "two"}, "INVALID_TAG"),
        ({"1030": "x" * 129}, "INVALID_TAG"),
    ],
)
def test_item_rules(item_change: dict[str, Any], code: str) -> None:
    """Item sums (±1 kopeck), VAT codes and sums, quantities and names are checked per item."""
    document = make_document()
    document["1059"][0].update(item_change)
    rejection = check_receipt(receipt_body(document), {})
    assert rejection is not None
    assert rejection.code == code


def test_a_document_changed_after_signing_fails_its_sign() -> None:
    """Changing a signed document (here the receipt number in shift) breaks the fiscal sign, as at a real OFD."""
    document = make_document()
    document["1042"] = 99
    rejection = check_receipt(receipt_body(document), SECRETS)
    assert rejection is not None
    assert rejection.code == "INVALID_FISCAL_SIGN"


def test_registration_check_needs_the_serial() -> None:
    """Without tag 1013 (KKT serial) only the registration number's form is checked."""
    document = without(make_document(**{"1037": "0000000001000000"}), "1013")
    assert check_receipt(receipt_body(document), {}) is None


def test_validate_mode_over_http(client: httpx.Client) -> None:
    """``validate=True``: a bad document gets 422 with error and code and is not stored; a good one passes."""
    with MockOFDServer(port=0, validate=True, fn_secrets=SECRETS) as ofd:
        bad = client.post(f"{ofd.url}/ofd/v1/receipt", json=receipt_body(make_document(**{"1020": 1})))
        good = client.post(f"{ofd.url}/ofd/v1/receipt", json=receipt_body(make_document()))
        assert bad.status_code == 422
        assert bad.json()["code"] == "SUM_MISMATCH"
        assert good.status_code == 200
        assert ofd.get_stats()["rejected"] == 1
        assert len(ofd.get_received_receipts()) == 1


def test_fn_secrets_can_be_registered_later(client: httpx.Client) -> None:
    """``register_fn`` (or POST /ofd/v1/_test/register-fn) teaches the OFD a secret; forged signs are then refused."""
    with MockOFDServer(port=0, validate=True) as ofd:
        forged = receipt_body(make_document(secret=b"forged"))
        assert client.post(f"{ofd.url}/ofd/v1/receipt", json=forged).status_code == 200
        answer = client.post(
            f"{ofd.url}/ofd/v1/_test/register-fn", json={"fn_number": FN_NUMBER, "secret": FN_SECRET.decode()}
        )
        assert answer.status_code == 200
        forged = receipt_body(make_document(2, secret=b"forged"))
        assert client.post(f"{ofd.url}/ofd/v1/receipt", json=forged).status_code == 422
        ofd.register_fn(FN_NUMBER, b"forged")
        assert client.post(f"{ofd.url}/ofd/v1/receipt", json=forged).status_code == 200


def test_validate_can_be_switched_over_http(mock_ofd_server: MockOFDServer, client: httpx.Client) -> None:
    """POST /ofd/v1/_test/validate turns document checks on and off."""
    client.post(f"{mock_ofd_server.url}/ofd/v1/_test/validate", json={"enabled": True})
    assert mock_ofd_server.validate is True
    assert client.post(f"{mock_ofd_server.url}/ofd/v1/receipt", json={"x": 1}).status_code == 422
    mock_ofd_server.validate = False
    assert client.post(f"{mock_ofd_server.url}/ofd/v1/receipt", json={"x": 1}).status_code == 200
