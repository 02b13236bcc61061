"""The Shtrih-M KKT's command layer over the emulated KKT and FN: one message in, one answer message out.

A receipt is built in steps (8Dh open, FF46h per item, FF45h close) and reaches the emulated FN whole at the close,
under a key of the emulator's own (the FN itself stores none). Modes and submodes follow the protocol's appendix:
mode 2/3 shift open (3 past 24 h), 4 shift closed, 8 a receipt open; submode 0 paper, 1 no paper (idle), 2 no paper
while printing, 3 paper back after that, waiting for B0h "continue printing". Answers are ``CMD ERR [data]``; on an
error only ``CMD ERR``. The read-only answers are :mod:`.answers`'.
"""

from __future__ import annotations

import threading
import uuid
from dataclasses import dataclass, field, replace
from datetime import date
from decimal import Decimal

from kkt_emulators.device.errors import DeviceError
from kkt_emulators.device.kkt import EmulatedKKT
from kkt_emulators.device.models import CorrectionTask, FiscalDocument, ReceiptTask, TaskItem
from kkt_emulators.shtrih import answers, errors, registers
from kkt_emulators.shtrih.errors import ShtrihError, device_error_code
from kkt_emulators.shtrih.faults import ShtrihFaults
from kkt_emulators.shtrih.fields import NOT_GIVEN, Reader, Truncated, uint
from kkt_emulators.shtrih.vat import vat_code

#: The operation of each receipt type of 8Dh (0 sale, 1 buy, 2 sale return, 3 buy return) as tag 1054.
OPERATION_OF_TYPE = {0: 1, 1: 3, 2: 2, 3: 4}
ADMIN, SYSADMIN = 29, 30


@dataclass
class OpenReceipt:
    """A receipt between 8Dh and FF45h: its operation (1054) and items so far."""

    operation: int
    items: list[TaskItem] = field(default_factory=list)
    cashier: str | None = None
    cashier_inn: str | None = None
    contact: str | None = None


class ShtrihMachine:
    """Executes Shtrih-M commands on ``kkt``; thread-safe (one command at a time, as the KKT)."""

    def __init__(self, kkt: EmulatedKKT, faults: ShtrihFaults, *, vat_mode: int = 1) -> None:
        self.kkt = kkt
        self.faults = faults
        #: Table 17 field 71: 1 (default) the KKT turns 20 % into 22 % from 2026, 2 prints the rate sent.
        self.vat_mode = vat_mode
        self.receipt: OpenReceipt | None = None
        #: FF0Ch outside a receipt: the cashier (1021, 1203) for the next shift report (E0h or 41h).
        self.shift_cashier = OpenReceipt(0)
        self.submode = 0
        self.lock = threading.RLock()
        self.executed = 0
        self._handlers = {
            0x10: self._short_status,
            0x11: self._status,
            0x1A: self._cash_register,
            0x1B: self._operating_register,
            0x40: self._x_report,
            0x41: self._z_report,
            0x88: self._cancel,
            0x8D: self._open_receipt,
            0xB0: self._continue_print,
            0xE0: self._open_shift,
            0xFC: self._device_type,
            0xFF01: self._fn_status,
            0xFF03: self._fn_validity,
            0xFF0A: self._find_document,
            0xFF0C: self._tlv,
            0xFF39: self._exchange_status,
            0xFF40: self._shift_state,
            0xFF45: self._close_receipt,
            0xFF46: self._operation,
            0xFF4A: self._correction,
        }

    # -- the entry point -----------------------------------------------------------------------------------------

    def execute(self, message: bytes) -> bytes:
        """The answer to one request message."""
        command = 0xFF00 | message[1] if message[:1] == b"\xff" and len(message) > 1 else message[0]
        head = command.to_bytes(2, "big") if command > 0xFF else bytes([command])
        body = message[len(head) :]
        with self.lock:
            self.executed += 1
            handler = self._handlers.get(command)
            try:
                if handler is None:
                    raise ShtrihError(errors.UNKNOWN_COMMAND)
                if command != 0xFC and self.faults.take("busy"):
                    raise ShtrihError(errors.BUSY)
                return head + b"\x00" + handler(Reader(body))
            except ShtrihError as exc:
                return head + bytes([exc.code])
            except Truncated:
                return head + bytes([errors.BAD_LENGTH])
            except DeviceError as exc:
                return head + bytes([device_error_code(exc)])

    # -- passwords, modes ----------------------------------------------------------------------------------------

    def operator(self, reader: Reader, *, admin: bool = False) -> int:
        """The operator the password names (1..28 cashiers, 29 admin, 30 sysadmin); 4Fh for any other."""
        password = reader.uint(4)
        if not 1 <= password <= SYSADMIN or (admin and password < ADMIN):
            raise ShtrihError(errors.WRONG_PASSWORD)
        return password

    def mode(self) -> int:
        """The KKT's mode now (appendix 1 of the protocol)."""
        if self.receipt is not None:
            return 8
        status = self.kkt.status()
        if not status.shift_open:
            return 4
        return 3 if status.shift_expired or self.faults.shift_over_24h else 2

    def current_submode(self) -> int:
        """The submode now: paper put back after running out while printing gives 3 (waiting for B0h)."""
        if self.submode == 2 and not self.faults.paper_out:
            self.submode = 3
        elif self.submode in (0, 1):
            self.submode = 1 if self.faults.paper_out else 0
        return self.submode

    def _ready_to_print(self) -> None:
        if self.current_submode() == 3:
            raise ShtrihError(errors.WAITING_CONTINUE)
        if self.faults.cover_open:
            raise ShtrihError(errors.COVER_OPEN)
        if self.submode in (1, 2):
            raise ShtrihError(errors.NO_PAPER)

    def _fn_takes_documents(self) -> None:
        """The FN's refusals of any new fiscal document, as the fault switches set them."""
        if self.faults.fn_expired:
            raise ShtrihError(errors.FN_LIFE_OVER)
        if self.faults.fn_full:
            raise ShtrihError(errors.FN_ARCHIVE_FULL)
        if self.faults.ofd_30_days:
            raise ShtrihError(errors.FN_OFD_30_DAYS)

    # -- reading -------------------------------------------------------------------------------------------------

    def _device_type(self, reader: Reader) -> bytes:
        return answers.device_type()

    def _flags(self) -> int:
        return answers.flags(paper=not self.faults.paper_out, cover_open=self.faults.cover_open)

    def _short_status(self, reader: Reader) -> bytes:
        operator = self.operator(reader)
        items = 0 if self.receipt is None else len(self.receipt.items)
        submode = self.current_submode()
        return answers.short_status(operator, flags=self._flags(), mode=self.mode(), submode=submode, items=items)

    def _status(self, reader: Reader) -> bytes:
        operator = self.operator(reader)
        submode = self.current_submode()
        return answers.long_status(self.kkt, operator, flags=self._flags(), mode=self.mode(), submode=submode)

    def _cash_register(self, reader: Reader) -> bytes:
        operator = self.operator(reader)
        number = reader.uint(2) if len(reader.data) - reader.pos >= 2 else reader.uint(1)
        return bytes([operator]) + uint(registers.cash_register(self.kkt, number), 6)

    def _operating_register(self, reader: Reader) -> bytes:
        operator = self.operator(reader)
        return bytes([operator]) + uint(registers.operating_register(self.kkt, reader.uint(1)), 2)

    def _fn_status(self, reader: Reader) -> bytes:
        self.operator(reader)
        return answers.fn_status(self.kkt, receipt_open=self.receipt is not None)

    def _fn_validity(self, reader: Reader) -> bytes:
        self.operator(reader)
        return answers.fn_validity(self.kkt)

    def _shift_state(self, reader: Reader) -> bytes:
        self.operator(reader)
        return answers.shift_state(self.kkt)

    def _exchange_status(self, reader: Reader) -> bytes:
        self.operator(reader)
        return answers.exchange_status(self.kkt)

    def _find_document(self, reader: Reader) -> bytes:
        self.operator(reader)
        document = self.kkt.find_by_number(reader.uint(4))
        if document is None:
            raise ShtrihError(errors.FN_NO_DATA)
        return answers.document(self.kkt, document)

    # -- shift and reports ---------------------------------------------------------------------------------------

    def _open_shift(self, reader: Reader) -> bytes:
        operator = self.operator(reader)
        if self.mode() != 4:
            raise ShtrihError(errors.WRONG_MODE)
        self._fn_takes_documents()
        self._ready_to_print()
        cashier, self.shift_cashier = self.shift_cashier, OpenReceipt(0)
        self.kkt.open_shift(
            idempotency_key=_key("shift-open"), cashier_name=cashier.cashier, cashier_inn=cashier.cashier_inn
        )
        return bytes([operator])

    def _x_report(self, reader: Reader) -> bytes:
        operator = self.operator(reader, admin=True)
        if self.mode() not in (2, 3):
            raise ShtrihError(errors.WRONG_MODE)
        self._ready_to_print()
        self.kkt.x_report()
        return bytes([operator])

    def _z_report(self, reader: Reader) -> bytes:
        operator = self.operator(reader, admin=True)
        if self.mode() not in (2, 3):
            raise ShtrihError(errors.WRONG_MODE)
        self._ready_to_print()
        cashier, self.shift_cashier = self.shift_cashier, OpenReceipt(0)
        self.kkt.close_shift(
            idempotency_key=_key("shift-close"), cashier_name=cashier.cashier, cashier_inn=cashier.cashier_inn
        )
        self.faults.shift_over_24h = False  # the shift it described is closed; the next one starts afresh
        return bytes([operator])

    def _continue_print(self, reader: Reader) -> bytes:
        operator = self.operator(reader)
        if self.current_submode() in (1, 2):
            raise ShtrihError(errors.NO_PAPER)
        self.submode = 0
        return bytes([operator])

    # -- the receipt ---------------------------------------------------------------------------------------------

    def _open_receipt(self, reader: Reader) -> bytes:
        self.operator(reader)
        kind = reader.uint(1)
        if kind not in OPERATION_OF_TYPE:
            raise ShtrihError(errors.BAD_PARAMS)
        if self.receipt is not None:
            raise ShtrihError(errors.RECEIPT_OPEN)
        if self.mode() == 3:
            raise ShtrihError(errors.SHIFT_OVER_24H)
        self._fn_takes_documents()
        self._ready_to_print()
        self.receipt = OpenReceipt(OPERATION_OF_TYPE[kind])
        self.shift_cashier = OpenReceipt(0)
        return b""

    def _open(self) -> OpenReceipt:
        if self.receipt is None:
            raise ShtrihError(errors.RECEIPT_CLOSED)
        return self.receipt

    def _operation(self, reader: Reader) -> bytes:
        self.operator(reader)
        receipt = self._open()
        operation, quantity, price = reader.uint(1), reader.quantity(), reader.uint(5)
        total, _tax_sum, tax_row = reader.uint(5), reader.uint(5), reader.uint(1)
        _department, method, subject = reader.uint(1), reader.uint(1), reader.uint(1)
        name = reader.text().removeprefix("//")
        if operation != receipt.operation:
            raise ShtrihError(errors.WRONG_OPERATION)
        if total == NOT_GIVEN:
            total = int((quantity * price).to_integral_value())
        code = vat_code(tax_row, mode=self.vat_mode, today=self.kkt.local_now().date())
        if code is None or quantity <= 0 or not name:
            raise ShtrihError(errors.BAD_PARAMS)
        receipt.items.append(TaskItem(name, price, quantity, total, code, subject or 1, method or 4))
        return b""

    def _tlv(self, reader: Reader) -> bytes:
        self.operator(reader)
        receipt = self.receipt if self.receipt is not None else self.shift_cashier
        data = reader.rest()
        while len(data) >= 4:
            tag, size = int.from_bytes(data[:2], "little"), int.from_bytes(data[2:4], "little")
            value = data[4 : 4 + size].decode("cp866", errors="replace")
            if tag == 1021:
                receipt.cashier = value
            elif tag == 1203:
                receipt.cashier_inn = value
            elif tag == 1008:
                receipt.contact = value
            data = data[4 + size :]
        return b""

    def _close_receipt(self, reader: Reader) -> bytes:
        self.operator(reader)
        receipt = self._open()
        payments = [reader.uint(5) for _ in range(16)]
        reader.uint(1)  # rounding
        for _ in range(6):
            reader.uint(5)  # tax sums: the emulated FN computes its own
        taxation = reader.uint(1) or None
        self._ready_to_print()
        task = ReceiptTask(
            operation=receipt.operation,
            items=tuple(receipt.items),
            cash_kop=payments[0],
            electronic_kop=sum(payments[1:13]),
            prepaid_kop=payments[13],
            credit_kop=payments[14],
            provision_kop=payments[15],
            cashier_name=receipt.cashier,
            cashier_inn=receipt.cashier_inn,
            customer_contact=receipt.contact,
            taxation=taxation,
        )
        paid = sum(payments)
        if paid < task.total_kop:
            raise ShtrihError(errors.PAYMENTS_SHORT)
        change = paid - task.total_kop
        if change > task.cash_kop:
            raise ShtrihError(errors.BAD_PARAMS)
        task = _with_cash(task, task.cash_kop - change)
        document = self.kkt.print_receipt(task, idempotency_key=_key("receipt"))
        self.receipt = None
        return self._after_print(document, uint(change, 5))

    def _after_print(self, document: FiscalDocument, head: bytes) -> bytes:
        """The fiscal answer, or 6Bh with the document already in the FN when the paper ends while printing it."""
        if self.faults.take("paper_out_in_close"):
            self.submode = 2
            self.faults.paper_out = True
            raise ShtrihError(errors.NO_PAPER)
        return head + answers.fiscal_answer(document)

    def _cancel(self, reader: Reader) -> bytes:
        operator = self.operator(reader)
        self._open()
        self.receipt = None
        return bytes([operator])

    def _correction(self, reader: Reader) -> bytes:
        self.operator(reader)
        if self.receipt is not None:
            raise ShtrihError(errors.RECEIPT_OPEN)
        if self.mode() == 3:
            raise ShtrihError(errors.SHIFT_OVER_24H)
        self._fn_takes_documents()
        correction_type, operation, total = reader.uint(1), reader.uint(1), reader.uint(5)
        payments = [reader.uint(5) for _ in range(5)]
        for _ in range(6):
            reader.uint(5)
        taxation, tax_row = reader.uint(1) or None, reader.uint(1)
        basis = date(2000 + reader.uint(1), reader.uint(1), reader.uint(1))
        number = reader.text() or None
        code = vat_code(tax_row, mode=self.vat_mode, today=self.kkt.local_now().date())
        if code is None or operation not in (1, 2, 3, 4) or sum(payments) != total:
            raise ShtrihError(errors.BAD_PARAMS)
        self._ready_to_print()
        item = TaskItem("Коррекция расчёта", total, Decimal(1), total, code)
        task = CorrectionTask(
            operation=operation,
            items=(item,),
            cash_kop=payments[0],
            electronic_kop=payments[1],
            prepaid_kop=payments[2],
            credit_kop=payments[3],
            provision_kop=payments[4],
            taxation=taxation,
            correction_type=correction_type,
            basis_date=basis,
            basis_number=number,
        )
        document = self.kkt.print_correction(task, idempotency_key=_key("correction"))
        return self._after_print(document, uint(document.receipt_number or 0, 2))


def _key(kind: str) -> str:
    return f"shtrih-{kind}-{uuid.uuid4().hex}"


def _with_cash(task: ReceiptTask, cash: int) -> ReceiptTask:
    return replace(task, cash_kop=cash)
