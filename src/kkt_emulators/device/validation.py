"""Checks a receipt or correction task the way a fiscal drive does before it numbers anything (pure; no I/O).

Balances (fiscal notes, "Balances"): the sum of item sums (1043) is the total (1020), which equals cash + electronic +
prepaid + credit + counter-provision; non-cash payments may not exceed the total; an underpaid receipt is refused.
Cash tendered over the total is change (as ATOL's devices take it): the document's cash (1031) is the cash less the
change, so the payment tags still add up to the total.
FFD 1.2 attributes (fiscal notes, "FFD 1.2 item and receipt attributes"): known codes for 1212, 1214 and 2108, a
well-formed marking code (2000), cashier (1021, 1203), customer contact (1008), one registered taxation system
(1055). A correction (type 31) also needs its type (1173) and basis (1174: 1178 date, 1179 order number).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import date, datetime
from decimal import Decimal

from kkt_emulators import fiscal
from kkt_emulators.device.errors import InvalidTask
from kkt_emulators.device.models import CorrectionTask, ReceiptTask, TaskItem

MAX_NAME_LENGTH = 128
MAX_ITEMS = 1000
MAX_QUANTITY = Decimal("99999.999")
OPERATIONS = frozenset({1, 2, 3, 4})
# 1214 (payment method) 1..7; 1212 (payment object) 1..33 in FFD 1.2; 2108 (measure) codes of FFD 1.2.
PAYMENT_METHODS = range(1, 8)
PAYMENT_OBJECTS = range(1, 34)
MEASURES = frozenset({0, 10, 11, 12, 20, 21, 22, 30, 31, 32, 40, 41, 42, 50, 51, 70, 71, 72, 73, 80, 81, 82, 83, 255})
# 1055 bits: 1 OSN, 2 USN income, 4 USN income-expense, 16 ESHN, 32 patent (8, UTII, was abolished in 2021).
TAXATION_SYSTEMS = (1, 2, 4, 16, 32)
MIN_ARCHIVE_CAPACITY = 2  # the registration report and one more document
CORRECTION_TYPES = (0, 1)  # 1173: 0 own initiative, 1 by order of the tax service
MAX_MARK_CODE_LENGTH = 256
MAX_CASHIER_LENGTH = 64
MAX_CONTACT_LENGTH = 64
MAX_ORDER_NUMBER_LENGTH = 32  # 1179
MAX_FISCAL_SIGN = 4_294_967_295  # 1192 holds a fiscal sign: a decimal uint32
# A marking code is the DataMatrix content: printable ASCII, with GS (\x1d) separating its GS1 groups.
MARK_CODE = re.compile(r"[\x1d\x20-\x7e]+")
EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
PHONE = re.compile(r"\+7\d{10}", re.ASCII)


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
    if item.mark_code is not None and not is_mark_code(item.mark_code):
        raise InvalidTask(
            f"{where}: код маркировки (2000) — от 1 до {MAX_MARK_CODE_LENGTH} печатных символов ASCII (и GS)"
        )


def is_mark_code(value: object) -> bool:
    """A well-formed marking code (2000): 1..256 printable ASCII characters, GS1 group separators allowed."""
    return isinstance(value, str) and len(value) <= MAX_MARK_CODE_LENGTH and MARK_CODE.fullmatch(value) is not None


def is_customer_contact(value: object) -> bool:
    """A customer contact (1008): an e-mail or a Russian phone ``+7`` and 10 digits, at most 64 characters."""
    if not isinstance(value, str) or len(value) > MAX_CONTACT_LENGTH:
        return False
    return EMAIL.fullmatch(value) is not None or PHONE.fullmatch(value) is not None


def check_cashier(name: object, inn: object) -> None:
    """The cashier (1021, at most 64 characters) and the cashier's INN (1203, check digits), each when given."""
    if name is not None and (not isinstance(name, str) or not name.strip() or len(name) > MAX_CASHIER_LENGTH):
        raise InvalidTask(f"кассир (1021): от 1 до {MAX_CASHIER_LENGTH} символов")
    if inn is not None and (not isinstance(inn, str) or not fiscal.is_valid_inn(inn)):
        raise InvalidTask(f"ИНН кассира (1203) {inn!r} неверен")


def _check_attributes(task: ReceiptTask, registered_taxation: int) -> None:
    """The receipt's FFD 1.2 attributes: cashier (1021, 1203), customer contact (1008), taxation system (1055)."""
    check_cashier(task.cashier_name, task.cashier_inn)
    if task.customer_contact is not None and not is_customer_contact(task.customer_contact):
        raise InvalidTask(f"контакт покупателя (1008) {task.customer_contact!r}: нужен e-mail или телефон +7XXXXXXXXXX")
    taxation = task.taxation
    if taxation is None:
        if registered_taxation not in TAXATION_SYSTEMS:
            raise InvalidTask(
                f"ККТ зарегистрирована с несколькими системами налогообложения ({registered_taxation}): "
                "укажите одну (1055)"
            )
    elif not _is_int(taxation) or taxation not in TAXATION_SYSTEMS:
        raise InvalidTask(f"система налогообложения (1055) {taxation!r}: нужна одна из {TAXATION_SYSTEMS}")
    elif not taxation & registered_taxation:
        raise InvalidTask(
            f"система налогообложения (1055) {taxation} не указана при регистрации ККТ ({registered_taxation})"
        )


def check_registration_options(*, taxation: int, fn_life_months: int, fn_archive_capacity: int) -> None:
    """Raise ``ValueError`` for a registration the device cannot make (a programming error, not a refused print)."""
    if not _is_int(taxation) or taxation <= 0 or taxation & ~sum(TAXATION_SYSTEMS):
        raise ValueError(f"taxation must be a non-empty bitmask of {TAXATION_SYSTEMS}, got {taxation!r}")
    if not _is_int(fn_life_months) or fn_life_months < 1:
        raise ValueError(f"fn_life_months must be at least 1, got {fn_life_months!r}")
    if not _is_int(fn_archive_capacity) or fn_archive_capacity < MIN_ARCHIVE_CAPACITY:
        raise ValueError(f"fn_archive_capacity must be at least {MIN_ARCHIVE_CAPACITY}, got {fn_archive_capacity!r}")


def validate_task(task: ReceiptTask, *, registered_taxation: int = 1) -> None:
    """Raise :class:`InvalidTask` with the reason if the device would refuse ``task``; return None if it prints.

    ``registered_taxation`` is the registration's 1055 bitmask, which the task's taxation system must be part of.
    """
    if not isinstance(task, ReceiptTask):
        raise InvalidTask("ожидается ReceiptTask")
    if isinstance(task, CorrectionTask):
        raise InvalidTask("чек коррекции печатается командой print_correction, не print_receipt")
    _check_settlement(task, registered_taxation)


def validate_correction(task: CorrectionTask, *, registered_taxation: int = 1, today: date) -> None:
    """Raise :class:`InvalidTask` if the device would refuse the correction ``task`` on the local date ``today``.

    Every check of a receipt, plus: a correction type (1173) of 0 or 1; a basis date (1178) that is a ``date``, not
    after ``today``; an order number (1179), 1..32 characters, required by order (1173 = 1); the corrected fiscal
    sign (1192), when given, a decimal uint32.
    """
    if not isinstance(task, CorrectionTask):
        raise InvalidTask("ожидается CorrectionTask")
    if not _is_int(task.correction_type) or task.correction_type not in CORRECTION_TYPES:
        raise InvalidTask(
            f"неизвестный тип коррекции (1173) {task.correction_type!r}: 0 самостоятельно, 1 по предписанию"
        )
    basis = task.basis_date
    if not isinstance(basis, date) or isinstance(basis, datetime):
        raise InvalidTask("дата исправляемого расчёта (1178) должна быть датой (date)")
    if basis > today:
        raise InvalidTask(f"дата исправляемого расчёта (1178) {basis:%d.%m.%Y} позже сегодняшней {today:%d.%m.%Y}")
    number = task.basis_number
    if number is not None and (
        not isinstance(number, str) or not number.strip() or len(number) > MAX_ORDER_NUMBER_LENGTH
    ):
        raise InvalidTask(f"номер предписания (1179): от 1 до {MAX_ORDER_NUMBER_LENGTH} символов")
    if number is None and task.correction_type == 1:
        raise InvalidTask("коррекция по предписанию (1173 = 1) требует номер предписания (1179)")
    sign = task.corrected_fiscal_sign
    if sign is not None and (
        not isinstance(sign, str) or not sign.isascii() or not sign.isdigit() or int(sign) > MAX_FISCAL_SIGN
    ):
        raise InvalidTask(
            f"фискальный признак исправляемого чека (1192) {sign!r}: десятичное число до {MAX_FISCAL_SIGN}"
        )
    _check_settlement(task, registered_taxation)


def _check_settlement(task: ReceiptTask, registered_taxation: int) -> None:
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
    if paid - total > task.cash_kop:
        raise InvalidTask(f"оплачено {paid} коп. больше итога {total} коп.: сдача только с наличных")
    _check_attributes(task, registered_taxation)
