"""The shared fiscal arithmetic matches the published facts (docs: FISCAL notes)."""

from __future__ import annotations

from datetime import datetime

import pytest

from kkt_emulators import fiscal


def test_crc16_check_value() -> None:
    """CRC-16/CCITT-FALSE of ASCII "123456789" is 0x29B1, its published check value."""
    assert fiscal.crc16_ccitt_false(b"123456789") == 0x29B1


@pytest.mark.parametrize(("inn", "valid"), [("7707083893", True), ("7707083894", False), ("500100732259", True)])
def test_inn_check(inn: str, valid: bool) -> None:
    """INN check digits are verified through python-stdnum."""
    assert fiscal.is_valid_inn(inn) is valid


def test_registration_number_round_trip() -> None:
    """A built registration number verifies, and changing one digit breaks the check."""
    rnm = fiscal.registration_number(1234, "7707083893", "00106700000001")
    assert len(rnm) == 16
    assert fiscal.is_valid_registration_number(rnm, "7707083893", "00106700000001")
    broken = rnm[:-1] + str((int(rnm[-1]) + 1) % 10)
    assert not fiscal.is_valid_registration_number(broken, "7707083893", "00106700000001")


@pytest.mark.parametrize(
    ("sum_kop", "code", "vat"),
    [(12000, 1, 2000), (11000, 2, 1000), (10000, 6, 0), (10000, 5, 0), (12200, 11, 2200), (100, 1, 17)],
)
def test_vat_included(sum_kop: int, code: int, vat: int) -> None:
    """VAT included is sum × r / (100 + r), rounded to kopecks."""
    assert fiscal.vat_included(sum_kop, code) == vat


def test_fiscal_sign_detects_change() -> None:
    """A signed document verifies; any change to it or a wrong secret fails verification."""
    doc = {"1040": 7, "1020": 250000, "1041": "9999078900001234"}
    doc["1077"] = fiscal.fiscal_sign(doc, b"secret")
    assert 0 <= doc["1077"] <= 0xFFFFFFFF
    assert fiscal.verify_fiscal_sign(doc, b"secret")
    assert not fiscal.verify_fiscal_sign(doc, b"other")
    assert not fiscal.verify_fiscal_sign({**doc, "1020": 250001}, b"secret")


def test_qr_string_matches_fns_reader_pattern() -> None:
    """The QR string is in the FNS format that readers match."""
    qr = fiscal.qr_string(
        when=datetime(2025, 11, 30, 12, 0),
        total_kop=250000,
        fn_number="9999078900001234",
        fd_number=42,
        fiscal_sign=2981623349,
        operation=1,
    )
    assert qr == "t=20251130T1200&s=2500.00&fn=9999078900001234&i=42&fp=2981623349&n=1"
    assert fiscal.QR_PATTERN.fullmatch(qr)
