"""Phase 1: accept a sale, print it once, keep it durably. The only place that orders buffer and device calls.

The order is what makes a crash harmless: the key is stored (``accepted``) before the device prints; the device
records the key with the document; the fiscal data is committed (``pending``) before the client hears 200. A process
killed between the two is reconciled from the device's journal (:meth:`Fiscalizer.reconcile`). Blocking work runs in
threads: the device in its own single thread, the buffer in its group-commit writer.

Prints are batched: the receipts waiting for the device when its thread comes free are printed in one driver call
(:func:`~kkt_adapter.devices.protocol.print_batch`: the emulated KKT journals them in one transaction, a
savepoint each; a driver without a batch call prints them one by one), and their outcomes reach the waiting requests
in one wake-up of the event loop. Each receipt's outcome is handled alone, so one refusal fails only its receipt.

A buffer that fails (disk full, I/O error, a read-only file) is answered with :class:`StorageUnavailable`, saying
whether the device had printed. A printed result the buffer could not store is kept in memory by key, so that the
client's resend, or the periodic reconcile, stores it as soon as the buffer takes writes again.
"""

from __future__ import annotations

import asyncio
import logging
import queue
import threading
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Literal, TypeVar

from kkt_adapter.buffer import store
from kkt_adapter.buffer.connection import STORAGE_ERRORS
from kkt_adapter.buffer.store import Buffer
from kkt_adapter.devices.protocol import FiscalDriver, PrintJob, batch_limit, print_batch
from kkt_adapter.domain.correction import Correction
from kkt_adapter.domain.device import DEFAULT_DEVICE, DOC_CORRECTION, DOC_RECEIPT, JournalEntry
from kkt_adapter.domain.errors import (
    BufferFull,
    DeviceRefused,
    DeviceRejectedReceipt,
    DeviceUnavailable,
    IdempotencyConflict,
    OutcomeUnknown,
    RequestInFlight,
    StorageUnavailable,
)
from kkt_adapter.domain.fiscal import FiscalResult
from kkt_adapter.domain.receipt import Receipt
from kkt_adapter.intake.device_monitor import DeviceMonitor, DeviceSnapshot
from kkt_adapter.intake.journal import JournalFollower
from kkt_adapter.status.metrics import Metrics

log = logging.getLogger(__name__)
T = TypeVar("T")

INTERRUPTED = "interrupted"
CONFLICT = "Idempotency-Key was already used for a different receipt; use a new key for a new sale"
SHIFT_EXPIRED = "shift_expired"
ShiftPolicy = Literal["auto", "refuse"]
#: Retry-After for a storage fault: a short wait, the client resends the same key.
STORAGE_RETRY_AFTER_S = 5
#: How many results the buffer failed to store are kept in memory for their resend (the oldest are dropped first:
#: the periodic reconcile still finds them in the device's journal).
UNSTORED_LIMIT = 1024


@dataclass(frozen=True)
class _Printable:
    """What one accept prints: a receipt, or a correction with its receipt."""

    receipt: Receipt
    request: Receipt | Correction
    doc_type: int

    @staticmethod
    def of(request: Receipt | Correction) -> _Printable:
        if isinstance(request, Correction):
            return _Printable(request.receipt, request, DOC_CORRECTION)
        return _Printable(request, request, DOC_RECEIPT)


@dataclass(frozen=True)
class _Unstored:
    """A print outcome the buffer failed to record for a row it left ``accepted``: the device's result with the
    documents it signed just before (or ``None``: the device printed nothing)."""

    receipt_id: str
    result: FiscalResult | None
    preceding: Sequence[JournalEntry] = ()


@dataclass(frozen=True)
class _Printed:
    """A document the device printed, the documents it signed just before, and the buffer's completion of the row:
    the response body once durable, the storage error that refused it, or ``None`` (not submitted yet)."""

    result: FiscalResult
    preceding: list[JournalEntry]
    completion: str | BaseException | None = None


@dataclass(frozen=True)
class _QueuedPrint:
    """A print waiting for the device's thread, and where its outcome goes (a future of the event loop)."""

    receipt_id: str
    job: _Printable
    key: str
    outcome: asyncio.Future[_Printed]


class BoundToDevice(Exception):
    """The key is being printed on another device (it is bound to it): the router hands the request there."""

    def __init__(self, device: str) -> None:
        super().__init__(f"the key is bound to device {device!r}")
        self.device = device


@dataclass(frozen=True)
class ReconcileReport:
    """What start-up reconciliation found among receipts caught between store and print."""

    recovered: int
    not_printed: int


class Fiscalizer:
    """Accepts receipts: idempotent by key, bounded by capacity, printed exactly once."""

    def __init__(
        self,
        buffer: Buffer,
        driver: FiscalDriver,
        *,
        capacity: int,
        retry_after_s: int,
        stale_after_s: float = 60.0,
        on_printed: Callable[[], None] = lambda: None,
        metrics: Metrics | None = None,
        monitor: DeviceMonitor | None = None,
        shift_policy: ShiftPolicy = "auto",
        name: str = DEFAULT_DEVICE,
    ) -> None:
        #: The device's configured name: the rows it prints are bound to it.
        self.name = name
        self.buffer = buffer
        self.driver = driver
        self.capacity = capacity
        self.retry_after_s = retry_after_s
        self.stale_after_s = stale_after_s
        self.on_printed = on_printed
        self.metrics = metrics or Metrics()
        self.monitor = monitor or DeviceMonitor(buffer.clock)
        self.shift_policy = shift_policy
        self._printed_here = self.metrics.device_printed.labels(name)
        self.journal = JournalFollower(driver)
        self._device_jobs = 0  # queued or running on the device's thread (counted on the event loop)
        self._device_thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="kkt-device")
        self._in_flight: dict[str, tuple[str, asyncio.Future[str]]] = {}
        # Keyed by idempotency key; read by the reconcile on the device's thread too, hence the lock.
        self._unstored: OrderedDict[str, _Unstored] = OrderedDict()
        self._unstored_lock = threading.Lock()
        self._prints: queue.SimpleQueue[_QueuedPrint] = queue.SimpleQueue()
        self._batch_limit = batch_limit(driver)
        #: A run of :meth:`_print_queued` is queued on the device's thread and has not started taking prints yet.
        self._run_pending = False

    def close(self) -> None:
        self._device_thread.shutdown(wait=True)

    async def accept(self, receipt: Receipt | Correction, *, key: str) -> str:
        """Print ``receipt`` (or a correction) once for ``key`` and return the response body; a replay returns the
        same body."""
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

    def _begin(self, job: _Printable, key: str) -> Future[store.AcceptDecision]:
        return self.buffer.submit_begin_accept(
            key=key,
            receipt=job.receipt,
            capacity=self.capacity,
            request=job.request,
            doc_type=job.doc_type,
            device=self.name,
        )

    async def _accept(self, job: _Printable, key: str) -> str:
        left = self._left_unstored(key)
        decision = await self._storage(
            asyncio.wrap_future(self._begin(job, key)), printed=None if left is None else left.result
        )
        if isinstance(decision, store.InFlight):
            if decision.device != self.name:
                raise BoundToDevice(decision.device)  # its outcome is decided on that device only
            decision = await self._take_over(decision, job, key)
        match decision:
            case store.Replay(response_json=response):
                return response
            case store.Conflict():
                raise IdempotencyConflict(CONFLICT)
            case store.Full(unsynced=unsynced, capacity=capacity):
                raise BufferFull(
                    f"Buffer full: {unsynced} receipts are waiting for the OFD (capacity {capacity}); "
                    "nothing was printed, retry later",
                    retry_after_s=self.retry_after_s,
                )
            case store.InFlight():
                raise RequestInFlight("this Idempotency-Key is being printed right now; retry with the same key")
            case store.BoundElsewhere(device=device):
                raise BoundToDevice(device)
            case store.Fresh(receipt_id=receipt_id) | store.Retry(receipt_id=receipt_id):
                self.metrics.accepted.inc()
                return await self._print(receipt_id, job, key)
        raise AssertionError(decision)  # pragma: no cover

    async def _take_over(self, decision: store.InFlight, job: _Printable, key: str) -> store.AcceptDecision:
        """Another process holds the key: finish it from the journal, or retry it if it has been left for long.

        A row this process left ``accepted`` because the buffer failed is settled at once: from the result kept in
        memory, else from the journal; it is not waited for as if another process were printing it.
        """
        left = self._left_unstored(key)
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
            )
            self._forget_unstored(key)
            return store.Replay(decision.receipt_id, response)
        if left is None and self.buffer.clock.time() - decision.since < self.stale_after_s:
            return decision
        reason = "abandoned before printing" if left is None else "the buffer failed before recording the outcome"
        await self._storage(
            asyncio.to_thread(self.buffer.fail_print, decision.receipt_id, code=INTERRUPTED, reason=reason)
        )
        self._forget_unstored(key)
        return await self._storage(asyncio.wrap_future(self._begin(job, key)))

    async def _find_by_key(self, key: str) -> FiscalResult | None:
        """The device's document for ``key``; a device that cannot tell yet (a real KKT's job still running) is
        :class:`DeviceUnavailable`: the row stays ``accepted``, and nothing is printed until it can tell."""
        try:
            return await self._on_device(self.driver.find_by_key, key)
        except Exception as exc:
            self.monitor.observe_error(f"device not answering: {exc}")
            raise OutcomeUnknown(
                f"the device cannot tell yet whether this receipt was printed ({exc}); retry with the same "
                "Idempotency-Key",
            ) from exc

    def _print_on_device(self, job: _Printable, key: str) -> tuple[FiscalResult, list[JournalEntry]]:
        """On the device's thread: print (closing an expired shift first under the ``auto`` policy), and read the
        documents the device signed before this one that the buffer has not seen (a shift opening, a Z report)."""
        try:
            result = self._print_once(job, key)
        except DeviceRefused as refused:
            if refused.code != SHIFT_EXPIRED or self.shift_policy != "auto":
                raise
            state = self.driver.state()
            log.warning("shift expired: closing it (Z report) before the sale", extra={"key": key})
            self.driver.close_shift(idempotency_key=f"auto-z:{state.fn_number}:{state.shift_number}")
            result = self._print_once(job, key)
        return result, self.journal.after_print(result)

    async def _print_batched(self, receipt_id: str, job: _Printable, key: str) -> _Printed:
        """:meth:`_print_on_device` for one receipt, printed in a batch with the others waiting for the device, and
        its row completed in the buffer (the device's thread submits the completions of the whole batch)."""
        loop = asyncio.get_running_loop()
        queued = _QueuedPrint(receipt_id, job, key, loop.create_future())
        self._prints.put(queued)
        self._device_jobs += 1
        try:
            # Put first, then look: a run not started yet takes this print, else a new run is queued.
            if not self._run_pending:
                self._run_pending = True
                try:
                    self._device_thread.submit(self._print_queued, loop)
                except BaseException:
                    self._run_pending = False  # shut down: this print never reaches the device
                    raise
            return await queued.outcome
        finally:
            self._device_jobs -= 1

    def _print_queued(self, loop: asyncio.AbstractEventLoop) -> None:
        """On the device's thread: print every queued receipt, in batches; submit each batch's completions to the
        buffer's writer, and hand the batch's outcomes to the event loop at once when they are durable."""
        self._run_pending = False
        while True:
            batch: list[_QueuedPrint] = []
            while len(batch) < self._batch_limit:
                try:
                    batch.append(self._prints.get_nowait())
                except queue.Empty:
                    break
            if not batch:
                return
            try:
                self._complete_batch(loop, batch, self._print_batch_on_device(batch))
            except Exception as exc:  # never leave a request waiting: its print's outcome is asked of the journal
                log.exception("a print batch failed unexpectedly", extra={"receipts": len(batch)})
                failed: list[_Printed | BaseException] = [exc] * len(batch)
                loop.call_soon_threadsafe(_settle_outcomes, batch, failed)

    def _complete_batch(
        self, loop: asyncio.AbstractEventLoop, batch: list[_QueuedPrint], outcomes: list[_Printed | BaseException]
    ) -> None:
        """Submit the printed rows' completions (group-committed by the writer) and wake the event loop once, when
        the last of them is durable; the outcomes of refusals wait for them, to keep one wake-up per batch."""
        pending: list[tuple[int, Future[str]]] = []
        for index, outcome in enumerate(outcomes):
            if isinstance(outcome, _Printed):
                queued = batch[index]
                try:
                    future = self.buffer.submit_complete_print(
                        queued.receipt_id, outcome.result, preceding=outcome.preceding, device=self.name
                    )
                except STORAGE_ERRORS as exc:
                    outcomes[index] = _Printed(outcome.result, outcome.preceding, exc)
                    continue
                pending.append((index, future))
        if not pending:
            loop.call_soon_threadsafe(_settle_outcomes, batch, outcomes)
            return
        left = [len(pending)]
        lock = threading.Lock()

        def one_done(index: int, future: Future[str]) -> None:
            printed = outcomes[index]
            assert isinstance(printed, _Printed)
            error = future.exception()
            outcomes[index] = _Printed(printed.result, printed.preceding, future.result() if error is None else error)
            with lock:
                left[0] -= 1
                last = left[0] == 0
            if last:
                loop.call_soon_threadsafe(_settle_outcomes, batch, outcomes)

        for index, future in pending:
            future.add_done_callback(lambda done, index=index: one_done(index, done))  # type: ignore[misc]

    def _print_batch_on_device(self, batch: list[_QueuedPrint]) -> list[_Printed | BaseException]:
        jobs = [PrintJob(queued.job.request, queued.key) for queued in batch]
        try:
            printed = print_batch(self.driver, jobs)
        except Exception as exc:  # the batch call itself failed: every outcome is unknown, the journal is asked
            printed = [exc] * len(batch)
        outcomes: list[_Printed | BaseException] = []
        for queued, outcome in zip(batch, printed, strict=True):
            try:
                if isinstance(outcome, DeviceRefused) and outcome.code == SHIFT_EXPIRED and self.shift_policy == "auto":
                    outcomes.append(_Printed(*self._print_on_device(queued.job, queued.key)))  # Z report, then sale
                elif isinstance(outcome, Exception):
                    outcomes.append(outcome)
                else:
                    outcomes.append(_Printed(outcome, self.journal.after_print(outcome)))
            except Exception as exc:
                outcomes.append(exc)
        return outcomes

    def _print_once(self, job: _Printable, key: str) -> FiscalResult:
        if isinstance(job.request, Correction):
            return self.driver.print_correction(job.request, idempotency_key=key)
        return self.driver.print_receipt(job.receipt, idempotency_key=key)

    async def _print(self, receipt_id: str, job: _Printable, key: str) -> str:
        preceding: list[JournalEntry] = []
        completion: str | BaseException | None = None
        try:
            printed = await self._print_batched(receipt_id, job, key)
            result, preceding, completion = printed.result, printed.preceding, printed.completion
        except DeviceRefused as refused:
            if not isinstance(refused, DeviceRejectedReceipt):
                self.monitor.observe_error(refused.reason)
            await self._record_failure(receipt_id, key, code=refused.code, reason=refused.reason)
            log.warning(
                "device refused to print", extra={"receipt_id": receipt_id, "key": key, "reason": refused.reason}
            )
            raise
        except Exception as exc:
            result = await self._outcome_from_journal(receipt_id, key, exc)
        self.monitor.observe_print(result)
        try:
            if isinstance(completion, BaseException):
                raise completion
            if completion is None:  # printed outside a batch (the outcome came from the journal)
                completion = await asyncio.wrap_future(
                    self.buffer.submit_complete_print(receipt_id, result, preceding=preceding, device=self.name)
                )
            response = completion
        except STORAGE_ERRORS as exc:
            self._keep_unstored(key, _Unstored(receipt_id, result, tuple(preceding)))
            log.error(
                "the buffer failed after the device printed: the result is kept for the resend",
                extra={"receipt_id": receipt_id, "key": key, "fd": result.fiscal_doc_number, "error": _describe(exc)},
            )
            raise self._unavailable(exc, printed=result) from exc
        self.metrics.printed.inc()
        self._printed_here.inc()
        log.debug("printed", extra={"receipt_id": receipt_id, "key": key, "fd": result.fiscal_doc_number})
        self.on_printed()
        return response

    async def _outcome_from_journal(self, receipt_id: str, key: str, exc: Exception) -> FiscalResult:
        """After an unexpected driver error, the device's journal says whether the receipt was printed."""
        log.warning("print outcome unknown, asking the device's journal", extra={"receipt_id": receipt_id, "key": key})
        try:
            found = await self._on_device(self.driver.find_by_key, key)
        except Exception as lookup_error:
            self.monitor.observe_error(f"device not answering: {lookup_error}")
            # Leave the row accepted: start-up or a later replay reconciles it. Nothing is printed twice.
            raise OutcomeUnknown(f"device not answering ({lookup_error}); retry with the same Idempotency-Key") from exc
        if found is None:
            reason = f"device error, nothing printed: {exc}"
            self.monitor.observe_error(reason)
            await self._record_failure(receipt_id, key, code="device_error", reason=reason)
            raise DeviceUnavailable("device_error", reason) from exc
        return found

    async def _record_failure(self, receipt_id: str, key: str, *, code: str, reason: str) -> None:
        """Mark the row ``print_failed`` and count the refusal; if the buffer refuses, remember that nothing was
        printed, for the resend."""
        try:
            await asyncio.to_thread(self.buffer.fail_print, receipt_id, code=code, reason=reason)
            self.metrics.print_failed.inc()
            self.metrics.device_refusals.labels(self.name, code).inc()
        except STORAGE_ERRORS as exc:
            self._keep_unstored(key, _Unstored(receipt_id, None))
            raise StorageUnavailable(
                f"the KKT printed nothing ({reason}), and the buffer could not record it ({_describe(exc)}); "
                "retry with the same Idempotency-Key",
                retry_after_s=STORAGE_RETRY_AFTER_S,
            ) from exc

    # -- storage faults ------------------------------------------------------------------------------------------

    async def _storage(self, work: Awaitable[T], *, printed: FiscalResult | None = None) -> T:
        """Await a buffer call; its storage fault becomes :class:`StorageUnavailable` (saying if the KKT printed)."""
        try:
            return await work
        except STORAGE_ERRORS as exc:
            raise self._unavailable(exc, printed=printed) from exc

    def _unavailable(self, exc: BaseException, *, printed: FiscalResult | None) -> StorageUnavailable:
        if printed is None:
            message = (
                f"the buffer cannot store the receipt ({_describe(exc)}); nothing was printed; "
                "retry with the same Idempotency-Key"
            )
        else:
            message = (
                f"the KKT printed this receipt (FD {printed.fiscal_doc_number}), but the buffer could not store it "
                f"({_describe(exc)}); resend the same Idempotency-Key and body to get the receipt once storage is "
                "back: nothing is printed again"
            )
        return StorageUnavailable(message, retry_after_s=STORAGE_RETRY_AFTER_S, printed=printed is not None)

    def _keep_unstored(self, key: str, unstored: _Unstored) -> None:
        with self._unstored_lock:
            self._unstored[key] = unstored
            self._unstored.move_to_end(key)
            while len(self._unstored) > UNSTORED_LIMIT:
                self._unstored.popitem(last=False)

    def _left_unstored(self, key: str) -> _Unstored | None:
        with self._unstored_lock:
            return self._unstored.get(key)

    def _forget_unstored(self, key: str) -> None:
        with self._unstored_lock:
            self._unstored.pop(key, None)

    async def on_device(self, fn: Callable[..., T], *args: object, **kwargs: object) -> T:
        """Run ``fn`` on the device's thread, after the documents already queued there."""
        return await self._on_device(fn, *args, **kwargs)

    async def _on_device(self, fn: Callable[..., T], *args: object, **kwargs: object) -> T:
        loop = asyncio.get_running_loop()
        self._device_jobs += 1
        try:
            return await loop.run_in_executor(self._device_thread, lambda: fn(*args, **kwargs))
        finally:
            self._device_jobs -= 1

    async def device_status(self) -> DeviceSnapshot:
        """The device's state without waiting behind the printer: asked afresh when nothing is printing, else the
        last state the prints left (:class:`DeviceMonitor`)."""
        if self._device_jobs == 0:
            await self.probe_device()
        return self.monitor.snapshot()

    async def probe_device(self) -> None:
        """Ask the device for its state (on its thread) and remember the answer, or that it did not answer."""
        try:
            state = await self._on_device(self.driver.state)
        except Exception as exc:
            self.monitor.observe_error(f"device not answering: {exc}")
        else:
            self.monitor.observe_state(state)

    def reconcile(self, *, older_than: float | None = None, skip: frozenset[str] = frozenset()) -> ReconcileReport:
        """Settle receipts left ``accepted`` from the device's journal: printed → ``pending``, else ``print_failed``.

        At start, before serving, every such row is settled (a killed process left it). Later, only rows untouched
        since ``older_than`` and not being printed here (``skip``): a printed document must reach the OFD even if
        its client never resends.
        """
        recovered = not_printed = 0
        for row in self.buffer.in_flight(older_than=older_than, device=self.name):
            if row.idempotency_key in skip:
                continue
            left = self._left_unstored(row.idempotency_key)
            found: FiscalResult | None
            preceding: Sequence[JournalEntry] = ()
            if left is not None and left.receipt_id == row.receipt_id and left.result is not None:
                found, preceding = left.result, left.preceding
            else:
                try:
                    found = self.driver.find_by_key(row.idempotency_key)
                except Exception as exc:
                    # The device cannot tell yet (a real KKT's job still running or blocked): leave the row
                    # accepted; a later reconcile, or the client's resend, settles it. Nothing is printed meanwhile.
                    log.warning(
                        "print outcome still unknown: the receipt stays accepted",
                        extra={"receipt_id": row.receipt_id, "key": row.idempotency_key, "error": str(exc)},
                    )
                    continue
                if found is not None:
                    preceding = self.journal.before(found, self.buffer.journal_marks().get(found.fn_number))
            if found is not None:
                self.buffer.complete_print(row.receipt_id, found, preceding=preceding, device=self.name)
                self._forget_unstored(row.idempotency_key)
                recovered += 1
            else:
                self.buffer.fail_print(
                    row.receipt_id,
                    code=INTERRUPTED,
                    reason="the adapter stopped before the device printed; resend with the same Idempotency-Key",
                )
                self._forget_unstored(row.idempotency_key)
                not_printed += 1
        if recovered or not_printed:
            log.warning("reconciled interrupted receipts", extra={"recovered": recovered, "not_printed": not_printed})
        return ReconcileReport(recovered=recovered, not_printed=not_printed)

    def catch_up(self) -> int:
        """At start, after :meth:`reconcile`: keep every document of the device's journal that the buffer lacks.

        The device's journal is the legal truth; the buffer is a cache of it plus delivery state. Shift reports
        printed while the adapter was down, and receipts of a lost or restored buffer file, are stored and queued
        for the OFD, in FD order. Returns how many documents were stored.
        """
        fn_number = self.driver.state().fn_number
        stored = 0
        numbers: list[int] = []
        for batch in self.journal.catch_up(fn_number, self.buffer.journal_marks().get(fn_number)):
            inserted = self.buffer.store_entries(batch, device=self.name)
            stored += len(inserted)
            if inserted:
                numbers.extend(self.buffer.fd_numbers_of(inserted))
        if stored:
            low, high = (min(numbers), max(numbers)) if numbers else (0, 0)
            fd_range = f"FD {low}" if low == high else f"FD {low}-{high}"
            log.warning(
                "stored documents from the device's journal that the buffer lacked",
                extra={"stored": stored, "fn_number": fn_number, "fd_range": fd_range},
            )
            self.metrics.restored.inc(stored)
            self.buffer.record_event(
                "restore", f"{stored} documents restored from the device's journal: FN {fn_number}, {fd_range}"
            )
        # Acknowledgements the FN missed (the adapter stopped between the OFD's answer and passing it on).
        first_unsent = self.driver.fn_status().first_unsent_fd_number
        if first_unsent is not None:
            synced = self.buffer.synced_fd_numbers(fn_number, from_fd=first_unsent)
            if synced:
                self.driver.acknowledge(synced)
        return stored

    async def reconcile_stale(self) -> ReconcileReport:
        """:meth:`reconcile` for rows left ``accepted`` longer than ``stale_after_s``, on the device's thread."""
        older_than = self.buffer.clock.time() - self.stale_after_s
        skip = frozenset(self._in_flight)
        return await self._on_device(self.reconcile, older_than=older_than, skip=skip)

    async def drain(self, *, within_s: float) -> None:
        """Wait for the receipts being printed to finish (at shutdown, before the buffer closes)."""
        running = [task for _, task in self._in_flight.values()]
        if running:
            await asyncio.wait(running, timeout=within_s)


def _settle_outcomes(batch: list[_QueuedPrint], outcomes: list[_Printed | BaseException]) -> None:
    """On the event loop: give each waiting request its print's outcome."""
    for queued, outcome in zip(batch, outcomes, strict=True):
        if queued.outcome.done():
            continue
        if isinstance(outcome, BaseException):
            queued.outcome.set_exception(outcome)
        else:
            queued.outcome.set_result(outcome)


def _describe(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"
