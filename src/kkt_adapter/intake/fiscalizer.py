"""Phase 1: accept a sale, print it once, keep it durably. The only place that orders buffer and device calls.

The order is what makes a crash harmless: the key is stored (``accepted``) before the device prints; the device
records the key with the document; the fiscal data is committed (``pending``) before the client hears 200. A process
killed between the two is reconciled from the device's journal (:mod:`kkt_adapter.intake.recovery`). Blocking work
runs in threads: the device on its lane (:class:`~kkt_adapter.devices.lane.DeviceLane`, which batches the prints
waiting for it), the buffer in its group-commit writer; the lane's thread submits each printed row's completion.

A buffer that fails (disk full, I/O error, a read-only file) is answered with :class:`StorageUnavailable`, saying
whether the device had printed. A printed result the buffer could not store is kept in memory by key
(:mod:`kkt_adapter.intake.unstored`), so that the client's resend, or the periodic reconcile, stores it as soon as
the buffer takes writes again.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from concurrent.futures import Future
from dataclasses import dataclass
from typing import TypeVar

from kkt_adapter.buffer.accept import AcceptDecision, BoundElsewhere, Conflict, Fresh, Full, InFlight, Replay, Retry
from kkt_adapter.buffer.connection import STORAGE_ERRORS
from kkt_adapter.buffer.store import Buffer
from kkt_adapter.devices.lane import DeviceLane
from kkt_adapter.devices.protocol import PrintJob
from kkt_adapter.domain.correction import Correction
from kkt_adapter.domain.device import DOC_CORRECTION, DOC_RECEIPT, JournalEntry
from kkt_adapter.domain.errors import (
    INTERRUPTED,
    BufferFull,
    DeviceRefused,
    DeviceRejectedReceipt,
    IdempotencyConflict,
    NotInJournal,
    OutcomeUnknown,
    RequestInFlight,
    StorageUnavailable,
)
from kkt_adapter.domain.fiscal import FiscalResult
from kkt_adapter.domain.receipt import Receipt
from kkt_adapter.intake.device_start import StartGate
from kkt_adapter.intake.unstored import Unstored, UnstoredResults
from kkt_adapter.status.metrics import Metrics

log = logging.getLogger(__name__)
T = TypeVar("T")

CONFLICT = "Idempotency-Key was already used for a different receipt; use a new key for a new sale"
#: Retry-After for a storage fault: a short wait, the client resends the same key.
STORAGE_RETRY_AFTER_S = 5


@dataclass(frozen=True)
class _Printable:
    """What one accept prints: a receipt, or a correction with its receipt."""

    receipt: Receipt
    request: Receipt | Correction
    doc_type: int

    @property
    def what(self) -> str:
        """The document's name in a client's message."""
        return "correction" if self.doc_type == DOC_CORRECTION else "receipt"

    @staticmethod
    def of(request: Receipt | Correction) -> _Printable:
        if isinstance(request, Correction):
            return _Printable(request.receipt, request, DOC_CORRECTION)
        return _Printable(request, request, DOC_RECEIPT)


@dataclass(frozen=True)
class Redirect:
    """The key is bound to another device (its print is being decided there): the router hands the request to
    ``device``. An answer, not an error: this device printed nothing and decided nothing."""

    device: str


class Fiscalizer:
    """Accepts receipts for one device: idempotent by key, bounded by capacity, printed exactly once."""

    def __init__(
        self,
        buffer: Buffer,
        lane: DeviceLane,
        *,
        capacity: int,
        retry_after_s: int,
        stale_after_s: float = 60.0,
        on_printed: Callable[[], None] = lambda: None,
        metrics: Metrics | None = None,
        unstored: UnstoredResults | None = None,
        gate: StartGate | None = None,
    ) -> None:
        #: The device's configured name: the rows it prints are bound to it.
        self.name = lane.name
        self.buffer = buffer
        self.lane = lane
        self.capacity = capacity
        self.retry_after_s = retry_after_s
        self.stale_after_s = stale_after_s
        self.on_printed = on_printed
        self.metrics = metrics or Metrics()
        self.unstored = unstored or UnstoredResults()
        #: Shut while the device's start is not settled: nothing is printed before its undecided rows are.
        self.gate = gate or StartGate()
        self._printed_here = self.metrics.device_printed.labels(self.name)
        self._in_flight: dict[str, tuple[str, asyncio.Future[str | Redirect]]] = {}

    def printing(self) -> frozenset[str]:
        """The keys being accepted in this process now."""
        return frozenset(self._in_flight)

    async def accept(self, receipt: Receipt | Correction, *, key: str) -> str | Redirect:
        """Print ``receipt`` (or a correction) once for ``key`` and return the response body; a replay returns the
        same body. A key bound to another device is answered with a :class:`Redirect` to it (shared, like a body,
        by the requests that joined this one)."""
        body_hash = receipt.body_hash()
        running = self._in_flight.get(key)
        if running is not None:
            if running[0] != body_hash:
                raise IdempotencyConflict(CONFLICT)
            # The same key and body are being printed in this process: share that outcome, print nothing more.
            return await asyncio.shield(running[1])
        task = asyncio.ensure_future(self._accept(_Printable.of(receipt), key))
        self._in_flight[key] = (body_hash, task)
        task.add_done_callback(lambda _: self._in_flight.pop(key, None))
        # Shielded: a client that goes away must not abandon a print half-way.
        return await asyncio.shield(task)

    def _begin(self, job: _Printable, key: str) -> Future[AcceptDecision]:
        return self.buffer.submit_begin_accept(
            key=key,
            receipt=job.receipt,
            capacity=self.capacity,
            request=job.request,
            doc_type=job.doc_type,
            device=self.name,
        )

    async def _accept(self, job: _Printable, key: str) -> str | Redirect:
        left = self.unstored.get(key)
        decision = await self._storage(
            asyncio.wrap_future(self._begin(job, key)), printed=None if left is None else left.result, what=job.what
        )
        if isinstance(decision, InFlight):
            if decision.device != self.name:
                return Redirect(decision.device)  # its outcome is decided on that device only
            decision = await self._take_over(decision, job, key)
        match decision:
            case Replay(response_json=response):
                return response
            case Conflict():
                raise IdempotencyConflict(CONFLICT)
            case Full(unsynced=unsynced, capacity=capacity):
                raise BufferFull(
                    f"Buffer full: {unsynced} receipts are waiting for the OFD (capacity {capacity}); "
                    "nothing was printed, retry later",
                    retry_after_s=self.retry_after_s,
                )
            case InFlight():
                raise RequestInFlight("this Idempotency-Key is being printed right now; retry with the same key")
            case BoundElsewhere(device=device):
                return Redirect(device)
            case Fresh(receipt_id=receipt_id) | Retry(receipt_id=receipt_id):
                self.metrics.accepted.inc()
                return await self._print(receipt_id, job, key)
        raise AssertionError(decision)  # pragma: no cover

    async def _take_over(self, decision: InFlight, job: _Printable, key: str) -> AcceptDecision:
        """Another process holds the key: finish it from the journal, or retry it if it has been left for long.

        A row this process left ``accepted`` because the buffer failed is settled at once: from the result kept in
        memory, else from the journal; it is not waited for as if another process were printing it.
        """
        left = self.unstored.get(key)
        if left is not None and left.receipt_id != decision.receipt_id:
            left = None
        if left is not None and left.result is not None:
            found: FiscalResult | None = left.result
        else:
            found = await self._find_by_key(key)
        if found is not None:
            preceding = left.preceding if left is not None and left.result is not None else ()
            response = await self._storage(
                asyncio.wrap_future(
                    self.buffer.submit_complete_print(decision.receipt_id, found, preceding=preceding, device=self.name)
                ),
                printed=found,
                what=job.what,
            )
            self.unstored.forget(key)
            return Replay(decision.receipt_id, response)
        if left is None and self.buffer.clock.time() - decision.since < self.stale_after_s:
            return decision
        reason = "abandoned before printing" if left is None else "the buffer failed before recording the outcome"
        await self._storage(
            asyncio.to_thread(self.buffer.fail_print, decision.receipt_id, code=INTERRUPTED, reason=reason),
            what=job.what,
        )
        self.unstored.forget(key)
        return await self._storage(asyncio.wrap_future(self._begin(job, key)), what=job.what)

    async def _find_by_key(self, key: str) -> FiscalResult | None:
        """The device's document for ``key``; a device that cannot tell yet (a real KKT's job still running) is
        :class:`OutcomeUnknown`: the row stays ``accepted``, and nothing is printed until it can tell."""
        try:
            return await self.lane.run(self.lane.driver.find_by_key, key)
        except Exception as exc:
            self.lane.monitor.observe_error(f"device not answering: {exc}")
            raise OutcomeUnknown(
                f"the device cannot tell yet whether this receipt was printed ({exc}); retry with the same "
                "Idempotency-Key",
            ) from exc

    async def _print(self, receipt_id: str, job: _Printable, key: str) -> str:
        preceding: list[JournalEntry] = []
        completion: str | BaseException | None = None
        try:
            self.gate.check()
            printed = await self.lane.print(PrintJob(job.request, key), token=receipt_id, complete=self._complete)
            result, preceding, completion = printed.result, printed.preceding, printed.completion
        except DeviceRefused as refused:
            if not isinstance(refused, DeviceRejectedReceipt):
                self.lane.monitor.observe_error(refused.reason)
            await self._record_failure(receipt_id, key, code=refused.code, reason=refused.reason)
            log.warning(
                "device refused to print", extra={"receipt_id": receipt_id, "key": key, "reason": refused.reason}
            )
            raise
        except Exception as exc:
            result = await self._outcome_from_journal(receipt_id, key, exc)
        self.lane.monitor.observe_print(result)
        try:
            if isinstance(completion, BaseException):
                raise completion
            if completion is None:  # printed outside a batch (the outcome came from the journal)
                completion = await asyncio.wrap_future(
                    self.buffer.submit_complete_print(receipt_id, result, preceding=preceding, device=self.name)
                )
            response = completion
        except STORAGE_ERRORS as exc:
            self.unstored.keep(key, Unstored(receipt_id, result, tuple(preceding)))
            log.error(
                "the buffer failed after the device printed: the result is kept for the resend",
                extra={"receipt_id": receipt_id, "key": key, "fd": result.fiscal_doc_number, "error": _describe(exc)},
            )
            raise self._unavailable(exc, printed=result, what=job.what) from exc
        self.metrics.printed.inc()
        self._printed_here.inc()
        log.debug("printed", extra={"receipt_id": receipt_id, "key": key, "fd": result.fiscal_doc_number})
        self.on_printed()
        return response

    async def _outcome_from_journal(self, receipt_id: str, key: str, exc: Exception) -> FiscalResult:
        """After an unexpected driver error, the device's journal says whether the receipt was printed."""
        log.warning(
            "print outcome unknown, asking the device's journal",
            extra={"receipt_id": receipt_id, "key": key, "error": _describe(exc)},
        )
        try:
            found = await self.lane.run(self.lane.driver.find_by_key, key)
        except Exception as lookup_error:
            self.lane.monitor.observe_error(f"device not answering: {lookup_error}")
            # Leave the row accepted: start-up or a later replay reconciles it. Nothing is printed twice.
            raise OutcomeUnknown(f"device not answering ({lookup_error}); retry with the same Idempotency-Key") from exc
        if found is None:
            reason = f"device error, nothing printed: {exc}"
            self.lane.monitor.observe_error(reason)
            await self._record_failure(receipt_id, key, code=NotInJournal.CODE, reason=reason)
            raise NotInJournal(reason) from exc
        return found

    async def _record_failure(self, receipt_id: str, key: str, *, code: str, reason: str) -> None:
        """Mark the row ``print_failed`` and count the refusal; if the buffer refuses, remember that nothing was
        printed, for the resend."""
        try:
            await asyncio.to_thread(self.buffer.fail_print, receipt_id, code=code, reason=reason)
            self.metrics.print_failed.inc()
            self.metrics.device_refusals.labels(self.name, code).inc()
        except STORAGE_ERRORS as exc:
            self.unstored.keep(key, Unstored(receipt_id, None))
            raise StorageUnavailable(
                f"the KKT printed nothing ({reason}), and the buffer could not record it ({_describe(exc)}); "
                "retry with the same Idempotency-Key",
                retry_after_s=STORAGE_RETRY_AFTER_S,
            ) from exc

    def _complete(self, receipt_id: str, result: FiscalResult, preceding: Sequence[JournalEntry]) -> Future[str]:
        """The lane's completion: store a printed row (group-committed); a storage fault fails only its future."""
        try:
            return self.buffer.submit_complete_print(receipt_id, result, preceding=preceding, device=self.name)
        except STORAGE_ERRORS as exc:
            failed: Future[str] = Future()
            failed.set_exception(exc)
            return failed

    # -- storage faults ------------------------------------------------------------------------------------------

    async def _storage(self, work: Awaitable[T], *, printed: FiscalResult | None = None, what: str) -> T:
        """Await a buffer call; its storage fault becomes :class:`StorageUnavailable` (saying if the KKT printed)."""
        try:
            return await work
        except STORAGE_ERRORS as exc:
            raise self._unavailable(exc, printed=printed, what=what) from exc

    def _unavailable(self, exc: BaseException, *, printed: FiscalResult | None, what: str) -> StorageUnavailable:
        if printed is None:
            message = (
                f"the buffer cannot store the {what} ({_describe(exc)}); nothing was printed; "
                "retry with the same Idempotency-Key"
            )
        else:
            message = (
                f"the KKT printed this {what} (FD {printed.fiscal_doc_number}), but the buffer could not store it "
                f"({_describe(exc)}); resend the same Idempotency-Key and body to get the {what} once storage is "
                "back: nothing is printed again"
            )
        return StorageUnavailable(message, retry_after_s=STORAGE_RETRY_AFTER_S, printed=printed is not None)

    async def drain(self, *, within_s: float) -> None:
        """Wait for the receipts being printed to finish (at shutdown, before the buffer closes)."""
        running = [task for _, task in self._in_flight.values()]
        if running:
            await asyncio.wait(running, timeout=within_s)


def _describe(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"
