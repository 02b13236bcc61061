"""ATOL's status answers as the adapter's shift report, FN status and device state (pure: no I/O).

What ATOL does not give is approximated, and ``docs/hardware.md`` says so: a Z report's totals come from the
``closeShift`` result's FN counters when the device adds them (else zeros), and the number of documents in a shift is
not reported (receipts + the opening and closing reports). The X report's totals are the device's own
(``getShiftTotals``); the taxation systems the KKT was registered with come from ``getRegistrationInfo``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from datetime import datetime
from typing import Any

from kkt_adapter.devices.atol.errors import ProtocolError
from kkt_adapter.devices.atol.results import (
    FN_WARNINGS,
    OFD_WAIT_LIMIT,
    OPERATIONS,
    PAYMENT_KINDS,
    day,
    kopecks,
    optional_moment,
    whole_number,
)
from kkt_adapter.devices.atol.tasks import TAXATION_TYPES
from kkt_adapter.domain.device import DeviceState, FNStatus, ShiftReport

Result = Mapping[str, Any]


def _dict(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, dict) else {}


def _section(result: Result, name: str) -> Mapping[str, Any]:
    section = result.get(name)
    if not isinstance(section, dict):
        raise ProtocolError(f"a result without {name!r}: {str(result)[:200]}")
    return section


def _totals(
    totals: Mapping[str, Any], counts: Mapping[str, Any], where: str
) -> tuple[dict[str, int], dict[str, int], dict[str, int]]:
    """Receipt sums and counts by operation and net money by payment kind, from ATOL's per-operation totals
    (``{"sell": {"sum", "count", "payments": {"cash", ...}}, ...}``) and counts (``{"sell": 3, ...}``)."""
    by_operation: dict[str, int] = {}
    count_by_operation: dict[str, int] = {}
    by_payment = dict.fromkeys(PAYMENT_KINDS.values(), 0)
    for atol_name, (name, direction) in OPERATIONS.items():
        entry = totals.get(atol_name)
        if isinstance(entry, dict):
            by_operation[name] = kopecks(entry.get("sum", 0), f"{where}.{atol_name}.sum")
            payments = _dict(entry.get("payments"))
            for atol_kind, kind in PAYMENT_KINDS.items():
                paid = kopecks(payments.get(atol_kind, 0), f"{where}.{atol_name}.payments.{atol_kind}")
                by_payment[kind] += direction * paid
        if counts.get(atol_name) is not None:
            count_by_operation[name] = whole_number(counts[atol_name], f"{where}.{atol_name}.count")
    return by_operation, count_by_operation, by_payment if totals else {}


def closed_shift_report(result: Result) -> ShiftReport:
    """The Z report's totals from a ``closeShift`` result: ``receiptsCount``, and ``fnTotals`` /
    ``fnQuantityCounters`` when the device adds them (receipt sums and counts by operation, net money by payment)."""
    params = _section(result, "fiscalParams")
    totals = _dict(_dict(params.get("fnTotals")).get("receipts"))
    counts = _dict(_dict(params.get("fnQuantityCounters")).get("receipts"))
    by_operation, count_by_operation, by_payment = _totals(totals, counts, "fnTotals")
    receipts = params.get("receiptsCount")
    receipts_count = (
        whole_number(receipts, "receiptsCount") if receipts is not None else sum(count_by_operation.values())
    )
    return ShiftReport(
        shift_number=whole_number(params.get("shiftNumber", 0), "shiftNumber"),
        open=False,
        opened_at=None,
        expires_at=None,
        expired=False,
        receipts=receipts_count,
        documents=receipts_count + 2,
        totals_by_operation=by_operation,
        counts_by_operation=count_by_operation,
        totals_by_payment=by_payment,
    )


def x_report(shift: Result, fn: Result, totals: Result) -> ShiftReport:
    """The open shift's report with the device's counters: ``getShiftStatus``, ``getFnStatus`` and
    ``getShiftTotals`` (``shiftTotals.receipts.<operation>`` with its ``count``, ``sum`` and ``payments``)."""
    report = shift_report(shift, fn)
    receipts = _dict(_section(totals, "shiftTotals").get("receipts"))
    counts = {name: entry.get("count") for name, entry in receipts.items() if isinstance(entry, dict)}
    by_operation, count_by_operation, by_payment = _totals(receipts, counts, "shiftTotals.receipts")
    return replace(
        report,
        totals_by_operation=by_operation,
        counts_by_operation=count_by_operation,
        totals_by_payment=by_payment,
    )


def registered_taxation(result: Result) -> int:
    """The taxation systems the KKT was registered with, as a tag 1055 bitmask, from ``getRegistrationInfo``
    (``organization.taxationTypes``: ATOL's names); a name this driver does not know is left out."""
    names = _section(result, "organization").get("taxationTypes")
    if not isinstance(names, list):
        raise ProtocolError(f"getRegistrationInfo: no organization.taxationTypes list: {str(result)[:200]}")
    bits = {name: bit for bit, name in TAXATION_TYPES.items()}
    return sum({bits[name] for name in names if name in bits})


def shift_report(shift: Result, fn: Result) -> ShiftReport:
    """The open shift as ``getShiftStatus`` and ``getFnStatus`` give it: state, number, expiry, and the receipts
    counted so far (the FN's receipt number in the shift); no totals, no document."""
    status = _section(shift, "shiftStatus")
    state = str(status.get("state") or status.get("status") or "closed")
    is_open = state in ("opened", "expired")
    expires = optional_moment(status.get("expiredTime"), "expiredTime") if is_open else None
    receipts = whole_number(_section(fn, "fnStatus").get("fiscalReceiptNumber", 0) or 0, "fiscalReceiptNumber")
    return ShiftReport(
        shift_number=whole_number(status.get("number", 0), "shift number"),
        open=is_open,
        opened_at=None,
        expires_at=None if expires is None else expires.isoformat(),
        expired=state == "expired",
        receipts=receipts if is_open else 0,
        documents=receipts + 1 if is_open else 0,
    )


def fn_status(info: Result, fn: Result, ofd: Result, *, now: datetime) -> FNStatus:
    """The FN's life and OFD exchange from ``getFnInfo``, ``getFnStatus`` and ``ofdExchangeStatus``; ``blocked`` is
    the adapter's code of what stops receipts now: the FN past its validity date, or the first unsent document older
    than 30 days (the OFD wait exhausted)."""
    fn_info = _section(info, "fnInfo")
    status = _section(fn, "fnStatus")
    exchange = _section(ofd, "status")
    warnings = _dict(fn_info.get("warnings"))
    unsent = whole_number(exchange.get("notSentCount", 0) or 0, "notSentCount")
    first_number = exchange.get("notSentFirstDocNumber")
    first_at = optional_moment(exchange.get("notSentFirstDocDateTime"), "notSentFirstDocDateTime")
    validity = day(fn_info.get("validityDate"), "validityDate")
    blocked = None
    if validity is not None and now.date() > validity:
        blocked = "fn_expired"
    elif unsent and first_at is not None and _aware(now, first_at) - first_at > OFD_WAIT_LIMIT:
        blocked = "fn_ofd_timeout_30_days"
    return FNStatus(
        fn_number=str(fn_info.get("serial", "")),
        validity_date=None if validity is None else validity.isoformat(),
        ffd_version=str(fn_info.get("ffdVersion", "")),
        documents_count=whole_number(status.get("fiscalDocumentNumber", 0) or 0, "fiscalDocumentNumber"),
        unsent_count=unsent,
        first_unsent_fd_number=whole_number(first_number, "notSentFirstDocNumber") if unsent and first_number else None,
        first_unsent_at=first_at.isoformat() if unsent and first_at is not None else None,
        warnings=tuple(name for key, name in FN_WARNINGS.items() if warnings.get(key)),
        blocked=blocked,
    )


def _aware(now: datetime, other: datetime) -> datetime:
    """``now`` comparable with ``other`` (the device may write times without an offset: its local time)."""
    if other.tzinfo is None:
        return now.astimezone().replace(tzinfo=None) if now.tzinfo is not None else now
    return now if now.tzinfo is not None else now.astimezone()


def device_state(device: Result, shift: Result, fn: FNStatus, *, kkt_number: str) -> DeviceState:
    """The device's state from ``getDeviceStatus`` and ``getShiftStatus``, with the FN's status."""
    status = _section(device, "deviceStatus")
    report = shift_report(shift, {"fnStatus": {}})
    expires = optional_moment(_section(shift, "shiftStatus").get("expiredTime"), "expiredTime")
    return DeviceState(
        online=True,
        paper=bool(status.get("paperPresent", True)),
        shift_open=report.open,
        shift_number=report.shift_number,
        shift_expired=report.expired,
        last_fd_number=fn.documents_count,
        fn_number=fn.fn_number,
        kkt_number=kkt_number,
        shift_expires_at=expires.timestamp() if report.open and expires is not None else None,
        fn_blocked=fn.blocked,
        fn_warnings=fn.warnings,
    )
