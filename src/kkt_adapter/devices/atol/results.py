"""ATOL's answers as the adapter's values (pure: no I/O): a job's task results in either dialect, fiscal results with
their QR string, shift reports, the FN's status and the device's state.

Numbers are read as ``Decimal`` (see :mod:`~kkt_adapter.devices.atol.wire`); amounts are rubles on the wire
and kopecks here, converted exactly or refused. A shape this module cannot read raises
:class:`~kkt_adapter.devices.atol.errors.ProtocolError`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any, Final

from kkt_adapter.devices.atol.errors import INTERRUPTED, ProtocolError
from kkt_adapter.devices.atol.tasks import OPERATION_OF_TASK
from kkt_adapter.domain.device import (
    DOC_CORRECTION,
    DOC_RECEIPT,
    DOC_REGISTRATION,
    DOC_SHIFT_CLOSING,
    DOC_SHIFT_OPENING,
)
from kkt_adapter.domain.fiscal import FiscalResult

#: FFD document type (tag 1000) of the document each printing task makes.
DOC_TYPE_OF_TASK: Final[dict[str, int]] = {
    "sell": DOC_RECEIPT,
    "sellReturn": DOC_RECEIPT,
    "sellCorrection": DOC_CORRECTION,
    "sellReturnCorrection": DOC_CORRECTION,
    "openShift": DOC_SHIFT_OPENING,
    "closeShift": DOC_SHIFT_CLOSING,
}
#: ``documentTLV.fiscalDocumentType`` names, for a document read back without tag 1000.
DOC_TYPE_NAMES: Final[dict[str, int]] = {
    "registration": DOC_REGISTRATION,
    "openShift": DOC_SHIFT_OPENING,
    "closeShift": DOC_SHIFT_CLOSING,
    "receipt": DOC_RECEIPT,
    "receiptCorrection": DOC_CORRECTION,
}
#: The FN's warnings (``fnInfo.warnings``) by the adapter's names (as the emulated KKT names them).
FN_WARNINGS: Final[dict[str, str]] = {
    "resourceExhausted": "resource_exhausted",
    "needReplacement": "replace_soon",
    "memoryOverflow": "memory_nearly_full",
    "ofdTimeout": "ofd_timeout",
    "criticalError": "critical_error",
}
#: Receipt totals in ``fnTotals.receipts`` by the adapter's operation names, and the sign of their money in the till.
OPERATIONS: Final[dict[str, tuple[str, int]]] = {
    "sell": ("sale", 1),
    "sellReturn": ("refund", -1),
    "buy": ("expense", -1),
    "buyReturn": ("expense_refund", 1),
}
PAYMENT_KINDS: Final[dict[str, str]] = {
    "cash": "cash",
    "electronically": "electronic",
    "prepaid": "prepaid",
    "credit": "credit",
    "other": "provision",
}
OFD_WAIT_LIMIT = timedelta(days=30)
FAILED: Final = frozenset({"error", "interrupted", "canceled"})
TERMINAL: Final = FAILED | {"ready"}


@dataclass(frozen=True)
class TaskResult:
    """One task's outcome in a job: ``status`` and, for an error, ATOL's code and text; ``result`` when ready."""

    status: str
    error_code: int | None = None
    error_description: str = ""
    result: Mapping[str, Any] | None = None


def task_results(body: Any) -> tuple[TaskResult, ...]:
    """The ``results`` of ``GET .../requests/{uuid}``: v2 (``error: {code, description}``) or the older web server
    (flat ``errorCode``/``errorDescription``) alike."""
    if not isinstance(body, dict) or not isinstance(body.get("results"), list) or not body["results"]:
        raise ProtocolError(f"a job's answer without results: {str(body)[:200]}")
    parsed = []
    for item in body["results"]:
        if not isinstance(item, dict) or not isinstance(item.get("status"), str):
            raise ProtocolError(f"a task result without a status: {str(item)[:200]}")
        error = item.get("error")
        if isinstance(error, dict):
            code, text = error.get("code"), error.get("description")
        else:
            code, text = item.get("errorCode"), item.get("errorDescription")
        result = item.get("result")
        parsed.append(
            TaskResult(
                status=item["status"],
                error_code=None if code is None else whole_number(code, "error code"),
                error_description="" if text is None else str(text),
                result=result if isinstance(result, dict) else None,
            )
        )
    return tuple(parsed)


def job_status(results: Sequence[TaskResult]) -> str:
    """The job's state from its tasks': ``blocked`` if any is, ``wait``/``inProgress`` while any runs, ``error`` if
    a task failed, was interrupted or canceled, else ``ready``."""
    statuses = [result.status for result in results]
    if "blocked" in statuses:
        return "blocked"
    for running in ("inProgress", "wait"):
        if running in statuses:
            return running
    if any(status not in TERMINAL for status in statuses):
        raise ProtocolError(f"unknown task status in {statuses}")
    return "error" if failure(results) is not None else "ready"


def failure(results: Sequence[TaskResult]) -> TaskResult | None:
    """The task that failed the job (not one merely ``interrupted`` after it), or ``None`` if none failed."""
    failed = [r for r in results if r.status in FAILED]
    if not failed:
        return None
    return next((r for r in failed if r.status != "interrupted" and r.error_code != INTERRUPTED), failed[0])


def ready_result(results: Sequence[TaskResult], index: int) -> Mapping[str, Any]:
    """The result of task ``index`` of a job, checked ``ready`` (never taken without its status)."""
    if index >= len(results):
        raise ProtocolError(f"the job answered {len(results)} results, task {index} has none")
    task = results[index]
    if task.status != "ready":
        raise ProtocolError(f"task {index} is {task.status!r}, not ready")
    return task.result or {}


# -- values -------------------------------------------------------------------------------------------------------


def whole_number(value: Any, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int | str | Decimal):
        raise ProtocolError(f"{what}: not a number: {value!r}")
    try:
        number = Decimal(value)
    except InvalidOperation as exc:
        raise ProtocolError(f"{what}: not a number: {value!r}") from exc
    if number != number.to_integral_value():
        raise ProtocolError(f"{what}: not a whole number: {value!r}")
    return int(number)


def kopecks(value: Any, what: str = "amount") -> int:
    """Rubles from the wire (a JSON number, read as ``Decimal``) as kopecks, exactly: more than two decimals is an
    error, never rounded."""
    if isinstance(value, bool) or not isinstance(value, int | Decimal | str):
        raise ProtocolError(f"{what}: not an amount: {value!r}")
    try:
        amount = Decimal(value) * 100
    except InvalidOperation as exc:
        raise ProtocolError(f"{what}: not an amount: {value!r}") from exc
    if amount != amount.to_integral_value():
        raise ProtocolError(f"{what}: more than two decimals: {value!r}")
    return int(amount)


def moment(value: Any, what: str) -> datetime:
    """An ATOL date-time (ISO 8601, with or without its offset, or ``YYYY.MM.DD HH:MM:SS``)."""
    if isinstance(value, str):
        text = value.strip()
        for candidate in (text, text.replace(".", "-", 2) if text[4:5] == "." else text):
            try:
                return datetime.fromisoformat(candidate)
            except ValueError:
                continue
    raise ProtocolError(f"{what}: not a date-time: {value!r}")


def optional_moment(value: Any, what: str) -> datetime | None:
    return None if value in (None, "") else moment(value, what)


def day(value: Any, what: str) -> date | None:
    return None if value in (None, "") else moment(value, what).date()


def qr_string(
    *, when: datetime, total_kop: int, fn_number: str, fd_number: int, fiscal_sign: str, operation: int
) -> str:
    """The FNS QR string of a receipt, ``t=…&s=…&fn=…&i=…&fp=…&n=…``, as the emulated KKT writes it."""
    whole, kop = divmod(abs(total_kop), 100)
    sign = "-" if total_kop < 0 else ""
    return f"t={when:%Y%m%dT%H%M}&s={sign}{whole}.{kop:02d}&fn={fn_number}&i={fd_number}&fp={fiscal_sign}&n={operation}"


@dataclass(frozen=True)
class Identity:
    """What the driver knows of the KKT from earlier answers, for results that leave it out."""

    fn_number: str = ""
    kkt_number: str = ""


def fiscal_result(result: Mapping[str, Any], *, task_type: str, known: Identity = Identity()) -> FiscalResult:
    """The adapter's result for a printing task's ``{"fiscalParams": ...}``."""
    params = result.get("fiscalParams")
    if not isinstance(params, dict):
        raise ProtocolError(f"{task_type}: a result without fiscalParams: {str(result)[:200]}")
    doc_type = DOC_TYPE_OF_TASK[task_type]
    operation = OPERATION_OF_TASK.get(task_type)
    return _result(
        doc_type=doc_type,
        operation=operation,
        fd=params.get("fiscalDocumentNumber"),
        sign=params.get("fiscalDocumentSign"),
        when=params.get("fiscalDocumentDateTime"),
        fn=params.get("fnNumber") or known.fn_number,
        reg=str(params.get("registrationNumber") or known.kkt_number).strip(),
        shift=params.get("shiftNumber", 0),
        receipt=params.get("fiscalReceiptNumber", 0),
        total=params.get("total", 0) if operation is not None else 0,
    )


def document_result(result: Mapping[str, Any], *, known: Identity = Identity()) -> FiscalResult:
    """The adapter's result for a document read back from the FN (``getFnDocument`` → ``{"documentTLV": {...}}``,
    tags by number as strings)."""
    tlv = result.get("documentTLV")
    if not isinstance(tlv, dict):
        raise ProtocolError(f"getFnDocument: a result without documentTLV: {str(result)[:200]}")
    doc_type = tlv.get("1000")
    if doc_type is None:
        doc_type = DOC_TYPE_NAMES.get(str(tlv.get("fiscalDocumentType")))
    if doc_type is None:
        raise ProtocolError(f"getFnDocument: no document type (tag 1000) in {str(tlv)[:200]}")
    doc_type = whole_number(doc_type, "tag 1000")
    operation = whole_number(tlv["1054"], "tag 1054") if tlv.get("1054") is not None else None
    return _result(
        doc_type=doc_type,
        operation=operation if doc_type in (DOC_RECEIPT, DOC_CORRECTION) else None,
        fd=tlv.get("1040"),
        sign=tlv.get("1077"),
        when=tlv.get("1012"),
        fn=tlv.get("1041") or known.fn_number,
        reg=str(tlv.get("1037") or known.kkt_number).strip(),
        shift=tlv.get("1038", 0),
        receipt=tlv.get("1042", 0),
        total=tlv.get("1020", 0),
    )


def _result(
    *,
    doc_type: int,
    operation: int | None,
    fd: Any,
    sign: Any,
    when: Any,
    fn: Any,
    reg: str,
    shift: Any,
    receipt: Any,
    total: Any,
) -> FiscalResult:
    fd_number = whole_number(fd, "fiscal document number")
    fiscal_sign = str(whole_number(sign, "fiscal sign"))
    signed_at = moment(when, "fiscal document date-time")
    total_kop = kopecks(total, "total")
    fn_number = str(fn)
    shift_number = whole_number(shift or 0, "shift number")
    receipt_number = whole_number(receipt or 0, "receipt number")
    document: dict[str, Any] = {
        "1000": doc_type,
        "1012": signed_at.isoformat(),
        "1037": reg,
        "1038": shift_number,
        "1040": fd_number,
        "1041": fn_number,
        "1077": fiscal_sign,
    }
    qr = ""
    if operation is not None:
        document.update({"1020": total_kop, "1042": receipt_number, "1054": operation})
        qr = qr_string(
            when=signed_at,
            total_kop=total_kop,
            fn_number=fn_number,
            fd_number=fd_number,
            fiscal_sign=fiscal_sign,
            operation=operation,
        )
    return FiscalResult(
        fiscal_doc_number=fd_number,
        fiscal_sign=fiscal_sign,
        fiscal_datetime=signed_at.isoformat(),
        fn_number=fn_number,
        kkt_number=reg,
        qr_code_data=qr,
        shift_number=shift_number,
        receipt_number=receipt_number,
        total_kop=total_kop if operation is not None else 0,
        document=document,
        doc_type=doc_type,
    )
