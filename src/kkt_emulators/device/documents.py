"""Building and signing the fiscal drive's documents (pure; no I/O): a new registration, and the FFD tag JSON of
the registration report, shift opening and closing reports, receipts and correction receipts.

Tag JSON (fiscal notes, "Receipt tags"): keys are tag numbers as strings; money in kopecks; quantity as a decimal
string; ``"1012"`` as local ``YYYY-MM-DDTHH:MM:SS``; ``"1000"`` holds the document type. The fiscal sign (1077) is
:func:`kkt_emulators.fiscal.fiscal_sign` over every other tag, with the FN's secret.
"""

from __future__ import annotations

import random
import secrets
from datetime import datetime
from decimal import Decimal
from typing import Any

from kkt_emulators import fiscal
from kkt_emulators.device.models import (
    DOC_CORRECTION,
    DOC_RECEIPT,
    DOC_REGISTRATION,
    DOC_SHIFT_CLOSING,
    DOC_SHIFT_OPENING,
    CorrectionTask,
    FiscalDocument,
    ReceiptTask,
    Registration,
    TaskItem,
)

FFD_VERSION_CODES = {"1.05": 2, "1.1": 3, "1.2": 4}
# "9999" marks a test fiscal drive; a real FN's prefix encodes its model.
FN_PREFIX = "9999078900"
KKT_SERIAL_PREFIX = "00106"


def _random_digits(rng: random.Random, count: int) -> str:
    return "".join(str(rng.randrange(10)) for _ in range(count))


def _random_inn(rng: random.Random) -> str:
    """A 10-digit organisation INN whose check digit is right (the last digit is the one the check accepts)."""
    while True:
        head = str(rng.randrange(1, 10)) + _random_digits(rng, 8)
        for last in "0123456789":
            if fiscal.is_valid_inn(head + last):
                return head + last


def new_registration(rng: random.Random | None = None, *, taxation: int = 1) -> Registration:
    """A fresh registration: valid INN, KKT serial, registration number with its CRC check, 16-digit FN, secret.

    ``taxation`` is the 1055 bitmask of the systems registered. With ``rng`` everything (the secret included) is
    reproducible, for tests; without it the secret comes from the operating system's randomness.
    """
    source = rng if rng is not None else random.Random()
    inn = _random_inn(source)
    serial = KKT_SERIAL_PREFIX + _random_digits(source, 9)
    ordinal = str(source.randrange(1, 10**10)).zfill(10)
    reg_number = fiscal.registration_number(ordinal, inn, serial)
    fn_number = FN_PREFIX + _random_digits(source, 16 - len(FN_PREFIX))
    secret = source.randbytes(32) if rng is not None else secrets.token_bytes(32)
    return Registration(
        inn=inn,
        org_name='ООО "Эмулятор ККТ"',
        kkt_serial=serial,
        reg_number=reg_number,
        fn_number=fn_number,
        taxation=taxation,
        fn_secret=secret,
    )


def _header(reg: Registration, *, doc_type: int, fd_number: int, when: datetime, shift: int) -> dict[str, Any]:
    return {
        "1000": doc_type,
        "1012": when.strftime("%Y-%m-%dT%H:%M:%S"),
        "1018": reg.inn,
        "1037": reg.reg_number,
        "1038": shift,
        "1040": fd_number,
        "1041": reg.fn_number,
        "1048": reg.org_name,
        "1209": FFD_VERSION_CODES.get(reg.ffd_version, 4),
    }


def _quantity_text(quantity: Decimal) -> str:
    return format(quantity.normalize(), "f")


def _sign(
    reg: Registration,
    tags: dict[str, Any],
    *,
    when: datetime,
    receipt_number: int | None = None,
    operation: int | None = None,
    total_kop: int = 0,
    idempotency_key: str | None = None,
) -> FiscalDocument:
    sign = fiscal.fiscal_sign(tags, reg.fn_secret)
    tags[fiscal.TAG_FISCAL_SIGN] = sign
    qr = None
    if operation is not None:
        qr = fiscal.qr_string(
            when=when,
            total_kop=total_kop,
            fn_number=reg.fn_number,
            fd_number=tags["1040"],
            fiscal_sign=sign,
            operation=operation,
        )
    return FiscalDocument(
        fd_number=tags["1040"],
        doc_type=tags["1000"],
        fiscal_sign=sign,
        fiscal_datetime=when,
        fn_number=reg.fn_number,
        kkt_reg_number=reg.reg_number,
        shift_number=tags["1038"],
        receipt_number=receipt_number,
        operation=operation,
        total_kop=total_kop,
        qr=qr,
        idempotency_key=idempotency_key,
        tags=tags,
    )


#: A shift report's cashier: name (1021) and INN (1203), each ``None`` when not named.
Cashier = tuple[str | None, str | None]


def _cashier_tags(cashier: Cashier) -> dict[str, str]:
    name, inn = cashier
    return {tag: value for tag, value in (("1021", name), ("1203", inn)) if value is not None}


def registration_report(reg: Registration, *, fd_number: int, when: datetime) -> FiscalDocument:
    """The registration report (document type 1): who owns the KKT, which FN, which taxation."""
    tags = _header(reg, doc_type=DOC_REGISTRATION, fd_number=fd_number, when=when, shift=0)
    tags.update({"1009": reg.address, "1013": reg.kkt_serial, "1055": reg.taxation})
    return _sign(reg, tags, when=when)


def shift_opening(
    reg: Registration,
    *,
    fd_number: int,
    when: datetime,
    shift: int,
    idempotency_key: str | None = None,
    cashier: Cashier = (None, None),
) -> FiscalDocument:
    """The shift opening report (document type 2), with its cashier (1021, 1203) when one is named."""
    tags = _header(reg, doc_type=DOC_SHIFT_OPENING, fd_number=fd_number, when=when, shift=shift)
    tags["1009"] = reg.address
    tags.update(_cashier_tags(cashier))
    return _sign(reg, tags, when=when, idempotency_key=idempotency_key)


def shift_closing(
    reg: Registration,
    *,
    fd_number: int,
    when: datetime,
    shift: int,
    receipts: int,
    documents: int,
    unsent: int,
    first_unsent: str | None,
    fn_flags: dict[str, bool],
    idempotency_key: str | None = None,
    cashier: Cashier = (None, None),
) -> FiscalDocument:
    """The shift closing report, Z report (document type 5), with its cashier (1021, 1203) when one is named.

    Receipts and corrections (1118) and documents (1111) in the shift, the documents not yet acknowledged by the OFD
    (1097) and the first one's date-time (1098, left out when there is none), the FN's flags (1050–1053).
    """
    tags = _header(reg, doc_type=DOC_SHIFT_CLOSING, fd_number=fd_number, when=when, shift=shift)
    tags.update({"1009": reg.address, "1111": documents, "1118": receipts, "1097": unsent})
    tags.update(_cashier_tags(cashier))
    if first_unsent is not None:
        tags["1098"] = first_unsent
    tags.update(fn_flags)
    return _sign(reg, tags, when=when, idempotency_key=idempotency_key)


def _settlement_tags(reg: Registration, task: ReceiptTask, *, receipt_number: int) -> dict[str, Any]:
    """What a receipt and a correction share: sums, payments, operation, taxation, items, FFD 1.2 attributes."""
    tags: dict[str, Any] = {
        "1009": reg.address,
        "1020": task.total_kop,
        # The payment tags add up to the total (1020): the change is not a fiscal tag, as on ATOL's devices.
        "1031": task.cash_kop - task.change_kop,
        "1042": receipt_number,
        "1054": task.operation,
        "1055": task.taxation if task.taxation is not None else reg.taxation,
        "1059": [_item_tags(item) for item in task.items],
        "1081": task.electronic_kop,
        "1215": task.prepaid_kop,
        "1216": task.credit_kop,
        "1217": task.provision_kop,
    }
    optional = {"1021": task.cashier_name, "1203": task.cashier_inn, "1008": task.customer_contact}
    tags.update({tag: value for tag, value in optional.items() if value is not None})
    return tags


def _item_tags(item: TaskItem) -> dict[str, Any]:
    tags: dict[str, Any] = {
        "1023": _quantity_text(item.quantity),
        "1030": item.name,
        "1043": item.sum_kop,
        "1079": item.price_kop,
        "1199": item.vat_code,
        "1200": fiscal.vat_included(item.sum_kop, item.vat_code),
        "1212": item.payment_object,
        "1214": item.payment_method,
        "2108": item.measure,
    }
    if item.mark_code is not None:
        tags["2000"] = item.mark_code
    return tags


def receipt(
    reg: Registration,
    task: ReceiptTask,
    *,
    fd_number: int,
    when: datetime,
    shift: int,
    receipt_number: int,
    idempotency_key: str,
) -> FiscalDocument:
    """A receipt (document type 3) for a validated task, with its items, payments, VAT sums and QR string."""
    tags = _header(reg, doc_type=DOC_RECEIPT, fd_number=fd_number, when=when, shift=shift)
    tags.update(_settlement_tags(reg, task, receipt_number=receipt_number))
    return _settle(reg, tags, task, when=when, receipt_number=receipt_number, idempotency_key=idempotency_key)


def correction(
    reg: Registration,
    task: CorrectionTask,
    *,
    fd_number: int,
    when: datetime,
    shift: int,
    receipt_number: int,
    idempotency_key: str,
) -> FiscalDocument:
    """A correction receipt (document type 31): a receipt's tags plus its type (1173), basis (1174) and 1192."""
    tags = _header(reg, doc_type=DOC_CORRECTION, fd_number=fd_number, when=when, shift=shift)
    tags.update(_settlement_tags(reg, task, receipt_number=receipt_number))
    basis: dict[str, Any] = {"1178": task.basis_date.isoformat()}
    if task.basis_number is not None:
        basis["1179"] = task.basis_number
    tags.update({"1173": task.correction_type, "1174": basis})
    if task.corrected_fiscal_sign is not None:
        tags["1192"] = task.corrected_fiscal_sign
    return _settle(reg, tags, task, when=when, receipt_number=receipt_number, idempotency_key=idempotency_key)


def _settle(
    reg: Registration,
    tags: dict[str, Any],
    task: ReceiptTask,
    *,
    when: datetime,
    receipt_number: int,
    idempotency_key: str,
) -> FiscalDocument:
    return _sign(
        reg,
        tags,
        when=when,
        receipt_number=receipt_number,
        operation=task.operation,
        total_kop=task.total_kop,
        idempotency_key=idempotency_key,
    )
