"""ATOL's receipt tasks (``sell``, ``sellReturn``, ``buy``, ``buyReturn`` and their ``...Correction``) read into the
emulated KKT's :class:`ReceiptTask` / :class:`CorrectionTask`: the FFD 1.2 attributes by their ATOL names.

Names and codes (sources in ``docs/emulators.md``): ``taxationType`` → 1055, ``tax.type`` → 1199, ``paymentMethod``
→ 1214, ``paymentObject`` → 1212, ``measurementUnit`` → 2108, ``payments[].type`` → 1031/1081/1215/1216/1217,
``operator`` → 1021/1203, ``clientInfo.emailOrPhone`` → 1008, ``correctionType`` → 1173, ``correctionBaseDate`` /
``correctionBaseNumber`` → 1178/1179. A field of the wrong type or an unknown name is the task error (code 8 or 13)
with the field and what is allowed; the device then checks what it checks (sums balance, INN, contact, ...).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

from kkt_emulators.atol.errors import bad_param, missing_param
from kkt_emulators.atol.wire import to_kopecks, to_quantity
from kkt_emulators.device.models import CorrectionTask, ReceiptTask, TaskItem

OPERATIONS = {"sell": 1, "sellReturn": 2, "buy": 3, "buyReturn": 4}
CORRECTIONS = {f"{name}Correction": code for name, code in OPERATIONS.items()}
TAXATION = {"osn": 1, "usnIncome": 2, "usnIncomeOutcome": 4, "esn": 16, "patent": 32}
VAT = {
    "vat20": 1,
    "vat10": 2,
    "vat120": 3,
    "vat110": 4,
    "vat0": 5,
    "none": 6,
    "vat5": 7,
    "vat7": 8,
    "vat105": 9,
    "vat107": 10,
    "vat22": 11,
    "vat122": 12,
}
PAYMENT_METHODS = {
    "fullPrepayment": 1,
    "prepayment": 2,
    "advance": 3,
    "fullPayment": 4,
    "partialPayment": 5,
    "credit": 6,
    "creditPayment": 7,
}
PAYMENT_OBJECTS = {
    "commodity": 1,
    "excise": 2,
    "job": 3,
    "service": 4,
    "gamblingBet": 5,
    "gamblingPrize": 6,
    "lottery": 7,
    "lotteryPrize": 8,
    "intellectualActivity": 9,
    "payment": 10,
    "agentCommission": 11,
    "pay": 12,
    "composite": 12,
    "another": 13,
    "proprietaryLaw": 14,
    "nonOperatingIncome": 15,
    "otherContributions": 16,
    "insuranceContributions": 16,
    "merchantTax": 17,
    "resortFee": 18,
    "deposit": 19,
    "consumption": 20,
    "soleProprietorCPIContributions": 21,
    "cpiContributions": 22,
    "soleProprietorCMIContributions": 23,
    "cmiContributions": 24,
    "csiContributions": 25,
    "casinoPayment": 26,
    "fundsIssuance": 27,
    "exciseWithoutMarking": 30,
    "exciseWithMarking": 31,
    "commodityWithoutMarking": 32,
    "commodityWithMarking": 33,
}
MEASUREMENT_UNITS = {
    "piece": 0,
    "gram": 10,
    "kilogram": 11,
    "ton": 12,
    "centimeter": 20,
    "decimeter": 21,
    "meter": 22,
    "squareCentimeter": 30,
    "squareDecimeter": 31,
    "squareMeter": 32,
    "milliliter": 40,
    "liter": 41,
    "cubicMeter": 42,
    "kilowattHour": 50,
    "gigacalorie": 51,
    "day": 70,
    "hour": 71,
    "minute": 72,
    "second": 73,
    "kilobyte": 80,
    "megabyte": 81,
    "gigabyte": 82,
    "terabyte": 83,
    "otherUnits": 255,
}
#: payments[].type → the ReceiptTask field it adds to (by name, or the driver's number 0–4).
PAYMENT_KINDS = {
    "cash": "cash_kop",
    "electronically": "electronic_kop",
    "prepaid": "prepaid_kop",
    "credit": "credit_kop",
    "other": "provision_kop",
}
PAYMENT_NUMBERS = dict(enumerate(PAYMENT_KINDS))
CORRECTION_TYPES = {"self": 0, "instruction": 1}
#: Item types that print text only: they carry no settlement and are skipped.
NON_FISCAL_ITEMS = frozenset({"text", "barcode", "pictureFromMemory", "pixels", "userAttribute"})


def _text(value: object, field: str, *, required: bool = False) -> str | None:
    if value is None:
        if required:
            raise missing_param(field)
        return None
    if not isinstance(value, str) or "\x00" in value:
        raise bad_param(f"{field}: нужна строка, получено {value!r}")
    return value


def _object(value: object, field: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise bad_param(f"{field}: нужен объект, получено {value!r}")
    return value


def _choice(value: object, names: Mapping[str, int], field: str, default: int | None = None) -> int:
    """A named code (``"fullPayment"``) or, where the driver takes it, the FFD number itself."""
    if value is None and default is not None:
        return default
    if isinstance(value, str) and value in names:
        return names[value]
    if isinstance(value, int) and not isinstance(value, bool) and value in names.values():
        return value
    raise bad_param(f"{field}: неизвестное значение {value!r}; допустимо: {', '.join(names)}")


def _item(index: int, raw: Mapping[str, Any]) -> TaskItem:
    where = f"items[{index}]"
    tax = _object(raw.get("tax"), f"{where}.tax") if raw.get("tax") is not None else None
    if tax is None:
        raise missing_param(f"{where}.tax")
    imc = raw.get("imcParams")
    mark = _text(_object(imc, f"{where}.imcParams").get("imc"), f"{where}.imcParams.imc") if imc else None
    for name in ("price", "quantity", "amount"):
        if raw.get(name) is None:
            raise missing_param(f"{where}.{name}")
    return TaskItem(
        name=_text(raw.get("name"), f"{where}.name", required=True) or "",
        price_kop=to_kopecks(raw["price"], f"{where}.price"),
        quantity=to_quantity(raw["quantity"], f"{where}.quantity"),
        sum_kop=to_kopecks(raw["amount"], f"{where}.amount"),
        vat_code=_choice(tax.get("type"), VAT, f"{where}.tax.type"),
        payment_object=_choice(raw.get("paymentObject"), PAYMENT_OBJECTS, f"{where}.paymentObject", 1),
        payment_method=_choice(raw.get("paymentMethod"), PAYMENT_METHODS, f"{where}.paymentMethod", 4),
        measure=_choice(raw.get("measurementUnit"), MEASUREMENT_UNITS, f"{where}.measurementUnit", 0),
        mark_code=mark,
    )


def _payments(raw: object, total_kop: int) -> dict[str, int]:
    if not isinstance(raw, list) or not raw:
        raise missing_param("payments")
    paid = dict.fromkeys(PAYMENT_KINDS.values(), 0)
    for index, payment in enumerate(raw):
        entry = _object(payment, f"payments[{index}]")
        kind = entry.get("type")
        field = PAYMENT_KINDS.get(kind) if isinstance(kind, str) else None
        if field is None and isinstance(kind, int) and not isinstance(kind, bool):
            field = PAYMENT_KINDS.get(PAYMENT_NUMBERS.get(kind, ""))
        if field is None:
            raise bad_param(f"payments[{index}].type: {kind!r}; допустимо: {', '.join(PAYMENT_KINDS)}")
        if entry.get("sum") is None:
            raise missing_param(f"payments[{index}].sum")
        paid[field] += to_kopecks(entry["sum"], f"payments[{index}].sum")
    change = sum(paid.values()) - total_kop
    if 0 < change <= paid["cash_kop"]:
        paid["cash_kop"] -= change  # cash over the total is given back as change, as the device does
    return paid


def _settlement(task: Mapping[str, Any], operation: int) -> dict[str, Any]:
    """The fields a receipt and a correction share, as :class:`ReceiptTask` keyword arguments."""
    raw_items = task.get("items")
    if not isinstance(raw_items, list):
        raise missing_param("items")
    items = tuple(
        _item(index, _object(raw, f"items[{index}]"))
        for index, raw in enumerate(raw_items)
        if not (isinstance(raw, Mapping) and raw.get("type") in NON_FISCAL_ITEMS)
    )
    total = sum(item.sum_kop for item in items)
    if task.get("total") is not None and to_kopecks(task["total"], "total") != total:
        raise bad_param(f"total: {task['total']} не равен сумме позиций {total / 100:.2f}")
    cashier_name, cashier_inn = operator(task)
    client = _object(task.get("clientInfo") or {}, "clientInfo")
    if task.get("electronically") is not None and not isinstance(task.get("electronically"), bool):
        raise bad_param("electronically: нужно true или false")
    taxation = task.get("taxationType")
    return {
        "operation": operation,
        "items": items,
        **_payments(task.get("payments"), total),
        "cashier_name": cashier_name,
        "cashier_inn": cashier_inn,
        "customer_contact": _text(client.get("emailOrPhone"), "clientInfo.emailOrPhone"),
        "taxation": None if taxation is None else _choice(taxation, TAXATION, "taxationType"),
    }


def operator(task: Mapping[str, Any]) -> tuple[str | None, str | None]:
    """The task's ``operator``: the cashier's name (1021) and INN (1203), each ``None`` when absent."""
    named = _object(task.get("operator") or {}, "operator")
    return _text(named.get("name"), "operator.name"), _text(named.get("vatin"), "operator.vatin")


def receipt_task(task: Mapping[str, Any]) -> ReceiptTask:
    """A ``sell`` / ``sellReturn`` / ``buy`` / ``buyReturn`` task as the device's receipt task."""
    return ReceiptTask(**_settlement(task, OPERATIONS[str(task["type"])]))


def _base_date(value: object) -> date:
    text = _text(value, "correctionBaseDate", required=True) or ""
    try:
        year, month, day = (int(part) for part in text.replace("-", ".").split("."))
        return date(year, month, day)
    except ValueError as exc:
        raise bad_param(f"correctionBaseDate: нужна дата ГГГГ.ММ.ДД, получено {text!r}") from exc


def correction_task(task: Mapping[str, Any]) -> CorrectionTask:
    """A ``sellCorrection`` (and the other ``...Correction``) task as the device's correction task (FFD 1.2)."""
    return CorrectionTask(
        **_settlement(task, CORRECTIONS[str(task["type"])]),
        correction_type=_choice(task.get("correctionType"), CORRECTION_TYPES, "correctionType"),
        basis_date=_base_date(task.get("correctionBaseDate")),
        basis_number=_text(task.get("correctionBaseNumber"), "correctionBaseNumber"),
    )
