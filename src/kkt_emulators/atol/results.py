"""The ``result`` objects of ATOL's tasks, built from the emulated KKT's documents and statuses.

Shapes follow the protocol notes and the public JSON schema of the driver's results: ``fiscalParams`` for every
fiscal document, ``shiftStatus``, ``deviceStatus``, ``fnInfo``, ``fnStatus``, the OFD exchange ``status`` and
``errors``, and ``documentTLV`` for a document read back from the FN archive. Date-times are the device's local time
with its offset (``2018-03-06T13:52:00+03:00``); amounts are rubles (see :mod:`kkt_emulators.atol.wire`).
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from kkt_emulators.atol.wire import rubles
from kkt_emulators.device.models import (
    DOC_CORRECTION,
    DOC_RECEIPT,
    DOC_REGISTRATION,
    DOC_SHIFT_CLOSING,
    DOC_SHIFT_OPENING,
    DeviceStatus,
    FiscalDocument,
    FNStatus,
    Registration,
    ShiftReport,
)

FNS_URL = "www.nalog.gov.ru"
#: Tags holding money (kopecks in the device's documents, rubles in the driver's answers).
MONEY_TAGS = frozenset({"1020", "1031", "1043", "1079", "1081", "1200", "1215", "1216", "1217"})
DOCUMENT_TYPES = {
    DOC_REGISTRATION: "registration",
    DOC_SHIFT_OPENING: "openShift",
    DOC_RECEIPT: "receipt",
    DOC_CORRECTION: "receiptCorrection",
    DOC_SHIFT_CLOSING: "closeShift",
}
#: The FN warnings of :class:`FNStatus` under the names of the driver's ``warnings`` object.
_WARNINGS = {
    "memoryOverflow": "memory_nearly_full",
    "needReplacement": "replace_soon",
    "ofdTimeout": "ofd_timeout",
    "resourceExhausted": "resource_exhausted",
}


def stamp(moment: datetime) -> str:
    """A local date-time with its offset, to the second: ``2025-11-30T12:00:00+03:00``."""
    return moment.replace(microsecond=0).isoformat()


def fiscal_params(doc: FiscalDocument) -> dict[str, Any]:
    """``fiscalParams`` of a printed document; receipts add their number and total, a Z report its receipts."""
    params: dict[str, Any] = {
        "fiscalDocumentNumber": doc.fd_number,
        "fiscalDocumentSign": str(doc.fiscal_sign),
        "fiscalDocumentDateTime": stamp(doc.fiscal_datetime),
        "shiftNumber": doc.shift_number,
        "fnNumber": doc.fn_number,
        "registrationNumber": doc.kkt_reg_number,
        "fnsUrl": FNS_URL,
    }
    if doc.receipt_number is not None:
        params["fiscalReceiptNumber"] = doc.receipt_number
        params["total"] = rubles(doc.total_kop)
    if doc.doc_type == DOC_SHIFT_CLOSING:
        params["receiptsCount"] = int(doc.tags.get("1118", 0))
    return params


def printed(doc: FiscalDocument) -> dict[str, Any]:
    """The result of a task that printed a fiscal document."""
    return {"fiscalParams": fiscal_params(doc), "warnings": {"notPrinted": False}}


def shift_state(status: DeviceStatus) -> str:
    """``closed``, ``opened`` or ``expired`` (open for more than 24 hours)."""
    if not status.shift_open:
        return "closed"
    return "expired" if status.shift_expired else "opened"


def shift_status(status: DeviceStatus) -> dict[str, Any]:
    """``getShiftStatus``: the shift's state, number and when it expires (its 24 hours)."""
    body: dict[str, Any] = {"state": shift_state(status), "number": status.shift_number}
    if status.shift_expires_at is not None:
        body["expiredTime"] = stamp(status.shift_expires_at)
    return {"shiftStatus": body}


def device_status(
    status: DeviceStatus, fn: FNStatus, *, now: datetime, cover_opened: bool, blocked: bool
) -> dict[str, Any]:
    """``getDeviceStatus``: the device's clock, shift, cover, paper and fiscal state."""
    return {
        "deviceStatus": {
            "currentDateTime": stamp(now),
            "shift": shift_state(status),
            "blocked": blocked or fn.blocked is not None,
            "coverOpened": cover_opened,
            "paperPresent": status.paper,
            "fiscal": True,
            "fnFiscal": True,
            "fnPresent": True,
            "cashDrawerOpened": False,
        }
    }


def fn_warnings(fn: FNStatus) -> dict[str, bool]:
    """The FN's ``warnings`` object (``criticalError`` is never raised by the emulated FN)."""
    warnings = {name: ours in fn.warnings for name, ours in _WARNINGS.items()}
    warnings["criticalError"] = False
    return warnings


def fn_info(fn: FNStatus, *, registrations: int = 1) -> dict[str, Any]:
    """``getFnInfo``: serial, validity date, FFD version, live phase, registrations and warnings."""
    return {
        "fnInfo": {
            "serial": fn.fn_number,
            "validityDate": f"{fn.validity_date.isoformat()}T00:00:00",
            "ffdVersion": fn.ffd_version,
            "fnFfdVersion": fn.ffd_version,
            "livePhase": "fiscalMode",
            "numberOfRegistrations": registrations,
            "warnings": fn_warnings(fn),
        }
    }


#: Receipt operations by tag 1054, as ``shiftTotals.receipts`` names them; money in (income) or out (outcome).
_OPERATIONS = {1: "sell", 2: "sellReturn", 3: "buy", 4: "buyReturn"}
_INCOME = (1, 4)
#: The device's payment kinds under the driver's names.
_PAYMENTS = {
    "cash": "cash",
    "electronically": "electronic",
    "credit": "credit",
    "prepaid": "prepaid",
    "other": "provision",
}


def registration_info(reg: Registration, taxation_names: dict[str, int]) -> dict[str, Any]:
    """``getRegistrationInfo``: the organisation (with the taxation systems registered, ``taxationTypes``), the
    device's registration number and the OFD (what the emulated registration knows of each)."""
    return {
        "organization": {
            "name": reg.org_name,
            "vatin": reg.inn,
            "email": "",
            "taxationTypes": [name for name, bit in taxation_names.items() if reg.taxation & bit],
            "agents": [],
            "address": reg.address,
        },
        "device": {"registrationNumber": reg.reg_number, "fnsUrl": FNS_URL, "offlineMode": False},
        "ofd": {},
    }


def shift_totals(report: ShiftReport | None, shift_number: int) -> dict[str, Any]:
    """``getShiftTotals``: the shift's receipts by operation (count, sum, money by payment type), income and outcome,
    and the cash drawer's gain; zeros for a shift never opened."""
    receipts: dict[str, Any] = {}
    counts = {"income": 0, "outcome": 0}
    sums = {"income": Decimal(0), "outcome": Decimal(0)}
    for code, name in _OPERATIONS.items():
        count = 0 if report is None else report.count_by_operation.get(code, 0)
        total = rubles(0 if report is None else report.totals_by_operation.get(code, 0))
        paid = {} if report is None else report.payments_by_operation.get(code, {})
        payments = {atol: rubles(paid.get(ours, 0)) for atol, ours in _PAYMENTS.items()}
        receipts[name] = {"count": count, "sum": total, "payments": payments}
        side = "income" if code in _INCOME else "outcome"
        counts[side] += count
        sums[side] += total
    cash = 0 if report is None else report.totals_by_payment.get("cash", 0)
    return {
        "shiftTotals": {
            "shiftNumber": shift_number if report is None else report.shift_number,
            "cashDrawer": {"sum": rubles(cash)},
            "income": {"count": counts["income"], "sum": sums["income"]},
            "outcome": {"count": counts["outcome"], "sum": sums["outcome"]},
            "receipts": receipts,
        }
    }


def fn_status(fn: FNStatus, *, receipt_number: int) -> dict[str, Any]:
    """``getFnStatus``: the last FD number (the counter a blocked job is resolved by), the last receipt number."""
    return {
        "fnStatus": {
            "fiscalDocumentNumber": fn.documents_count,
            "fiscalReceiptNumber": receipt_number,
            "warnings": fn_warnings(fn),
        }
    }


def ofd_exchange_status(fn: FNStatus) -> dict[str, Any]:
    """``ofdExchangeStatus``: documents the OFD has not acknowledged, the first one's number and date-time."""
    status: dict[str, Any] = {"notSentCount": fn.unsent_count}
    if fn.first_unsent_fd_number is not None:
        status["notSentFirstDocNumber"] = fn.first_unsent_fd_number
    if fn.first_unsent_at is not None:
        status["notSentFirstDocDateTime"] = stamp(fn.first_unsent_at)
    ok = {"code": 0, "description": "Ошибок нет"}
    return {"status": status, "errors": {"fn": dict(ok), "network": dict(ok), "ofd": dict(ok)}}


def _tag_value(tag: str, value: Any) -> Any:
    if tag in MONEY_TAGS and isinstance(value, int):
        return rubles(value)
    if tag == "1023" and isinstance(value, str):
        return Decimal(value)
    if tag == "1059" and isinstance(value, list):
        return [{key: _tag_value(key, item) for key, item in entry.items()} for entry in value]
    return value


def document_tlv(doc: FiscalDocument) -> dict[str, Any]:
    """``getFnDocument``: the document's type name and its FFD tags, keyed by the tag number as a string, as the
    driver reads them: sums in rubles, the quantity a number, 1012 with the offset, the fiscal sign (1077) a string."""
    tlv: dict[str, Any] = {"fiscalDocumentType": DOCUMENT_TYPES.get(doc.doc_type, "unknown")}
    tlv.update({tag: _tag_value(tag, value) for tag, value in doc.tags.items()})
    tlv["1012"] = stamp(doc.fiscal_datetime)
    tlv["1077"] = str(doc.fiscal_sign)
    if doc.qr is not None:
        tlv["qr"] = doc.qr
    return {"documentTLV": tlv}
