"""What the Shtrih-M driver sends for each document (a :class:`Plan`) and how the KKT's answers become the adapter's
values (fiscal result, device state, shift report, FN status). Pure apart from the reads named by ``device``."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime
from typing import TYPE_CHECKING

from kkt_adapter.devices.shtrih import commands
from kkt_adapter.domain.correction import Correction
from kkt_adapter.domain.device import DeviceState, FNStatus, ShiftReport
from kkt_adapter.domain.fiscal import FiscalResult
from kkt_adapter.domain.money import rubles
from kkt_adapter.domain.receipt import OPERATION_CODES, Cashier, Receipt

if TYPE_CHECKING:
    from kkt_adapter.devices.shtrih.device import ShtrihDevice
    from kkt_adapter.devices.shtrih.keys import KeyRecord
    from kkt_adapter.devices.shtrih.registers import Totals

#: The KKT's table-6 row for each FFD VAT code (1199); docs/hardware.md (rows 7..10 NOT CONFIRMED).
TAX_ROW = {1: 1, 2: 2, 5: 3, 6: 4, 3: 5, 4: 6, 7: 7, 8: 8, 9: 9, 10: 10, 11: 11, 12: 12}
#: 8Dh's receipt type for each operation (1054): 0 sale, 2 sale return, 1 buy, 3 buy return.
RECEIPT_TYPE = {1: 0, 2: 2, 3: 1, 4: 3}
Step = tuple[bytes, int]


@dataclass(frozen=True)
class Plan:
    """A document's commands and what the FN should hold once it is made (type, operation, total). ``opens``: the
    first command opens a receipt (8Dh), after which the KKT makes no other document until it is closed."""

    doc_type: int
    operation: int | None
    total_kop: int
    steps: tuple[Step, ...] = ()
    read: Callable[[bytes], commands.Signed | None] = lambda data: None
    opens: bool = False

    def matches(self, document: commands.Document) -> bool:
        """Whether ``document`` is this plan's: same type, and a receipt's operation and total."""
        if document.doc_type != self.doc_type:
            return False
        return self.doc_type not in (3, 31) or (document.operation, document.total_kop) == (
            self.operation,
            self.total_kop,
        )

    @classmethod
    def expecting(cls, record: KeyRecord) -> Plan:
        """The plan a key record promised (no commands: only for matching)."""
        return cls(record.doc_type, record.operation, record.total_kop)


def _payments(receipt: Receipt) -> list[int]:
    return (
        [receipt.paid("cash"), receipt.paid("electronic")]
        + [0] * 11
        + [
            receipt.paid("prepaid"),
            receipt.paid("credit"),
            receipt.paid("provision"),
        ]
    )


def receipt_plan(receipt: Receipt, device: ShtrihDevice) -> Plan:
    """8Dh, FF46h per item, FF0Ch with the cashier (1021), FF45h."""
    operation = OPERATION_CODES[receipt.operation]
    cashier, admin = device.password, device.admin_password
    steps: list[Step] = [(commands.request(0x8D, cashier, bytes([RECEIPT_TYPE[operation]])), 0x8D)]
    for item in receipt.items:
        message = commands.operation(
            admin,
            kind=operation,
            quantity=item.quantity,
            price_kop=item.price_kop,
            sum_kop=item.sum_kop,
            tax_row=TAX_ROW[item.vat_code],
            method=item.payment_method,
            subject=item.payment_object,
            name=item.name,
        )
        steps.append((message, 0xFF46))
    steps += cashier_steps(admin, receipt.cashier)
    if receipt.customer_contact:
        steps.append((commands.tlv(admin, 1008, receipt.customer_contact), 0xFF0C))
    close = commands.close_receipt(admin, payments=_payments(receipt), taxation=receipt.taxation or 0)
    steps.append((close, 0xFF45))
    return Plan(3, operation, receipt.total_kop, tuple(steps), lambda data: commands.signed(data, skip=5), opens=True)


def correction_plan(correction: Correction, device: ShtrihDevice) -> Plan:
    """FF4Ah: one command, the correction's totals and basis."""
    receipt = correction.receipt
    operation = OPERATION_CODES[receipt.operation]
    payments = _payments(receipt)
    message = commands.correction(
        device.admin_password,
        correction_type=correction.correction_type_code,
        operation_code=operation,
        payments=[payments[0], payments[1], *payments[13:16]],
        taxation=receipt.taxation or 0,
        tax_row=TAX_ROW[receipt.items[0].vat_code],
        basis=correction.basis_date,
        number=correction.basis_number,
    )
    step = (message, 0xFF4A)
    return Plan(31, operation, receipt.total_kop, (step,), lambda data: commands.signed(data, skip=2))


def cashier_steps(password: int, cashier: Cashier | None) -> list[Step]:
    """FF0Ch with the cashier (1021) and the cashier's INN (1203, when known); nothing without a cashier."""
    if cashier is None:
        return []
    steps = [(commands.tlv(password, 1021, cashier.name), 0xFF0C)]
    if cashier.inn:
        steps.append((commands.tlv(password, 1203, cashier.inn), 0xFF0C))
    return steps


def shift_plan(device: ShtrihDevice, *, opening: bool, cashier: Cashier | None = None) -> Plan:
    """E0h (opening, cashier's password) or 41h (Z report, the administrator's), the named cashier sent before it
    with FF0Ch (the KKT puts it on that report): no fiscal answer, read by number."""
    steps = cashier_steps(device.admin_password, cashier)
    if opening:
        return Plan(2, None, 0, (*steps, (commands.request(0xE0, device.password), 0xE0)))
    return Plan(5, None, 0, (*steps, (commands.request(0x41, device.admin_password), 0x41)))


def _qr(when: datetime, total: int, fn: str, fd: int, sign: int, operation: int) -> str:
    return f"t={when:%Y%m%dT%H%M}&s={rubles(total):.2f}&fn={fn}&i={fd}&fp={sign}&n={operation}"


def _result(
    *,
    doc_type: int,
    operation: int | None,
    total: int,
    fd: int,
    sign: int,
    when: datetime,
    device: ShtrihDevice,
    fn: commands.FnState | None = None,
    shift: commands.ShiftState | None = None,
) -> FiscalResult:
    fn = fn or device.fn()
    shift = shift or device.shift()
    reg = device.registration_number()
    receipt_no = shift.receipts if doc_type in (3, 31) else 0
    qr = _qr(when, total, fn.fn_number, fd, sign, operation or 0) if doc_type in (3, 31) else ""
    tags: dict[str, object] = {"1000": doc_type, "1040": fd, "1077": sign, "1012": when.isoformat()}
    tags |= {"1041": fn.fn_number, "1037": reg, "1038": shift.number}
    if doc_type in (3, 31):
        tags |= {"1054": operation, "1020": total, "1042": receipt_no}
    return FiscalResult(
        fiscal_doc_number=fd,
        fiscal_sign=str(sign),
        fiscal_datetime=when.isoformat(),
        fn_number=fn.fn_number,
        kkt_number=reg,
        qr_code_data=qr,
        shift_number=shift.number,
        receipt_number=receipt_no,
        total_kop=total,
        document=tags,
        doc_type=doc_type,
    )


def from_signed(
    signed: commands.Signed,
    plan: Plan,
    device: ShtrihDevice,
    *,
    fn: commands.FnState | None = None,
    shift: commands.ShiftState | None = None,
) -> FiscalResult:
    """The result of a document the close command answered; ``fn`` and ``shift`` when already known for it (else
    read now)."""
    return _result(
        doc_type=plan.doc_type,
        operation=plan.operation,
        total=plan.total_kop,
        fd=signed.fd_number,
        sign=signed.fiscal_sign,
        when=signed.when,
        device=device,
        fn=fn,
        shift=shift,
    )


def from_document(document: commands.Document, plan: Plan, device: ShtrihDevice) -> FiscalResult:
    """The result of a plan's document read back from the FN by number."""
    return (
        from_found(document, device)
        if document.doc_type in (3, 31)
        else _result(
            doc_type=plan.doc_type,
            operation=None,
            total=0,
            fd=document.fd_number,
            sign=document.fiscal_sign,
            when=document.when,
            device=device,
        )
    )


def from_found(document: commands.Document, device: ShtrihDevice) -> FiscalResult:
    """The result of any document read from the FN (the journal)."""
    return _result(
        doc_type=document.doc_type,
        operation=document.operation,
        total=document.total_kop,
        fd=document.fd_number,
        sign=document.fiscal_sign,
        when=document.when,
        device=device,
    )


def shift_report(shift: commands.ShiftState, status: commands.ShortStatus, totals: Totals | None = None) -> ShiftReport:
    """The shift's counters (FF40h, 10h) and, for an open shift, its totals from the registers (:mod:`.registers`)."""
    by_operation, counts, by_payment = totals or ({}, {}, {})
    return ShiftReport(
        shift_number=shift.number,
        open=shift.open,
        opened_at=None,
        expires_at=None,
        expired=status.mode == 3,
        receipts=shift.receipts,
        documents=0,
        totals_by_operation=by_operation,
        counts_by_operation=counts,
        totals_by_payment=by_payment,
    )


def closed(report: ShiftReport) -> ShiftReport:
    return replace(report, open=False, expired=False)


def empty_report(number: int) -> ShiftReport:
    return ShiftReport(number, False, None, None, False, 0, 0)


def fn_status(fn: commands.FnState, exchange: commands.Exchange, validity: object) -> FNStatus:
    first_at = exchange.first_at.isoformat() if exchange.first_at is not None else None
    return FNStatus(
        fn_number=fn.fn_number,
        validity_date=str(validity),
        ffd_version="1.2",
        documents_count=fn.last_fd,
        unsent_count=exchange.unsent,
        first_unsent_fd_number=exchange.first_fd or None,
        first_unsent_at=first_at,
    )


def device_state(
    status: commands.ShortStatus,
    fn: commands.FnState,
    shift: commands.ShiftState,
    reg: str,
    *,
    now: datetime,
) -> DeviceState:
    del now  # the KKT does not report when its shift expires; mode 3 says it has
    return DeviceState(
        online=True,
        paper=status.paper,
        shift_open=shift.open,
        shift_number=shift.number,
        shift_expired=status.mode == 3,
        last_fd_number=fn.last_fd,
        fn_number=fn.fn_number,
        kkt_number=reg,
    )


def offline_state() -> DeviceState:
    return DeviceState(False, False, False, 0, False, 0, "", "")
