"""Fakes that stand in for the outside world in tests: time that jumps, a driver that never sleeps."""

from __future__ import annotations

import threading
from datetime import UTC, datetime

from kkt_adapter.domain.errors import DeviceRefused, DeviceUnavailable
from kkt_adapter.domain.fiscal import FiscalResult
from kkt_adapter.domain.receipt import OPERATION_CODES, Receipt
from kkt_adapter.intake.drivers.base import DeviceState
from kkt_clock import ManualClock

#: A clock that moves only when told to (``advance(3600)`` passes an hour at once); the emulators' manual clock, so
#: one fake time can drive the adapter and the emulators together.
FakeClock = ManualClock


class FakeDriver:
    """An in-memory KKT: numbers documents, remembers keys, and fails on demand."""

    FN_NUMBER = "9999078900001234"
    KKT_NUMBER = "0000000001035250"

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.printed: list[tuple[str, FiscalResult]] = []
        self.fault: DeviceRefused | None = None
        self.crash_after_print: Exception | None = None
        self.fail_lookup: Exception | None = None
        self.gate: threading.Event | None = None

    def print_receipt(self, receipt: Receipt, *, idempotency_key: str) -> FiscalResult:
        if self.gate is not None:
            self.gate.wait(timeout=5)
        with self._lock:
            for key, result in self.printed:
                if key == idempotency_key:
                    return result
            if self.fault is not None:
                raise self.fault
            number = len(self.printed) + 1
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
                shift_number=1,
                receipt_number=number,
                total_kop=receipt.total_kop,
                document={"1040": number, "1041": self.FN_NUMBER, "1020": receipt.total_kop, "1077": int(sign)},
            )
            self.printed.append((idempotency_key, result))
        if self.crash_after_print is not None:
            raise self.crash_after_print
        return result

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
            shift_open=bool(self.printed),
            shift_number=1,
            shift_expired=False,
            last_fd_number=len(self.printed),
            fn_number=self.FN_NUMBER,
            kkt_number=self.KKT_NUMBER,
        )

    def close(self) -> None:
        pass
