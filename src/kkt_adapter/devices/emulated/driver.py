"""The emulated KKT as a :class:`~kkt_adapter.devices.protocol.FiscalDriver` (``KKT_DRIVER_TYPE=mock``).

The device model lives in ``kkt_emulators.device``; this module only translates: receipts and corrections to device
tasks, device documents and reports to the adapter's values, device errors to the adapter's error tree. A request's
missing cashier and taxation system are filled in as on every driver (:class:`FiscalDefaults`): the taxation system
from the emulated FN's registration when it names only one.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import TypeVar

from kkt_adapter.devices.protocol import DeviceState, PrintJob
from kkt_adapter.domain.correction import CORRECTION_TYPE_CODES, Correction
from kkt_adapter.domain.device import FNStatus, JournalEntry, ShiftReport
from kkt_adapter.domain.errors import DeviceRefused, DeviceRejectedReceipt, DeviceUnavailable, ShiftConflict
from kkt_adapter.domain.fiscal import FiscalResult
from kkt_adapter.domain.fiscal_defaults import DEFAULTS, FiscalDefaults
from kkt_adapter.domain.receipt import OPERATION_CODES, Cashier, Receipt
from kkt_clock import Clock
from kkt_emulators.device import (
    CorrectionTask,
    DeviceError,
    DeviceOffline,
    EmulatedKKT,
    FiscalDocument,
    InvalidTask,
    ReceiptTask,
    ShiftAlreadyOpen,
    ShiftNotOpen,
    TaskItem,
)
from kkt_emulators.device import FNStatus as DeviceFNStatus
from kkt_emulators.device import ShiftReport as DeviceShiftReport

T = TypeVar("T")

#: How many receipts one journal transaction of the emulated KKT takes at most.
MAX_BATCH = 64
#: Operation names by tag 1054, for report totals.
OPERATION_NAMES = {1: "sale", 2: "refund", 3: "expense", 4: "expense_refund"}


def to_task(receipt: Receipt) -> ReceiptTask:
    """The device's task for a receipt (amounts already in kopecks), with its FFD 1.2 attributes."""
    cashier = receipt.cashier
    return ReceiptTask(
        operation=OPERATION_CODES[receipt.operation],
        items=tuple(
            TaskItem(
                name=item.name,
                price_kop=item.price_kop,
                quantity=item.quantity,
                sum_kop=item.sum_kop,
                vat_code=item.vat_code,
                payment_object=item.payment_object,
                payment_method=item.payment_method,
                measure=item.measure,
                mark_code=item.mark_code,
            )
            for item in receipt.items
        ),
        cash_kop=receipt.paid("cash"),
        electronic_kop=receipt.paid("electronic"),
        prepaid_kop=receipt.paid("prepaid"),
        credit_kop=receipt.paid("credit"),
        provision_kop=receipt.paid("provision"),
        cashier_name=None if cashier is None else cashier.name,
        cashier_inn=None if cashier is None else cashier.inn,
        customer_contact=receipt.customer_contact,
        taxation=receipt.taxation,
    )


def to_correction_task(correction: Correction) -> CorrectionTask:
    """The device's task for a correction receipt (document type 31)."""
    task = to_task(correction.receipt)
    return CorrectionTask(
        operation=task.operation,
        items=task.items,
        cash_kop=task.cash_kop,
        electronic_kop=task.electronic_kop,
        prepaid_kop=task.prepaid_kop,
        credit_kop=task.credit_kop,
        provision_kop=task.provision_kop,
        cashier_name=task.cashier_name,
        cashier_inn=task.cashier_inn,
        customer_contact=task.customer_contact,
        taxation=task.taxation,
        correction_type=CORRECTION_TYPE_CODES[correction.correction_type],
        basis_date=correction.basis_date,
        basis_number=correction.basis_number,
        corrected_fiscal_sign=correction.corrected_fiscal_sign,
    )


def to_result(document: FiscalDocument) -> FiscalResult:
    """The adapter's fiscal result for any document the device signed."""
    return FiscalResult(
        fiscal_doc_number=document.fd_number,
        fiscal_sign=str(document.fiscal_sign),
        fiscal_datetime=document.fiscal_datetime.isoformat(),
        fn_number=document.fn_number,
        kkt_number=document.kkt_reg_number,
        qr_code_data=document.qr or "",
        shift_number=document.shift_number,
        receipt_number=document.receipt_number or 0,
        total_kop=document.total_kop,
        document=dict(document.tags),
        doc_type=document.doc_type,
    )


def to_report(report: DeviceShiftReport) -> ShiftReport:
    """The adapter's shift report (operation names instead of 1054 codes, ISO times)."""
    return ShiftReport(
        shift_number=report.shift_number,
        open=report.shift_open,
        opened_at=_iso(report.opened_at),
        expires_at=_iso(report.expires_at),
        expired=report.expired,
        receipts=report.receipts,
        documents=report.documents,
        totals_by_operation={OPERATION_NAMES.get(k, str(k)): v for k, v in report.totals_by_operation.items()},
        counts_by_operation={OPERATION_NAMES.get(k, str(k)): v for k, v in report.count_by_operation.items()},
        totals_by_payment=dict(report.totals_by_payment),
    )


def to_fn_status(status: DeviceFNStatus) -> FNStatus:
    return FNStatus(
        fn_number=status.fn_number,
        validity_date=status.validity_date.isoformat(),
        ffd_version=status.ffd_version,
        documents_count=status.documents_count,
        unsent_count=status.unsent_count,
        first_unsent_fd_number=status.first_unsent_fd_number,
        first_unsent_at=_iso(status.first_unsent_at),
        warnings=tuple(status.warnings),
        blocked=status.blocked,
    )


def _cashier(cashier: Cashier | None) -> tuple[str | None, str | None]:
    return (None, None) if cashier is None else (cashier.name, cashier.inn)


def _iso(moment: datetime | None) -> str | None:
    return None if moment is None else moment.isoformat()


@contextmanager
def _translated() -> Iterator[None]:
    """Device errors as the adapter's: refusals before printing are ``DeviceRefused``; anything else propagates."""
    try:
        yield
    except DeviceError as exc:
        translated = translate(exc)
        if translated is exc:
            raise
        raise translated from exc


def translate(exc: Exception) -> Exception:
    """A device error as the adapter's (refusals before printing are ``DeviceRefused``); anything else as it is."""
    if isinstance(exc, DeviceOffline):
        return DeviceUnavailable(exc.code, exc.reason)
    if isinstance(exc, InvalidTask):
        return DeviceRejectedReceipt(exc.code, exc.reason)
    if isinstance(exc, ShiftNotOpen):
        return ShiftConflict("shift_not_open", exc.reason)
    if isinstance(exc, ShiftAlreadyOpen):
        return ShiftConflict("shift_already_open", exc.reason)
    if isinstance(exc, DeviceError) and not exc.printed:
        return DeviceRefused(exc.code, exc.reason)
    return exc  # not a refusal: the caller asks the journal


def _outcome(outcome: FiscalDocument | Exception) -> FiscalResult | Exception:
    if isinstance(outcome, Exception):
        translated = translate(outcome)
        if translated is not outcome:
            translated.__cause__ = outcome
        return translated
    return to_result(outcome)


class EmulatedDriver:
    """Prints on an :class:`~kkt_emulators.device.EmulatedKKT` whose state lives in ``state_dir``."""

    def __init__(
        self,
        state_dir: Path,
        *,
        print_delay_ms: int | None,
        clock: Clock,
        fn_life_months: int = 15,
        defaults: FiscalDefaults = DEFAULTS,
    ) -> None:
        self.device = EmulatedKKT(state_dir, print_delay_ms=print_delay_ms, clock=clock, fn_life_months=fn_life_months)
        self.defaults = defaults

    def _registered(self) -> int:
        return self.device.registration.taxation

    def _call(self, fn: Callable[[], T]) -> T:
        with _translated():
            return fn()

    def print_receipt(self, receipt: Receipt, *, idempotency_key: str) -> FiscalResult:
        task = to_task(self.defaults.complete(receipt, self._registered))
        return to_result(self._call(lambda: self.device.print_receipt(task, idempotency_key=idempotency_key)))

    @property
    def max_batch(self) -> int:
        """Jobs per :meth:`print_batch`: a batch shares one journal transaction only without a print delay."""
        return MAX_BATCH if self.device.instant else 1

    def print_batch(self, jobs: Sequence[PrintJob]) -> list[FiscalResult | Exception]:
        """Print the jobs in one journal transaction (a savepoint each); each job's result or its own error (a job
        whose taxation system cannot be chosen is refused alone, before the batch)."""
        outcomes: list[FiscalResult | Exception | None] = [None] * len(jobs)
        tasks: list[tuple[ReceiptTask | CorrectionTask, str]] = []
        sent: list[int] = []
        for index, job in enumerate(jobs):
            try:
                request = self.defaults.complete(job.request, self._registered)
            except DeviceRejectedReceipt as exc:
                outcomes[index] = exc
                continue
            task = to_correction_task(request) if isinstance(request, Correction) else to_task(request)
            tasks.append((task, job.idempotency_key))
            sent.append(index)
        for index, outcome in zip(sent, self.device.print_batch(tasks), strict=True):
            outcomes[index] = _outcome(outcome)
        return [outcome for outcome in outcomes if outcome is not None]

    def print_correction(self, correction: Correction, *, idempotency_key: str) -> FiscalResult:
        task = to_correction_task(self.defaults.complete(correction, self._registered))
        return to_result(self._call(lambda: self.device.print_correction(task, idempotency_key=idempotency_key)))

    def open_shift(self, *, idempotency_key: str, cashier: Cashier | None = None) -> FiscalResult:
        name, inn = _cashier(self.defaults.cashier_for(cashier))
        return to_result(
            self._call(
                lambda: self.device.open_shift(idempotency_key=idempotency_key, cashier_name=name, cashier_inn=inn)
            )
        )

    def close_shift(self, *, idempotency_key: str, cashier: Cashier | None = None) -> tuple[FiscalResult, ShiftReport]:
        name, inn = _cashier(self.defaults.cashier_for(cashier))
        document = self._call(
            lambda: self.device.close_shift(idempotency_key=idempotency_key, cashier_name=name, cashier_inn=inn)
        )
        report = self.device.shift_totals(document.shift_number)
        assert report is not None, "a shift that was closed was opened"
        return to_result(document), to_report(report)

    def shift_report(self) -> ShiftReport:
        status = self.device.status()
        report = self.device.shift_totals(status.shift_number)
        if report is None:  # no shift was ever opened on this FN
            return ShiftReport(status.shift_number, False, None, None, False, 0, 0)
        return to_report(report)

    def print_x_report(self) -> ShiftReport:
        """The X report the emulated KKT prints: the open shift's counters and totals."""
        return to_report(self._call(self.device.x_report))

    def fn_status(self) -> FNStatus:
        return to_fn_status(self.device.fn_status())

    def journal(self, *, after_fd: int, limit: int) -> list[JournalEntry]:
        return [
            JournalEntry(to_result(document), document.idempotency_key)
            for document in self.device.journal(after_fd=after_fd, limit=limit)
        ]

    def acknowledge(self, fd_numbers: Sequence[int]) -> None:
        self.device.acknowledge(fd_numbers)

    def find_by_key(self, idempotency_key: str) -> FiscalResult | None:
        document = self.device.find_by_key(idempotency_key)
        return None if document is None else to_result(document)

    def state(self) -> DeviceState:
        status = self.device.status()
        fn = self.device.fn_status()
        expires = status.shift_expires_at
        return DeviceState(
            online=status.online,
            paper=status.paper,
            shift_open=status.shift_open,
            shift_number=status.shift_number,
            shift_expired=status.shift_expired,
            last_fd_number=status.last_fd_number,
            fn_number=status.fn_number,
            kkt_number=status.reg_number,
            shift_expires_at=None if expires is None else expires.timestamp(),
            fn_blocked=fn.blocked,
            fn_warnings=tuple(fn.warnings),
        )

    def close(self) -> None:
        self.device.close()
