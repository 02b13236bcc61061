"""Fakes that stand in for the outside world in tests: time that jumps, a driver that never sleeps."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from kkt_adapter.devices.protocol import DeviceState
from kkt_adapter.domain.correction import Correction
from kkt_adapter.domain.device import (
    DOC_CORRECTION,
    DOC_RECEIPT,
    DOC_SHIFT_CLOSING,
    DOC_SHIFT_OPENING,
    FNStatus,
    JournalEntry,
    ShiftReport,
)
from kkt_adapter.domain.errors import DeviceRefused, DeviceUnavailable, ShiftConflict
from kkt_adapter.domain.fiscal import FiscalResult
from kkt_adapter.domain.receipt import OPERATION_CODES, Cashier, Receipt
from kkt_clock import ManualClock

#: A clock that moves only when told to (``advance(3600)`` passes an hour at once); the emulators' manual clock, so
#: one fake time can drive the adapter and the emulators together.
FakeClock = ManualClock


class FakeDriver:
    """An in-memory KKT: numbers documents, remembers keys, and fails on demand.

    ``printed`` holds the receipts and corrections (key, result); ``journal`` also has the shift reports it printed
    when asked. Unlike a real KKT it opens no shift report by itself: a first sale simply opens shift 1.
    """

    FN_NUMBER = "9999078900001234"
    KKT_NUMBER = "0000000001035250"

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.printed: list[tuple[str, FiscalResult]] = []
        self._journal: list[JournalEntry] = []
        self.acknowledged: set[int] = set()
        self.fault: DeviceRefused | None = None
        self.crash_after_print: Exception | None = None
        self.fail_lookup: Exception | None = None
        #: Raised by :meth:`fn_status` while set: the device does not answer a status poll.
        self.fail_fn_status: Exception | None = None
        self.gate: threading.Event | None = None
        self.shift_number = 1
        self.shift_open = False
        self._receipts_in_shift = 0
        self._totals: dict[str, int] = {}
        #: The cashier each shift report was asked under, by its key (``None``: the default).
        self.shift_cashiers: dict[str, Cashier | None] = {}
        #: How many X reports were printed.
        self.x_reports = 0

    def print_receipt(self, receipt: Receipt, *, idempotency_key: str) -> FiscalResult:
        return self._print_check(receipt, idempotency_key, DOC_RECEIPT)

    def print_correction(self, correction: Correction, *, idempotency_key: str) -> FiscalResult:
        return self._print_check(correction.receipt, idempotency_key, DOC_CORRECTION)

    def _print_check(self, receipt: Receipt, idempotency_key: str, doc_type: int) -> FiscalResult:
        if self.gate is not None:
            self.gate.wait(timeout=5)
        with self._lock:
            for key, result in self.printed:
                if key == idempotency_key:
                    return result
            if self.fault is not None:
                raise self.fault
            self.shift_open = True
            self._receipts_in_shift += 1
            number = len(self._journal) + 1
            when = datetime(2025, 11, 30, 12, 0, tzinfo=UTC)
            sign = str(1_000_000 + number)
            qr = (
                f"t={when:%Y%m%dT%H%M}&s={receipt.total_kop // 100}.{receipt.total_kop % 100:02d}"
                f"&fn={self.FN_NUMBER}&i={number}&fp={sign}&n={OPERATION_CODES[receipt.operation]}"
            )
            result = FiscalResult(
                fiscal_doc_number=number,
                fiscal_sign=sign,
                fiscal_datetime=when.isoformat(),
                fn_number=self.FN_NUMBER,
                kkt_number=self.KKT_NUMBER,
                qr_code_data=qr,
                shift_number=self.shift_number,
                receipt_number=self._receipts_in_shift,
                total_kop=receipt.total_kop,
                document=self._tags(number, doc_type, sign, {"1020": receipt.total_kop}),
                doc_type=doc_type,
            )
            self._totals[receipt.operation] = self._totals.get(receipt.operation, 0) + receipt.total_kop
            self.printed.append((idempotency_key, result))
            self._journal.append(JournalEntry(result, idempotency_key))
        if self.crash_after_print is not None:
            raise self.crash_after_print
        return result

    def _tags(self, number: int, doc_type: int, sign: str, extra: dict[str, Any]) -> dict[str, Any]:
        base = {"1000": doc_type, "1038": self.shift_number, "1040": number, "1041": self.FN_NUMBER, "1077": int(sign)}
        return {**base, **extra}

    def _report(self, doc_type: int, key: str) -> FiscalResult:
        number = len(self._journal) + 1
        sign = str(2_000_000 + number)
        result = FiscalResult(
            fiscal_doc_number=number,
            fiscal_sign=sign,
            fiscal_datetime=datetime(2025, 11, 30, 12, 0, tzinfo=UTC).isoformat(),
            fn_number=self.FN_NUMBER,
            kkt_number=self.KKT_NUMBER,
            qr_code_data="",
            shift_number=self.shift_number,
            receipt_number=0,
            total_kop=0,
            document=self._tags(number, doc_type, sign, {}),
            doc_type=doc_type,
        )
        self._journal.append(JournalEntry(result, key))
        return result

    def _by_key(self, key: str) -> JournalEntry | None:
        return next((entry for entry in self._journal if entry.key == key), None)

    def open_shift(self, *, idempotency_key: str, cashier: Cashier | None = None) -> FiscalResult:
        with self._lock:
            self.shift_cashiers.setdefault(idempotency_key, cashier)
            found = self._by_key(idempotency_key)
            if found is not None:
                return found.result
            if self.fault is not None:
                raise self.fault
            if self.shift_open:
                raise ShiftConflict("shift_already_open", f"shift {self.shift_number} is already open")
            self.shift_open = True
            self._receipts_in_shift = 0
            self._totals = {}
            return self._report(DOC_SHIFT_OPENING, idempotency_key)

    def close_shift(self, *, idempotency_key: str, cashier: Cashier | None = None) -> tuple[FiscalResult, ShiftReport]:
        with self._lock:
            self.shift_cashiers.setdefault(idempotency_key, cashier)
            found = self._by_key(idempotency_key)
            if found is not None:
                return found.result, self._shift_report()
            if self.fault is not None:
                raise self.fault
            if not self.shift_open:
                raise ShiftConflict("shift_not_open", "no shift is open")
            report = self._shift_report()
            result = self._report(DOC_SHIFT_CLOSING, idempotency_key)
            self.shift_open = False
            self.shift_number += 1
            self._receipts_in_shift = 0
            self._totals = {}
            return result, report

    def shift_report(self) -> ShiftReport:
        with self._lock:
            return self._shift_report()

    def print_x_report(self) -> ShiftReport:
        with self._lock:
            if self.fault is not None:
                raise self.fault
            if not self.shift_open:
                raise ShiftConflict("shift_not_open", "no shift is open")
            self.x_reports += 1
            return self._shift_report()

    def _shift_report(self) -> ShiftReport:
        return ShiftReport(
            shift_number=self.shift_number,
            open=self.shift_open,
            opened_at=None,
            expires_at=None,
            expired=False,
            receipts=self._receipts_in_shift,
            documents=self._receipts_in_shift + 1,
            totals_by_operation=dict(self._totals),
        )

    def replace_fn(self, fn_number: str) -> None:
        """Fit a new fiscal drive: an empty archive numbered from 1 (the old FN's documents are no longer readable)."""
        with self._lock:
            self.FN_NUMBER = fn_number
            self.printed.clear()
            self._journal.clear()
            self.acknowledged.clear()

    def fn_status(self) -> FNStatus:
        if self.fail_fn_status is not None:
            raise self.fail_fn_status
        with self._lock:
            numbers = [entry.result.fiscal_doc_number for entry in self._journal]
            unsent = [number for number in numbers if number not in self.acknowledged]
            return FNStatus(
                fn_number=self.FN_NUMBER,
                validity_date="2027-02-28",
                ffd_version="1.2",
                documents_count=len(self._journal),
                unsent_count=len(unsent),
                first_unsent_fd_number=min(unsent) if unsent else None,
                first_unsent_at=None,
            )

    def journal(self, *, after_fd: int, limit: int) -> list[JournalEntry]:
        with self._lock:
            return [e for e in self._journal if e.result.fiscal_doc_number > after_fd][:limit]

    def acknowledge(self, fd_numbers: Sequence[int]) -> None:
        with self._lock:
            self.acknowledged.update(fd_numbers)

    def find_by_key(self, idempotency_key: str) -> FiscalResult | None:
        if self.fail_lookup is not None:
            raise self.fail_lookup
        with self._lock:
            return next((result for key, result in self.printed if key == idempotency_key), None)

    def state(self) -> DeviceState:
        offline = isinstance(self.fault, DeviceUnavailable)
        paper_out = self.fault is not None and self.fault.code == "paper_out"
        return DeviceState(
            online=not offline,
            paper=not paper_out,
            shift_open=self.shift_open,
            shift_number=self.shift_number,
            shift_expired=False,
            last_fd_number=len(self._journal),
            fn_number=self.FN_NUMBER,
            kkt_number=self.KKT_NUMBER,
        )

    def close(self) -> None:
        pass
