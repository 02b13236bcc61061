"""The adapter's requests as ATOL JSON tasks (pure: no I/O): receipts, refunds and corrections with their FFD 1.2
attributes, shift reports, and the status queries.

Amounts are rubles as ``Decimal`` with two places (written to the wire digit for digit by
:mod:`~kkt_adapter.devices.atol.wire`); the names of taxation systems, VAT rates, payment methods, payment
objects and measures are ATOL's (``docs/hardware.md`` lists them with their FFD codes).
"""

from __future__ import annotations

import base64
import uuid
from decimal import Decimal
from typing import Any, Final

from kkt_adapter.domain.correction import Correction
from kkt_adapter.domain.money import rubles
from kkt_adapter.domain.receipt import Cashier, Item, Receipt

Task = dict[str, Any]

#: The namespace of print job uuids. Changing it would orphan every job already on a server: never change it.
NAMESPACE = uuid.UUID("6f1c8a52-3d7e-5b1a-9c44-0a7d2e5f8b31")


def job_uuid(key: str, attempt: int) -> str:
    """The job uuid of attempt ``attempt`` (0 first) to print the request with idempotency key ``key``."""
    return str(uuid.uuid5(NAMESPACE, f"{key}:{attempt}"))


#: tax.type by tag 1199 code.
VAT_TYPES: Final[dict[int, str]] = {
    1: "vat20",
    2: "vat10",
    3: "vat120",
    4: "vat110",
    5: "vat0",
    6: "none",
    7: "vat5",
    8: "vat7",
    9: "vat105",
    10: "vat107",
    11: "vat22",
    12: "vat122",
}

#: taxationType by tag 1055 bit.
TAXATION_TYPES: Final[dict[int, str]] = {
    1: "osn",
    2: "usnIncome",
    4: "usnIncomeOutcome",
    8: "envd",
    16: "esn",
    32: "patent",
}

#: paymentMethod by tag 1214 code.
PAYMENT_METHODS: Final[dict[int, str]] = {
    1: "fullPrepayment",
    2: "prepayment",
    3: "advance",
    4: "fullPayment",
    5: "partialPayment",
    6: "credit",
    7: "creditPayment",
}

#: paymentObject by tag 1212 code (FFD 1.2).
PAYMENT_OBJECTS: Final[dict[int, str]] = {
    1: "commodity",
    2: "excise",
    3: "job",
    4: "service",
    5: "gamblingBet",
    6: "gamblingPrize",
    7: "lottery",
    8: "lotteryPrize",
    9: "intellectualActivity",
    10: "payment",
    11: "agentCommission",
    12: "pay",
    13: "another",
    14: "proprietaryLaw",
    15: "nonOperatingIncome",
    16: "otherContributions",
    17: "merchantTax",
    18: "resortFee",
    19: "deposit",
    20: "consumption",
    21: "soleProprietorCPIContributions",
    22: "cpiContributions",
    23: "soleProprietorCMIContributions",
    24: "cmiContributions",
    25: "csiContributions",
    26: "casinoPayment",
    27: "fundsIssuance",
    30: "exciseWithoutMarking",
    31: "exciseWithMarking",
    32: "commodityWithoutMarking",
    33: "commodityWithMarking",
}

#: measurementUnit by tag 2108 code (FFD 1.2).
MEASUREMENT_UNITS: Final[dict[int, str]] = {
    0: "piece",
    10: "gram",
    11: "kilogram",
    12: "ton",
    20: "centimeter",
    21: "decimeter",
    22: "meter",
    30: "squareCentimeter",
    31: "squareDecimeter",
    32: "squareMeter",
    40: "milliliter",
    41: "liter",
    42: "cubicMeter",
    50: "kilowattHour",
    51: "gkal",
    70: "day",
    71: "hour",
    72: "minute",
    73: "second",
    80: "kilobyte",
    81: "megabyte",
    82: "gigabyte",
    83: "terabyte",
    255: "otherUnits",
}

#: payments[].type by the receipt's payment group (1217, counter-provision, is ATOL's "other").
PAYMENT_TYPES: Final[dict[str, str]] = {
    "cash": "cash",
    "electronic": "electronically",
    "prepaid": "prepaid",
    "credit": "credit",
    "provision": "other",
}

#: The task type of a receipt and of a correction, by the operation; and each task's tag 1054 back.
RECEIPT_TASKS: Final[dict[str, str]] = {"sale": "sell", "refund": "sellReturn"}
CORRECTION_TASKS: Final[dict[str, str]] = {"sale": "sellCorrection", "refund": "sellReturnCorrection"}
OPERATION_OF_TASK: Final[dict[str, int]] = {
    "sell": 1,
    "sellReturn": 2,
    "sellCorrection": 1,
    "sellReturnCorrection": 2,
}


def money(kopecks: int) -> Decimal:
    """Kopecks as rubles with two places, the wire's amount."""
    return rubles(kopecks)


def position(item: Item, *, refund: bool) -> Task:
    """One receipt line as an ATOL ``position``; a marking code is passed through as ``imcParams`` (not validated
    online: no ``beginMarkingCodeValidation``)."""
    task: Task = {
        "type": "position",
        "name": item.name,
        "price": money(item.price_kop),
        "quantity": item.quantity.normalize(),
        "amount": money(item.sum_kop),
        "measurementUnit": MEASUREMENT_UNITS[item.measure],
        "paymentMethod": PAYMENT_METHODS[item.payment_method],
        "paymentObject": PAYMENT_OBJECTS[item.payment_object],
        "tax": {"type": VAT_TYPES[item.vat_code]},
    }
    if item.mark_code is not None:
        task["imcParams"] = {
            "imcType": "auto",
            "imc": base64.b64encode(item.mark_code.encode("utf-8")).decode("ascii"),
            "itemEstimatedStatus": "itemPieceReturn" if refund else "itemPieceSold",
            "imcModeProcessing": 0,
        }
    return task


def _settlement(receipt: Receipt, task_type: str) -> Task:
    """What a receipt and a correction share: taxation, cashier, customer, lines, payments, total."""
    refund = receipt.operation == "refund"
    task: Task = {"type": task_type}
    if receipt.taxation is not None:
        task["taxationType"] = TAXATION_TYPES[receipt.taxation]
    task["electronically"] = False
    task |= operator(receipt.cashier)
    if receipt.customer_contact is not None:
        task["clientInfo"] = {"emailOrPhone": receipt.customer_contact}
    task["items"] = [position(item, refund=refund) for item in receipt.items]
    task["payments"] = [
        {"type": kind, "sum": money(receipt.paid(group))}
        for group, kind in PAYMENT_TYPES.items()
        if receipt.paid(group) > 0
    ]
    task["total"] = money(receipt.total_kop)
    return task


def receipt_task(receipt: Receipt) -> Task:
    """A sale (``sell``) or refund (``sellReturn``)."""
    return _settlement(receipt, RECEIPT_TASKS[receipt.operation])


def correction_task(correction: Correction) -> Task:
    """A correction receipt (FFD 1.2): ``sellCorrection`` for a sale, ``sellReturnCorrection`` for a refund, with its
    type, basis date (``YYYY.MM.DD``), the order's number, and the corrected receipt's fiscal sign (tag 1192) as the
    receipt's additional attribute."""
    task = _settlement(correction.receipt, CORRECTION_TASKS[correction.receipt.operation])
    task["correctionType"] = correction.correction_type
    task["correctionBaseDate"] = correction.basis_date.strftime("%Y.%m.%d")
    if correction.basis_number is not None:
        task["correctionBaseNumber"] = correction.basis_number
    if correction.corrected_fiscal_sign is not None:
        task["additionalAttribute"] = correction.corrected_fiscal_sign
    return task


def operator(cashier: Cashier | None) -> Task:
    """The task's ``operator`` (tags 1021, 1203) for ``cashier``; nothing for ``None`` (the KKT's own cashier)."""
    if cashier is None:
        return {}
    named: dict[str, str] = {"name": cashier.name}
    if cashier.inn is not None:
        named["vatin"] = cashier.inn
    return {"operator": named}


def open_shift_task(cashier: Cashier | None = None) -> Task:
    """Open a shift: the shift opening report, under ``cashier`` (FFD 1.2 puts tag 1021 on it)."""
    return {"type": "openShift"} | operator(cashier)


def close_shift_task(cashier: Cashier | None = None) -> Task:
    """Close the shift: the Z report, under ``cashier``."""
    return {"type": "closeShift"} | operator(cashier)


def x_report_task(cashier: Cashier | None = None) -> Task:
    """Print an X report on paper (not a fiscal document), under ``cashier``."""
    return {"type": "reportX"} | operator(cashier)


def query_task(name: str) -> Task:
    """A status query without parameters: ``getDeviceStatus``, ``getShiftStatus``, ``getFnInfo``, ``getFnStatus``,
    ``ofdExchangeStatus``, ``getShiftTotals``, ``getRegistrationInfo``."""
    return {"type": name}


def fn_document_task(fd_number: int) -> Task:
    """Read document ``fd_number`` back from the FN's archive."""
    return {"type": "getFnDocument", "fiscalDocumentNumber": fd_number}
