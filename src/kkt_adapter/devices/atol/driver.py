"""The ATOL KKT as a :class:`~kkt_adapter.devices.protocol.FiscalDriver` (``KKT_DRIVER_TYPE=atol``).

It joins the pure mapping (:mod:`.tasks`, :mod:`.results`, :mod:`.status`, :mod:`.errors`) and a
:class:`~kkt_adapter.devices.atol.transport.Transport`. What makes a print happen once:

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

Every fiscal task carries ``operator`` and every receipt and correction ``taxationType``, as the public JSON schema
of ATOL's tasks requires: the request's, else the configured defaults (:class:`FiscalDefaults`), else, for the
taxation system, the one the KKT was registered with (``getRegistrationInfo``, read once and kept).
"""

from __future__ import annotations

import itertools
import logging
import time
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from kkt_adapter.devices.atol import status, tasks
from kkt_adapter.devices.atol.batch import MAX_BATCH, BatchRun
from kkt_adapter.devices.atol.errors import (
    AtolOutcomeUnknown,
    device_error,
)
from kkt_adapter.devices.atol.jobs import Jobs
from kkt_adapter.devices.atol.results import (
    Identity,
    document_result,
    failure,
    job_status,
    ready_result,
    whole_number,
)
from kkt_adapter.devices.atol.tasks import NAMESPACE, job_uuid
from kkt_adapter.devices.atol.transport import Transport
from kkt_adapter.devices.protocol import PrintJob
from kkt_adapter.domain.correction import Correction
from kkt_adapter.domain.device import DeviceState, FNStatus, JournalEntry, ShiftReport
from kkt_adapter.domain.errors import ShiftConflict
from kkt_adapter.domain.fiscal import FiscalResult
from kkt_adapter.domain.fiscal_defaults import DEFAULTS, FiscalDefaults
from kkt_adapter.domain.receipt import Cashier, Receipt
from kkt_clock import Clock

log = logging.getLogger(__name__)
__all__ = ["NAMESPACE", "AtolDriver", "job_uuid"]

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
    """Prints on an ATOL KKT through ``transport``; ``clock`` and ``sleep`` pace the polling (tests inject both);
    ``defaults`` fill in the cashier and taxation system a request leaves out."""

    def __init__(
        self,
        transport: Transport,
        *,
        clock: Clock,
        sleep: Callable[[float], None] = time.sleep,
        poll_interval: float = 0.1,
        job_timeout: float = 30.0,
        defaults: FiscalDefaults = DEFAULTS,
    ) -> None:
        self.transport = transport
        self.defaults = defaults
        #: The KKT's registered taxation systems (tag 1055 bitmask), read once when first needed.
        self._registered: int | None = None
        self.clock = clock
        self.max_batch = MAX_BATCH
        self.jobs = Jobs(transport, clock=clock, sleep=sleep, poll_interval=poll_interval, job_timeout=job_timeout)

    @property
    def job_timeout(self) -> float:
        """How long a job may stay unfinished before its outcome is unknown."""
        return self.jobs.job_timeout

    # -- printing -----------------------------------------------------------------------------------------------

    def print_receipt(self, receipt: Receipt, *, idempotency_key: str) -> FiscalResult:
        return self._print_document(self._task(receipt), idempotency_key)

    def print_correction(self, correction: Correction, *, idempotency_key: str) -> FiscalResult:
        return self._print_document(self._task(correction), idempotency_key)

    def print_batch(self, jobs: Sequence[PrintJob]) -> list[FiscalResult | Exception]:
        """Print the jobs as :meth:`print_receipt` would each, in few round trips (:mod:`.batch`): every job POSTed,
        then polled in the queue's order; each job's document or its own exception."""
        return BatchRun(self.jobs, jobs, task=lambda job: self._task(job.request)).run()

    def _task(self, request: Receipt | Correction) -> tasks.Task:
        """The task of a receipt or correction, with its cashier and taxation system filled in
        (:class:`~kkt_adapter.domain.errors.FieldRequired` when the KKT's registration cannot choose one)."""
        if isinstance(request, Correction):
            return tasks.correction_task(self.defaults.complete(request, self.registered_taxation))
        return tasks.receipt_task(self.defaults.complete(request, self.registered_taxation))

    def registered_taxation(self) -> int:
        """The taxation systems the KKT was registered with (tag 1055 bitmask): ``getRegistrationInfo``, read once."""
        if self._registered is None:
            (info,) = self.jobs.query([tasks.query_task("getRegistrationInfo")])
            self._registered = status.registered_taxation(info)
        return self._registered

    def open_shift(self, *, idempotency_key: str, cashier: Cashier | None = None) -> FiscalResult:
        task = tasks.open_shift_task(self.defaults.cashier_for(cashier))
        return self._print_document(task, idempotency_key)

    def close_shift(self, *, idempotency_key: str, cashier: Cashier | None = None) -> tuple[FiscalResult, ShiftReport]:
        result = self._print(tasks.close_shift_task(self.defaults.cashier_for(cashier)), idempotency_key)
        return self.jobs.fiscal(result, "closeShift"), status.closed_shift_report(result)

    def print_x_report(self) -> ShiftReport:
        """Print an X report on paper (``reportX``: not a fiscal document, nothing is stored) and return the open
        shift's counters as the device gives them (``getShiftTotals``)."""
        shift, fn = self.jobs.query([tasks.query_task("getShiftStatus"), tasks.query_task("getFnStatus")])
        if not status.shift_report(shift, fn).open:
            raise ShiftConflict("shift_not_open", "no shift is open on the KKT: there is nothing to report")
        _, totals, shift, fn = self.jobs.query(
            [
                tasks.x_report_task(self.defaults.cashier),
                tasks.query_task("getShiftTotals"),
                tasks.query_task("getShiftStatus"),
                tasks.query_task("getFnStatus"),
            ]
        )
        return status.x_report(shift, fn, totals)

    def _print_document(self, task: tasks.Task, key: str) -> FiscalResult:
        return self.jobs.fiscal(self._print(task, key), task["type"])

    def _print(self, task: tasks.Task, key: str) -> Mapping[str, Any]:
        """Run a printing task once for ``key``: the first attempt not refused before, polled to its end."""
        before = self.jobs.fd_before()
        for attempt in itertools.count():
            job = job_uuid(key, attempt)
            ours = self.jobs.submit(job, [task])
            results = self.jobs.await_job(job, before=before, print_job=True)
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

    # -- queries ------------------------------------------------------------------------------------------------

    def find_by_key(self, idempotency_key: str) -> FiscalResult | None:
        for attempt in itertools.count():
            job = job_uuid(idempotency_key, attempt)
            results = self.jobs.read(job)
            if results is None:
                return None
            state = job_status(results)
            if state == "error":
                continue
            if state != "ready":
                raise AtolOutcomeUnknown(f"ATOL job {job} for key {idempotency_key!r} is still {state}")
            result = ready_result(results, 0)
            number = whole_number(result.get("fiscalParams", {}).get("fiscalDocumentNumber"), "fiscalDocumentNumber")
            document = self.jobs.document(number)
            task_type = TASK_OF_DOCUMENT.get((document.doc_type, document.document.get("1054")))
            if task_type is None:
                raise AtolOutcomeUnknown(f"ATOL job {job}: FD {number} is a document of type {document.doc_type}")
            fiscal = self.jobs.fiscal(result, task_type)
            return fiscal
        raise AssertionError("unreachable")  # pragma: no cover

    def journal(self, *, after_fd: int, limit: int) -> list[JournalEntry]:
        (fn,) = self.jobs.query([tasks.query_task("getFnStatus")])
        last = whole_number(fn["fnStatus"]["fiscalDocumentNumber"], "fiscalDocumentNumber")
        numbers = range(after_fd + 1, min(after_fd + limit, last) + 1)
        answers = self.jobs.query([tasks.fn_document_task(n) for n in numbers])
        return [JournalEntry(document_result(answer, known=self.jobs.identity), None) for answer in answers]

    def acknowledge(self, fd_numbers: Sequence[int]) -> None:
        """A real FN learns acknowledgements from the OFD itself: nothing to pass on."""

    def shift_report(self) -> ShiftReport:
        shift, fn = self.jobs.query([tasks.query_task("getShiftStatus"), tasks.query_task("getFnStatus")])
        return status.shift_report(shift, fn)

    def fn_status(self) -> FNStatus:
        info, fn, ofd = self.jobs.query(
            [tasks.query_task(name) for name in ("getFnInfo", "getFnStatus", "ofdExchangeStatus")]
        )
        fn_state = status.fn_status(info, fn, ofd, now=self._now())
        self.jobs.last_fd = fn_state.documents_count
        return fn_state

    def state(self) -> DeviceState:
        names = ("getDeviceStatus", "getShiftStatus", "getFnInfo", "getFnStatus", "ofdExchangeStatus")
        device, shift, info, fn, ofd = self.jobs.query([tasks.query_task(name) for name in names])
        fn_state = status.fn_status(info, fn, ofd, now=self._now())
        self.jobs.last_fd = fn_state.documents_count
        if fn_state.fn_number != self.jobs.identity.fn_number:
            self.jobs.identity = Identity(fn_number=fn_state.fn_number)
        if not self.jobs.identity.kkt_number and fn_state.documents_count > 0:
            document = self.jobs.document(fn_state.documents_count)
            self.jobs.identity = Identity(fn_number=fn_state.fn_number, kkt_number=document.kkt_number)
        return status.device_state(device, shift, fn_state, kkt_number=self.jobs.identity.kkt_number)

    def _now(self) -> datetime:
        return datetime.fromtimestamp(self.clock.time(), UTC)

    def close(self) -> None:
        self.transport.close()
