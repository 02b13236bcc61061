"""Checks a receipt task the way a fiscal drive does before it numbers anything (pure; no I/O).

Balances (fiscal notes, "Balances"): the sum of item sums (1043) is the total (1020), which equals cash + electronic +
prepaid + credit + counter-provision; non-cash payments may not exceed the total; an underpaid receipt is refused.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

from kkt_emulators import fiscal
from kkt_emulators.device.errors import InvalidTask
from kkt_emulators.device.models import ReceiptTask, TaskItem

MAX_NAME_LENGTH = 128
MAX_ITEMS = 1000
MAX_QUANTITY = Decimal("99999.999")
OPERATIONS = frozenset({1, 2, 3, 4})
# 1214 (payment method) 1..7; 1212 (payment object) 1..33 in FFD 1.2; 2108 (measure) codes of FFD 1.2.
PAYMENT_METHODS = range(1, 8)
PAYMENT_OBJECTS = range(1, 34)
MEASURES = frozenset({0, 10, 11, 12, 20, 21, 22, 30, 31, 32, 40, 41, 42, 50, 51, 70, 71, 72, 73, 80, 81, 82, 83, 255})


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _check_money(value: object, what: str) -> int:
    if not _is_int(value):
        raise InvalidTask(f"{what}: сумма должна быть целым числом копеек, получено {value!r}")
    assert isinstance(value, int)
    if value < 0:
        raise InvalidTask(f"{what}: отрицательная сумма {value}")
    return value


def _check_item(index: int, item: TaskItem) -> None:
    where = f"позиция {index + 1}"
    if not isinstance(item, TaskItem):
        raise InvalidTask(f"{where}: ожидается TaskItem")
    if not isinstance(item.name, str) or not item.name.strip():
        raise InvalidTask(f"{where}: пустое наименование (1030)")
    if len(item.name) > MAX_NAME_LENGTH:
        raise InvalidTask(f"{where}: наименование длиннее {MAX_NAME_LENGTH} символов (1030)")
    _check_money(item.price_kop, f"{where}, цена (1079)")
    _check_money(item.sum_kop, f"{where}, сумма (1043)")
    quantity = item.quantity
    if not isinstance(quantity, Decimal) or not quantity.is_finite():
        raise InvalidTask(f"{where}: количество (1023) должно быть конечным Decimal")
    if quantity <= 0 or quantity > MAX_QUANTITY:
        raise InvalidTask(f"{where}: количество (1023) вне пределов 0 < q ≤ {MAX_QUANTITY}")
    exponent = quantity.normalize().as_tuple().exponent
    if isinstance(exponent, int) and exponent < -3:
        raise InvalidTask(f"{where}: количество (1023) с более чем 3 знаками после запятой")
    if not _is_int(item.vat_code) or item.vat_code not in fiscal.VAT_PERCENT_BY_CODE:
        raise InvalidTask(f"{where}: неизвестная ставка НДС (1199) {item.vat_code!r}")
    if not _is_int(item.payment_object) or item.payment_object not in PAYMENT_OBJECTS:
        raise InvalidTask(f"{where}: неизвестный предмет расчёта (1212) {item.payment_object!r}")
    if not _is_int(item.payment_method) or item.payment_method not in PAYMENT_METHODS:
        raise InvalidTask(f"{where}: неизвестный способ расчёта (1214) {item.payment_method!r}")
    if not _is_int(item.measure) or item.measure not in MEASURES:
        raise InvalidTask(f"{where}: неизвестная мера количества (2108) {item.measure!r}")


def validate_task(task: ReceiptTask) -> None:
    """Raise :class:`InvalidTask` with the reason if the device would refuse ``task``; return None if it prints."""
    if not isinstance(task, ReceiptTask):
        raise InvalidTask("ожидается ReceiptTask")
    if not _is_int(task.operation) or task.operation not in OPERATIONS:
        raise InvalidTask(f"неизвестный признак расчёта (1054) {task.operation!r}")
    items: Sequence[TaskItem] = task.items
    if not isinstance(items, tuple | list) or not items:
        raise InvalidTask("чек без позиций (1059)")
    if len(items) > MAX_ITEMS:
        raise InvalidTask(f"в чеке больше {MAX_ITEMS} позиций")
    for index, item in enumerate(items):
        _check_item(index, item)
    payments = {
        "наличными (1031)": task.cash_kop,
        "безналичными (1081)": task.electronic_kop,
        "предоплатой (1215)": task.prepaid_kop,
        "постоплатой (1216)": task.credit_kop,
        "встречным предоставлением (1217)": task.provision_kop,
    }
    for what, amount in payments.items():
        _check_money(amount, f"оплата {what}")
    total = task.total_kop
    if total <= 0:
        raise InvalidTask("итог чека (1020) должен быть больше нуля")
    if task.non_cash_kop > total:
        raise InvalidTask(f"безналичные оплаты {task.non_cash_kop} коп. превышают итог {total} коп.")
    paid = sum(payments.values())
    if paid < total:
        raise InvalidTask(f"оплачено {paid} коп. меньше итога {total} коп.")
    if paid > total:
        raise InvalidTask(f"оплачено {paid} коп. больше итога {total} коп.")
