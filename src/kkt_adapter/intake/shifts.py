"""The fiscal day: open and close the shift (Z report), the X report, and the daily closing at a fixed time.

Shift reports are fiscal documents: the opening and the Z report each take an FD number, and are kept in the buffer
and delivered to the OFD like receipts, in FD order. The device prints them on its lane, after the receipts already
queued. An expired shift under ``KKT_SHIFT_EXPIRED_POLICY=auto`` is closed by the lane before the next sale;
``KKT_SHIFT_CLOSE_AT`` closes the open shift at a local time every day (:meth:`ShiftService.close_if_due`).

A buffer that refuses the report once the device signed it (disk full, I/O error, a read-only file) is answered with
:class:`StorageUnavailable` saying what the device did; the report is kept in memory
(:class:`~kkt_adapter.intake.unstored.UnstoredResults`) and stored with the next shift report or by the periodic
reconcile, and a resend of the same key answers it (the device finds the key: nothing is printed again).
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Callable
from dataclasses import asdict
from datetime import datetime, time, tzinfo
from typing import Any

from kkt_adapter.buffer.connection import STORAGE_ERRORS
from kkt_adapter.buffer.store import Buffer
from kkt_adapter.devices.lane import DeviceLane
from kkt_adapter.domain.device import JournalEntry, ShiftReport
from kkt_adapter.domain.errors import ShiftConflict, StorageUnavailable
from kkt_adapter.domain.fiscal import FiscalResult
from kkt_adapter.domain.money import rubles
from kkt_adapter.domain.receipt import Cashier
from kkt_adapter.intake.device_start import StartGate
from kkt_adapter.intake.unstored import UnstoredResults
from kkt_clock import Clock

log = logging.getLogger(__name__)

#: Retry-After for a storage fault: a short wait, as for receipts.
STORAGE_RETRY_AFTER_S = 5


class ShiftService:
    """Shifts and reports through the device's lane; their documents go to the buffer, bound to the lane's device,
    and ``on_printed`` wakes delivery (as the fiscalizer's does for receipts)."""

    def __init__(
        self,
        lane: DeviceLane,
        buffer: Buffer,
        clock: Clock,
        *,
        close_at: time | None,
        tz: tzinfo,
        key_prefix: str = "",
        on_printed: Callable[[], None] = lambda: None,
        unstored: UnstoredResults | None = None,
        gate: StartGate | None = None,
    ) -> None:
        #: Put before every shift report's key (a device other than the primary: its keys never meet another's, in the
        #: buffer or on a Web Requests server that serves both devices).
        self.key_prefix = key_prefix
        self.lane = lane
        self.driver = lane.driver
        self.buffer = buffer
        self.on_printed = on_printed
        #: Documents printed while the buffer refused writes (shared with the device's recovery, which stores them).
        self.unstored = unstored or UnstoredResults()
        #: Shut while the device's start is not settled: no shift document is made before its journal is read.
        self.gate = gate or StartGate()
        self.clock = clock
        self.close_at = close_at
        self.tz = tz
        self._checked_at = datetime.fromtimestamp(clock.time(), tz)

    async def status(self) -> dict[str, Any]:
        """``GET /v1/kkt/shift``: open or not, number, opened at, expires at, receipts in shift, expired."""
        report = await self.lane.run(self.driver.shift_report)
        return report_view(report)

    async def x_report(self) -> dict[str, Any]:
        """The X report: printed on the device, with the open shift's counters and totals as the device counts them;
        not a fiscal document, nothing stored or sent."""
        report = await self.lane.run(self.driver.print_x_report)
        if not report.open:
            raise ShiftConflict("shift_not_open", "no shift is open: there is nothing to report (open one first)")
        return {"report": "X", "fiscal": False} | report_view(report)

    async def open(self, *, key: str | None = None, cashier: Cashier | None = None) -> dict[str, Any]:
        """Open a shift (the shift opening report, under ``cashier``: else the configured one) and keep the report
        for the OFD."""
        self.gate.check()
        keyed = key is not None
        key = self.key_prefix + (key or f"shift-open:{uuid.uuid4()}")

        def on_device() -> tuple[FiscalResult, list[JournalEntry]]:
            result = self.driver.open_shift(idempotency_key=key, cashier=cashier)
            return result, [*self.lane.journal.after_print(result), JournalEntry(result, key)]

        result, entries = await self.lane.run(on_device)
        await self._keep(entries, result, what=f"the shift opening of shift {result.shift_number}", keyed=keyed)
        return {"status": "opened"} | document_view(result)

    async def close(self, *, key: str | None = None, cashier: Cashier | None = None) -> dict[str, Any]:
        """Close the open shift (the Z report, under ``cashier``), keep the report for the OFD, and answer it with the
        shift's totals."""
        self.gate.check()
        keyed = key is not None
        key = self.key_prefix + (key or f"shift-close:{uuid.uuid4()}")

        def on_device() -> tuple[FiscalResult, ShiftReport, list[JournalEntry]]:
            result, report = self.driver.close_shift(idempotency_key=key, cashier=cashier)
            return result, report, [*self.lane.journal.after_print(result), JournalEntry(result, key)]

        result, report, entries = await self.lane.run(on_device)
        what = f"the Z report closing shift {result.shift_number}"
        await self._keep(entries, result, what=what, keyed=keyed)
        summary = report_view(report)
        return (
            {"status": "closed", "report": "Z"}
            | document_view(result)
            | {
                "receipts": summary["receipts"],
                "documents": summary["documents"],
                "totals": summary["totals"],
            }
        )

    async def close_if_due(self) -> bool:
        """Close the open shift when ``KKT_SHIFT_CLOSE_AT`` has passed since the last check (once per day)."""
        if self.close_at is None:
            return False
        now = datetime.fromtimestamp(self.clock.time(), self.tz)
        since, self._checked_at = self._checked_at, now
        due = datetime.combine(now.date(), self.close_at, self.tz)
        if not since < due <= now:
            return False
        report = await self.lane.run(self.driver.shift_report)
        if not report.open:
            return False
        log.info("closing the shift at KKT_SHIFT_CLOSE_AT", extra={"close_at": self.close_at.isoformat()})
        await self.close(key=f"close-at:{due.isoformat()}:{report.shift_number}")
        return True

    async def _keep(self, entries: list[JournalEntry], result: FiscalResult, *, what: str, keyed: bool) -> None:
        """Store the report the device signed (``what``, with the documents it signed before it, and any kept from an
        earlier storage fault); a buffer that refuses is :class:`StorageUnavailable` saying the device printed."""
        waiting = self.unstored.documents()
        try:
            await asyncio.wrap_future(self.buffer.submit_store_entries(_once(waiting, entries), device=self.lane.name))
        except STORAGE_ERRORS as exc:
            self.unstored.keep_documents(entries)
            error = f"{type(exc).__name__}: {exc}"
            log.error(
                "the buffer failed after the device printed a shift report: it is kept in memory",
                extra={"fd": result.fiscal_doc_number, "key": entries[-1].key, "error": error},
            )
            retry = (
                "resend the same Idempotency-Key to get the report once storage is back: nothing is printed again"
                if keyed
                else "do not repeat the request: send an Idempotency-Key to make such a retry safe"
            )
            raise StorageUnavailable(
                f"the KKT printed {what} (FD {result.fiscal_doc_number}), but the buffer could not store it ({error});"
                f" the adapter keeps it in memory and stores it when the buffer takes writes again; {retry}",
                retry_after_s=STORAGE_RETRY_AFTER_S,
                printed=True,
            ) from exc
        self.unstored.forget_documents(waiting)
        self.on_printed()


def _once(*groups: list[JournalEntry]) -> list[JournalEntry]:
    """The entries of ``groups`` in FD order, each document once (a resend's report may be kept already)."""
    by_number = {(e.result.fn_number, e.result.fiscal_doc_number): e for group in groups for e in group}
    return [by_number[number] for number in sorted(by_number)]


def document_view(result: FiscalResult) -> dict[str, Any]:
    """The fiscal identity of a shift report."""
    return {
        "fiscal_doc_number": result.fiscal_doc_number,
        "fiscal_sign": result.fiscal_sign,
        "fiscal_datetime": result.fiscal_datetime,
        "fn_number": result.fn_number,
        "kkt_number": result.kkt_number,
        "shift_number": result.shift_number,
    }


def report_view(report: ShiftReport) -> dict[str, Any]:
    """A shift report with its totals in rubles (strings, exact)."""
    view = asdict(report)
    totals = {
        "by_operation": {name: str(rubles(kop)) for name, kop in report.totals_by_operation.items()},
        "count_by_operation": dict(report.counts_by_operation),
        "by_payment": {name: str(rubles(kop)) for name, kop in report.totals_by_payment.items()},
    }
    for name in ("totals_by_operation", "counts_by_operation", "totals_by_payment"):
        view.pop(name)
    return view | {"totals": totals}
