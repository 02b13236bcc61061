"""Pure fiscal arithmetic shared by the emulated fiscal drive and the mock OFD (54-FZ, FFD 1.2).

Facts and their sources are in the project's fiscal notes: INN check (python-stdnum), the KKT registration number's
CRC-16/CCITT-FALSE check digits, the FNS QR string, and the emulated fiscal sign (an HMAC of the document's canonical
JSON with the fiscal drive's secret, truncated to a uint32).

Documents are FFD tag-based JSON: a mapping whose keys are tag numbers as strings (``"1040"``), money in integer
kopecks, quantities as decimal strings (``"1.5"``), date-times as ``YYYY-MM-DDTHH:MM:SS`` local time.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
from collections.abc import Mapping
from datetime import date, datetime
from typing import Any, Final

from stdnum.ru import inn as _inn

TAG_FISCAL_SIGN: Final = "1077"
TAG_DOCUMENT_TYPE: Final = "1000"

#: Fiscal document types (tag 1000) of FFD 1.05 / 1.2, by code.
DOCUMENT_TYPES: Final[Mapping[int, str]] = {
    1: "registration report",
    11: "registration change report",
    2: "shift opening report",
    21: "current settlement state report",
    3: "receipt",
    31: "correction receipt",
    4: "strict reporting form",
    41: "strict reporting form correction",
    5: "shift closing report",
    6: "FN archive closing report",
}

#: Taxation systems (tag 1055 bits): OSN, USN income, USN income-expense, ESHN, patent.
TAXATION_SYSTEMS: Final = (1, 2, 4, 16, 32)

#: Percent applied for the VAT included in a sum, by VAT rate code; ``None`` means no VAT.
VAT_PERCENT_BY_CODE: Final[Mapping[int, int | None]] = {
    1: 20,
    2: 10,
    3: 20,
    4: 10,
    5: 0,
    6: None,
    7: 5,
    8: 7,
    9: 5,
    10: 7,
    11: 22,
    12: 22,
}

QR_PATTERN: Final = re.compile(r"t=([\dT]+)&s=([\d.]+)&fn=(\d+)&i=(\d+)&fp=(\d+)&n=(\d+)")
_DATETIME_PATTERN: Final = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}", re.ASCII)
_DATE_PATTERN: Final = re.compile(r"\d{4}-\d{2}-\d{2}", re.ASCII)


def is_valid_inn(value: str) -> bool:
    """Tell whether ``value`` is a 10- or 12-digit INN with correct check digits."""
    return bool(_inn.is_valid(value))


def crc16_ccitt_false(data: bytes) -> int:
    """CRC-16/CCITT-FALSE: polynomial 0x1021, initial 0xFFFF, no reflection, no final xor."""
    crc = 0xFFFF
    for byte in data:
        crc ^= byte << 8
        for _ in range(8):
            crc = ((crc << 1) ^ 0x1021) if crc & 0x8000 else (crc << 1)
            crc &= 0xFFFF
    return crc


def registration_number(ordinal: int | str, inn: str, kkt_serial: str) -> str:
    """Build the 16-digit KKT registration number: 10-digit ordinal + 6-digit decimal CRC check."""
    head = str(ordinal).zfill(10)
    if len(head) != 10 or not head.isdigit():
        raise ValueError(f"registration ordinal must be at most 10 digits, got {ordinal!r}")
    payload = (head + inn.zfill(12) + kkt_serial.zfill(20)).encode("ascii")
    return head + str(crc16_ccitt_false(payload)).zfill(6)


def is_valid_registration_number(rnm: str, inn: str, kkt_serial: str) -> bool:
    """Tell whether ``rnm`` carries the right check digits for this INN and KKT serial number."""
    if len(rnm) != 16 or not rnm.isdigit():
        return False
    return registration_number(rnm[:10], inn, kkt_serial) == rnm


def parse_document_datetime(value: object) -> datetime | None:
    """A tag's local date-time written exactly ``YYYY-MM-DDTHH:MM:SS`` (as 1012 is), or ``None`` if it is not one."""
    if not isinstance(value, str) or not _DATETIME_PATTERN.fullmatch(value):
        return None
    try:
        return datetime.strptime(value, "%Y-%m-%dT%H:%M:%S")
    except ValueError:
        return None


def parse_document_date(value: object) -> date | None:
    """A tag's date written exactly ``YYYY-MM-DD`` (as 1178 is), or ``None`` if it is not one."""
    if not isinstance(value, str) or not _DATE_PATTERN.fullmatch(value):
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        return None


def is_valid_fn_number(value: str) -> bool:
    """Tell whether ``value`` looks like a fiscal drive number (16 digits)."""
    return len(value) == 16 and value.isdigit()


def vat_included(sum_kop: int, vat_code: int) -> int:
    """VAT included in ``sum_kop`` at the rate ``vat_code``: sum × r / (100 + r), rounded half up to kopecks."""
    percent = VAT_PERCENT_BY_CODE[vat_code]
    if not percent:
        return 0
    numerator = sum_kop * percent
    denominator = 100 + percent
    return (2 * numerator + denominator) // (2 * denominator)


def canonical_bytes(document: Mapping[str, Any]) -> bytes:
    """The bytes the fiscal sign covers: the document without its sign, as sorted compact UTF-8 JSON."""
    body = {key: value for key, value in document.items() if key != TAG_FISCAL_SIGN}
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def fiscal_sign(document: Mapping[str, Any], secret: bytes) -> int:
    """The emulated fiscal sign (tag 1077): the first 4 bytes of HMAC-SHA256 as an unsigned 32-bit integer."""
    digest = hmac.new(secret, canonical_bytes(document), hashlib.sha256).digest()
    return int.from_bytes(digest[:4], "big")


def verify_fiscal_sign(document: Mapping[str, Any], secret: bytes) -> bool:
    """Tell whether the document's tag 1077 matches its content under ``secret``."""
    claimed = document.get(TAG_FISCAL_SIGN)
    try:
        claimed_int = int(str(claimed))
    except ValueError:
        return False
    return hmac.compare_digest(str(fiscal_sign(document, secret)), str(claimed_int))


def format_rubles(kopecks: int) -> str:
    """Kopecks as rubles with a dot and two kopeck digits: 250000 → ``2500.00``."""
    sign = "-" if kopecks < 0 else ""
    rubles, kop = divmod(abs(kopecks), 100)
    return f"{sign}{rubles}.{kop:02d}"


def qr_string(
    *, when: datetime, total_kop: int, fn_number: str, fd_number: int, fiscal_sign: int, operation: int
) -> str:
    """The FNS QR string printed on every receipt: ``t=…&s=…&fn=…&i=…&fp=…&n=…``."""
    return (
        f"t={when:%Y%m%dT%H%M}&s={format_rubles(total_kop)}&fn={fn_number}&i={fd_number}&fp={fiscal_sign}&n={operation}"
    )
