"""One device's lane: its driver, its single thread, its print queue and its print batches.

A KKT does one thing at a time, so everything that asks a device anything goes through its lane: the prints of the
receipt path, shifts and reports, the journal follower, status probes, the FN's exchange status, the OFD's
acknowledgements, the recovery at start. Work runs on the lane's one thread, in the order it was queued, never on
the event loop.

Prints are batched: the receipts waiting for the device when its thread comes free are printed in one driver call
(:func:`~kkt_adapter.devices.protocol.print_batch`: the emulated KKT journals them in one transaction, a savepoint
each; a driver without a batch call prints them one by one), and their outcomes reach the waiting requests in one
wake-up of the event loop. Each print's outcome is handled alone, so one refusal fails only its receipt.

The lane knows nothing of the buffer: each print names a :data:`Completion`, which the lane's thread calls for every
document the batch printed (the caller stores it there, group-committed); the batch's outcomes are handed back once
the last completion is durable.

An expired shift under the ``auto`` policy is closed here (a Z report) before the sale is printed again, on the same
thread, so no other document comes between them.
"""

from __future__ import annotations

import asyncio
import logging
import queue
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Literal, TypeVar

from kkt_adapter.devices.journal import JournalFollower
from kkt_adapter.devices.monitor import DeviceMonitor, DeviceSnapshot
from kkt_adapter.devices.protocol import FiscalDriver, PrintJob, batch_limit, print_batch
from kkt_adapter.domain.correction import Correction
from kkt_adapter.domain.device import DEFAULT_DEVICE, JournalEntry
from kkt_adapter.domain.errors import DeviceRefused
from kkt_adapter.domain.fiscal import FiscalResult
from kkt_clock import Clock

log = logging.getLogger(__name__)
T = TypeVar("T")

SHIFT_EXPIRED = "shift_expired"
ShiftPolicy = Literal["auto", "refuse"]

#: Stores a printed document for the print named by its token (the receipt's id): the future resolves to the
#: answer's body once it is durable, or fails with the store's error. Called on the lane's thread.
Completion = Callable[[str, FiscalResult, Sequence[JournalEntry]], "Future[str]"]


@dataclass(frozen=True)
class Printed:
    """A document the device printed, the documents it signed just before, and the completion of its print: the
    answer's body once durable, the error that refused it, or ``None`` (not submitted)."""

    result: FiscalResult
    preceding: list[JournalEntry]
    completion: str | BaseException | None = None


@dataclass(frozen=True)
class _QueuedPrint:
    """A print waiting for the lane's thread, and where its outcome goes (a future of the event loop)."""

    token: str
    job: PrintJob
    complete: Completion
    outcome: asyncio.Future[Printed]


class DeviceLane:
    """A device's one thread and print queue; what the adapter last learnt of the device (:attr:`monitor`)."""

    def __init__(
        self,
        driver: FiscalDriver,
        *,
        clock: Clock,
        name: str = DEFAULT_DEVICE,
        shift_policy: ShiftPolicy = "auto",
    ) -> None:
        #: The device's configured name.
        self.name = name
        self.driver = driver
        self.shift_policy = shift_policy
        self.monitor = DeviceMonitor(clock)
        #: Runs on the lane's thread only (see :mod:`~kkt_adapter.devices.journal`).
        self.journal = JournalFollower(driver)
        self._jobs = 0  # queued or running on the lane's thread (counted on the event loop)
        self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="kkt-device")
        self._prints: queue.SimpleQueue[_QueuedPrint] = queue.SimpleQueue()
        self._batch_limit = batch_limit(driver)
        #: A run of :meth:`_print_queued` is queued on the thread and has not started taking prints yet.
        self._run_pending = False

    def close(self) -> None:
        """Wait for the queued work and stop the thread (the driver is closed by its owner)."""
        self._thread.shutdown(wait=True)

    @property
    def busy(self) -> bool:
        """Something is queued or running on the lane's thread."""
        return self._jobs > 0

    async def run(self, fn: Callable[..., T], *args: object, **kwargs: object) -> T:
        """Run ``fn`` on the lane's thread, after the work already queued there."""
        loop = asyncio.get_running_loop()
        self._jobs += 1
        try:
            return await loop.run_in_executor(self._thread, lambda: fn(*args, **kwargs))
        finally:
            self._jobs -= 1

    async def status(self) -> DeviceSnapshot:
        """The device's state without waiting behind the printer: asked afresh when the lane is idle, else the last
        state the prints left (:class:`~kkt_adapter.devices.monitor.DeviceMonitor`)."""
        if not self.busy:
            await self.probe()
        return self.monitor.snapshot()

    async def probe(self) -> None:
        """Ask the device for its state (on the lane's thread) and remember the answer, or that it did not answer."""
        try:
            state = await self.run(self.driver.state)
        except Exception as exc:
            self.monitor.observe_error(f"device not answering: {exc}")
        else:
            self.monitor.observe_state(state)

    async def print(self, job: PrintJob, *, token: str, complete: Completion) -> Printed:
        """Print ``job`` in a batch with the others waiting for the device; ``complete`` stores what it printed
        (submitted from the lane's thread with the rest of the batch). A refusal or a driver error is raised."""
        loop = asyncio.get_running_loop()
        queued = _QueuedPrint(token, job, complete, loop.create_future())
        self._prints.put(queued)
        self._jobs += 1
        try:
            # Put first, then look: a run not started yet takes this print, else a new run is queued.
            if not self._run_pending:
                self._run_pending = True
                try:
                    self._thread.submit(self._print_queued, loop)
                except BaseException:
                    self._run_pending = False  # shut down: this print never reaches the device
                    raise
            return await queued.outcome
        finally:
            self._jobs -= 1

    def print_now(self, job: PrintJob) -> tuple[FiscalResult, list[JournalEntry]]:
        """On the lane's thread: print one job (closing an expired shift first under the ``auto`` policy), and read
        the documents the device signed before it that the buffer has not seen (a shift opening, a Z report)."""
        try:
            result = self._print_once(job)
        except DeviceRefused as refused:
            if refused.code != SHIFT_EXPIRED or self.shift_policy != "auto":
                raise
            state = self.driver.state()
            log.warning("shift expired: closing it (Z report) before the sale", extra={"key": job.idempotency_key})
            self.driver.close_shift(idempotency_key=f"auto-z:{state.fn_number}:{state.shift_number}")
            result = self._print_once(job)
        return result, self.journal.after_print(result)

    def _print_once(self, job: PrintJob) -> FiscalResult:
        if isinstance(job.request, Correction):
            return self.driver.print_correction(job.request, idempotency_key=job.idempotency_key)
        return self.driver.print_receipt(job.request, idempotency_key=job.idempotency_key)

    def _print_queued(self, loop: asyncio.AbstractEventLoop) -> None:
        """On the lane's thread: print every queued job, in batches; submit each batch's completions, and hand the
        batch's outcomes to the event loop at once when they are durable."""
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
                self._complete_batch(loop, batch, self._print_batch(batch))
            except Exception as exc:  # never leave a request waiting: its print's outcome is asked of the journal
                log.exception("a print batch failed unexpectedly", extra={"receipts": len(batch)})
                failed: list[Printed | BaseException] = [exc] * len(batch)
                loop.call_soon_threadsafe(_settle_outcomes, batch, failed)

    def _print_batch(self, batch: list[_QueuedPrint]) -> list[Printed | BaseException]:
        try:
            printed = print_batch(self.driver, [queued.job for queued in batch])
        except Exception as exc:  # the batch call itself failed: every outcome is unknown, the journal is asked
            printed = [exc] * len(batch)
        outcomes: list[Printed | BaseException] = []
        for queued, outcome in zip(batch, printed, strict=True):
            try:
                if isinstance(outcome, DeviceRefused) and outcome.code == SHIFT_EXPIRED and self.shift_policy == "auto":
                    outcomes.append(Printed(*self.print_now(queued.job)))  # Z report, then the sale
                elif isinstance(outcome, Exception):
                    outcomes.append(outcome)
                else:
                    outcomes.append(Printed(outcome, self.journal.after_print(outcome)))
            except Exception as exc:
                outcomes.append(exc)
        return outcomes

    def _complete_batch(
        self, loop: asyncio.AbstractEventLoop, batch: list[_QueuedPrint], outcomes: list[Printed | BaseException]
    ) -> None:
        """Submit the printed jobs' completions and wake the event loop once, when the last of them is durable; the
        outcomes of refusals wait for them, to keep one wake-up per batch."""
        pending: list[tuple[int, Future[str]]] = []
        for index, outcome in enumerate(outcomes):
            if isinstance(outcome, Printed):
                queued = batch[index]
                pending.append((index, queued.complete(queued.token, outcome.result, outcome.preceding)))
        if not pending:
            loop.call_soon_threadsafe(_settle_outcomes, batch, outcomes)
            return
        left = [len(pending)]
        lock = threading.Lock()

        def one_done(index: int, future: Future[str]) -> None:
            printed = outcomes[index]
            assert isinstance(printed, Printed)
            error = future.exception()
            outcomes[index] = Printed(printed.result, printed.preceding, future.result() if error is None else error)
            with lock:
                left[0] -= 1
                last = left[0] == 0
            if last:
                loop.call_soon_threadsafe(_settle_outcomes, batch, outcomes)

        for index, future in pending:
            future.add_done_callback(lambda done, index=index: one_done(index, done))  # type: ignore[misc]


def _settle_outcomes(batch: list[_QueuedPrint], outcomes: list[Printed | BaseException]) -> None:
    """On the event loop: give each waiting request its print's outcome."""
    for queued, outcome in zip(batch, outcomes, strict=True):
        if queued.outcome.done():
            continue
        if isinstance(outcome, BaseException):
            queued.outcome.set_exception(outcome)
        else:
            queued.outcome.set_result(outcome)
