"""The ATOL KKT as a :class:`~kkt_adapter.intake.drivers.base.FiscalDriver` (``KKT_DRIVER_TYPE=atol``).

It joins the pure mapping (:mod:`.tasks`, :mod:`.results`, :mod:`.status`, :mod:`.errors`) and a
:class:`~kkt_adapter.intake.drivers.atol.transport.Transport`. What makes a print happen once:

- Each print's job uuid is ``uuid5(NAMESPACE, f"{key}:{attempt}")``: stable across restarts, so a resend after a
  lost reply or a crash finds the existing job (409) and reads its result instead of printing again. A job that
  ended ``error`` printed nothing and is final for its uuid: a later print of the same key uses the next attempt.
- A job is polled at once, then after 1 ms, doubling up to ``poll_interval``; every task result's ``status`` is
  checked. ``blocked`` (outcome unknown, the queue stopped) is polled through, never resent: the server resolves it
  by the FN's document counter. Still blocked at ``job_timeout``, the FN's document number is read against its value
  before the job and :class:`AtolOutcomeUnknown` says which; :meth:`AtolDriver.find_by_key` settles it later.
- :meth:`AtolDriver.print_batch` sends each job of a batch exactly as a single print would, all POSTed first, then
  polled in the queue's order (:mod:`.batch`).
- :meth:`AtolDriver.find_by_key` reads attempts 0, 1, ... until an unknown uuid: a ``ready`` job is the document, a
  job still running or blocked raises (never ``None``), and only all-``error`` means nothing was printed.
"""

from __future__ import annotations

import itertools
import logging
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from kkt_adapter.domain.correction import Correction
from kkt_adapter.domain.device import DeviceState, FNStatus, JournalEntry, ShiftReport
from kkt_adapter.domain.errors import DeviceRefused, DeviceRejectedReceipt, DeviceUnavailable
from kkt_adapter.domain.fiscal import FiscalResult
from kkt_adapter.domain.receipt import Receipt
from kkt_adapter.intake.drivers.atol import status, tasks
from kkt_adapter.intake.drivers.atol.batch import MAX_BATCH, BatchRun
from kkt_adapter.intake.drivers.atol.errors import (
    AtolOutcomeUnknown,
    ReplyLost,
    RequestRefused,
    ServerUnreachable,
    TransportError,
    device_error,
)
from kkt_adapter.intake.drivers.atol.results import (
    Identity,
    TaskResult,
    document_result,
    failure,
    fiscal_result,
    job_status,
    ready_result,
    whole_number,
)
from kkt_adapter.intake.drivers.atol.tasks import NAMESPACE, job_uuid
from kkt_adapter.intake.drivers.atol.transport import Transport
from kkt_adapter.intake.drivers.base import PrintJob
from kkt_clock import Clock

log = logging.getLogger(__name__)
__all__ = ["NAMESPACE", "AtolDriver", "job_uuid"]

FIRST_POLL_DELAY_S = 0.001
POST_TRIES = 3
#: The task type that printed a document, by its type (tag 1000) and operation (tag 1054).
TASK_OF_DOCUMENT = {
    (3, 1): "sell",
    (3, 2): "sellReturn",
    (31, 1): "sellCorrection",
    (31, 2): "sellReturnCorrection",
    (2, None): "openShift",
    (5, None): "closeShift",
}


class AtolDriver:
    """Prints on an ATOL KKT through ``transport``; ``clock`` and ``sleep`` pace the polling (tests inject both)."""

    def __init__(
        self,
        transport: Transport,
        *,
        clock: Clock,
        sleep: Callable[[float], None] = time.sleep,
        poll_interval: float = 0.1,
        job_timeout: float = 30.0,
    ) -> None:
        self.transport = transport
        self.clock = clock
        self.sleep = sleep
        self.poll_interval = poll_interval
        self.job_timeout = job_timeout
        self.max_batch = MAX_BATCH
        self._identity = Identity()
        self._last_fd: int | None = None  # the FN's last document number as this driver last saw it

    # -- printing -----------------------------------------------------------------------------------------------

    def print_receipt(self, receipt: Receipt, *, idempotency_key: str) -> FiscalResult:
        return self._print_document(tasks.receipt_task(receipt), idempotency_key)

    def print_correction(self, correction: Correction, *, idempotency_key: str) -> FiscalResult:
        return self._print_document(tasks.correction_task(correction), idempotency_key)

    def print_batch(self, jobs: Sequence[PrintJob]) -> list[FiscalResult | Exception]:
        """Print the jobs as :meth:`print_receipt` would each, in few round trips (:mod:`.batch`): every job POSTed,
        then polled in the queue's order; each job's document or its own exception."""
        return BatchRun(self, jobs).run()

    def open_shift(self, *, idempotency_key: str) -> FiscalResult:
        return self._print_document(tasks.open_shift_task(), idempotency_key)

    def close_shift(self, *, idempotency_key: str) -> tuple[FiscalResult, ShiftReport]:
        result = self._print(tasks.close_shift_task(), idempotency_key)
        return self._fiscal(result, "closeShift"), status.closed_shift_report(result)

    def print_x_report(self) -> None:
        """Print an X report on paper (``reportX``): not a fiscal document, nothing is stored."""
        self._query([tasks.x_report_task()])

    def _print_document(self, task: tasks.Task, key: str) -> FiscalResult:
        return self._fiscal(self._print(task, key), task["type"])

    def _fiscal(self, result: Mapping[str, Any], task_type: str) -> FiscalResult:
        fiscal = fiscal_result(result, task_type=task_type, known=self._identity)
        self._learn(fiscal)
        return fiscal

    def _learn(self, fiscal: FiscalResult) -> None:
        self._identity = Identity(fn_number=fiscal.fn_number, kkt_number=fiscal.kkt_number or self._identity.kkt_number)
        self._last_fd = max(self._last_fd or 0, fiscal.fiscal_doc_number)

    def _print(self, task: tasks.Task, key: str) -> Mapping[str, Any]:
        """Run a printing task once for ``key``: the first attempt not refused before, polled to its end."""
        before = self._fd_before()
        for attempt in itertools.count():
            job = job_uuid(key, attempt)
            ours = self._submit(job, [task])
            results = self._await(job, before=before, print_job=True)
            if job_status(results) == "ready":
                return ready_result(results, 0)
            failed = failure(results)
            assert failed is not None, "a job in error has a failed task"
            if ours:
                log.warning(
                    "the KKT refused the document",
                    extra={"key": key, "job": job, "attempt": attempt, "code": failed.error_code},
                )
                raise device_error(failed.error_code or 0, failed.error_description)
            # An earlier attempt was refused (nothing printed): this print is a retry, under the next attempt.
        raise AssertionError("unreachable")  # pragma: no cover

    def _fd_before(self) -> int | None:
        """The FN's document number before a print, to judge a job left blocked (read once, then followed)."""
        if self._last_fd is None:
            try:
                (fn,) = self._query([tasks.query_task("getFnStatus")])
                self._last_fd = whole_number(fn["fnStatus"]["fiscalDocumentNumber"], "fiscalDocumentNumber")
            except Exception as exc:  # the print itself reports a device that does not answer
                log.debug("FN document number not read before the print", extra={"error": repr(exc)})
        return self._last_fd

    def _submit(self, job: str, job_tasks: Sequence[tasks.Task]) -> bool:
        """Queue ``job``; ``True`` if this call created it, ``False`` if it existed before (an earlier call's)."""
        return self._submit_reading(job, job_tasks)[0]

    def _submit_reading(self, job: str, job_tasks: Sequence[tasks.Task]) -> tuple[bool, tuple[TaskResult, ...] | None]:
        """:meth:`_submit`, with the job's results when the server knew the uuid (409: the job was read, so a
        finished one needs no poll), else ``None``."""
        lost: ReplyLost | None = None
        for _ in range(POST_TRIES):
            try:
                submitted = self.transport.submit(job, job_tasks)
            except ReplyLost as exc:
                lost = exc  # resend the same uuid: the server refuses a duplicate, so nothing is queued twice
                log.warning("ATOL job's POST lost, resending the same uuid", extra={"job": job, "error": str(exc)})
                continue
            except (ServerUnreachable, RequestRefused) as exc:
                if lost is not None:
                    raise AtolOutcomeUnknown(f"ATOL job {job}: POST lost ({lost}), then {exc}") from exc
                raise _refusal(exc) from exc
            if submitted.created:
                if submitted.blocked:
                    log.warning("ATOL queue is blocked by an earlier job: this one waits behind it", extra={"job": job})
                return True, None
            existing = self._read(job)
            if existing is not None:
                return lost is not None, existing  # a 409 after our own lost POST is our job
            if lost is not None:  # our lost POST may have queued it (the older server hides jobs until done)
                raise AtolOutcomeUnknown(f"ATOL job {job}: POST lost ({lost}), then 409 for a job not readable")
            reason = submitted.error_description or "device not connected (HTTP 409)"
            raise DeviceUnavailable("offline", f"ATOL web server refused the job: {reason}")
        raise AtolOutcomeUnknown(f"ATOL job {job}: no answer to {POST_TRIES} POSTs ({lost})")

    def _read(self, job: str) -> tuple[TaskResult, ...] | None:
        """A job's results, asking again after a lost reply."""
        for attempt in range(POST_TRIES):
            try:
                return self.transport.job(job)
            except ReplyLost:
                if attempt == POST_TRIES - 1:
                    raise
        raise AssertionError("unreachable")  # pragma: no cover

    def _await(self, job: str, *, before: int | None, print_job: bool) -> tuple[TaskResult, ...]:
        """Poll ``job`` until it is ``ready`` or ``error``: at once, then after a short delay doubling up to the poll
        interval; ``blocked`` and lost replies are polled through until ``job_timeout``."""
        deadline = self.clock.monotonic() + self.job_timeout
        delay = FIRST_POLL_DELAY_S
        last = "not found"
        block: TaskResult | None = None
        while True:
            try:
                results = self.transport.job(job)
            except TransportError as exc:
                last = f"not read ({exc})"
            else:
                if results is not None:
                    last = job_status(results)
                    if last in ("ready", "error"):
                        return results
                    if last == "blocked":
                        block = next((r for r in results if r.status == "blocked"), None)
            if self.clock.monotonic() >= deadline:
                break
            self.sleep(delay)
            delay = min(delay * 2, self.poll_interval)
        raise self._unknown(job, last, block, before if print_job else None)

    def _unknown(self, job: str, last: str, block: TaskResult | None, before: int | None) -> AtolOutcomeUnknown:
        self._last_fd = None  # read afresh before the next print
        if last != "blocked":
            return AtolOutcomeUnknown(f"ATOL job {job} is still {last} after {self.job_timeout:g} s: outcome unknown")
        reason = ""
        if block is not None and block.error_code is not None:
            reason = f" ({block.error_description or 'no text'}, ATOL error {block.error_code})"
        try:
            now = self.transport.fn_document_number()
        except TransportError as exc:
            now, detail = None, f"the FN's document number could not be read ({exc})"
        else:
            detail = "the FN's document number cannot be read outside the queue in this dialect"
        if now is not None:
            if before is None:
                detail = f"the FN's last document is {now}; its number before the job was not known"
            elif now > before:
                detail = f"the FN's document number grew from {before} to {now}: the document was made"
            else:
                detail = f"the FN's document number is still {before}: the document was not made"
        return AtolOutcomeUnknown(
            f"ATOL job {job} still blocked after {self.job_timeout:g} s{reason}; {detail}. It is not sent again: "
            "the job is resolved by its key once the server unblocks it"
        )

    # -- queries ------------------------------------------------------------------------------------------------

    def _query(self, job_tasks: Sequence[tasks.Task]) -> list[Mapping[str, Any]]:
        """Run status tasks (as few jobs as the transport allows) and return each task's ready result."""
        answers: list[Mapping[str, Any]] = []
        try:
            size = max(1, self.transport.max_tasks)  # may ask the server its dialect
        except (ServerUnreachable, RequestRefused) as exc:
            raise _refusal(exc) from exc
        for start in range(0, len(job_tasks), size):
            chunk = job_tasks[start : start + size]
            job = str(uuid.uuid4())
            self._submit(job, chunk)
            results = self._await(job, before=None, print_job=False)
            if job_status(results) == "error":
                failed = failure(results)
                assert failed is not None
                raise device_error(failed.error_code or 0, failed.error_description)
            answers.extend(ready_result(results, index) for index in range(len(chunk)))
        return answers

    def find_by_key(self, idempotency_key: str) -> FiscalResult | None:
        for attempt in itertools.count():
            job = job_uuid(idempotency_key, attempt)
            results = self._read(job)
            if results is None:
                return None
            state = job_status(results)
            if state == "error":
                continue
            if state != "ready":
                raise AtolOutcomeUnknown(f"ATOL job {job} for key {idempotency_key!r} is still {state}")
            result = ready_result(results, 0)
            number = whole_number(result.get("fiscalParams", {}).get("fiscalDocumentNumber"), "fiscalDocumentNumber")
            document = self._document(number)
            task_type = TASK_OF_DOCUMENT.get((document.doc_type, document.document.get("1054")))
            if task_type is None:
                raise AtolOutcomeUnknown(f"ATOL job {job}: FD {number} is a document of type {document.doc_type}")
            fiscal = self._fiscal(result, task_type)
            return fiscal
        raise AssertionError("unreachable")  # pragma: no cover

    def _document(self, fd_number: int) -> FiscalResult:
        (answer,) = self._query([tasks.fn_document_task(fd_number)])
        return document_result(answer, known=self._identity)

    def journal(self, *, after_fd: int, limit: int) -> list[JournalEntry]:
        (fn,) = self._query([tasks.query_task("getFnStatus")])
        last = whole_number(fn["fnStatus"]["fiscalDocumentNumber"], "fiscalDocumentNumber")
        numbers = range(after_fd + 1, min(after_fd + limit, last) + 1)
        answers = self._query([tasks.fn_document_task(n) for n in numbers])
        return [JournalEntry(document_result(answer, known=self._identity), None) for answer in answers]

    def acknowledge(self, fd_numbers: Sequence[int]) -> None:
        """A real FN learns acknowledgements from the OFD itself: nothing to pass on."""

    def shift_report(self) -> ShiftReport:
        shift, fn = self._query([tasks.query_task("getShiftStatus"), tasks.query_task("getFnStatus")])
        return status.shift_report(shift, fn)

    def fn_status(self) -> FNStatus:
        info, fn, ofd = self._query(
            [tasks.query_task(name) for name in ("getFnInfo", "getFnStatus", "ofdExchangeStatus")]
        )
        fn_state = status.fn_status(info, fn, ofd, now=self._now())
        self._last_fd = fn_state.documents_count
        return fn_state

    def state(self) -> DeviceState:
        names = ("getDeviceStatus", "getShiftStatus", "getFnInfo", "getFnStatus", "ofdExchangeStatus")
        device, shift, info, fn, ofd = self._query([tasks.query_task(name) for name in names])
        fn_state = status.fn_status(info, fn, ofd, now=self._now())
        self._last_fd = fn_state.documents_count
        if fn_state.fn_number != self._identity.fn_number:
            self._identity = Identity(fn_number=fn_state.fn_number)
        if not self._identity.kkt_number and fn_state.documents_count > 0:
            document = self._document(fn_state.documents_count)
            self._identity = Identity(fn_number=fn_state.fn_number, kkt_number=document.kkt_number)
        return status.device_state(device, shift, fn_state, kkt_number=self._identity.kkt_number)

    def _now(self) -> datetime:
        return datetime.fromtimestamp(self.clock.time(), UTC)

    def close(self) -> None:
        self.transport.close()


def _refusal(exc: ServerUnreachable | RequestRefused) -> DeviceRefused:
    """A job the server did not queue: nothing was printed."""
    if isinstance(exc, ServerUnreachable):
        return DeviceUnavailable("offline", str(exc))
    if exc.status == 400:
        return DeviceRejectedReceipt("invalid_task", f"ATOL web server refused the task: {exc.description or exc}")
    return DeviceUnavailable("offline", f"ATOL web server refused the job: {exc}")
