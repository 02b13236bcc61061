"""The job mechanics of the ATOL driver: queueing a job of JSON tasks under a uuid, reading it back, polling it to
its end, and judging one left ``blocked`` by the FN's document counter.

A :class:`Jobs` is shared by the single print (:mod:`.driver`) and the batch (:mod:`.batch`), so both send a job
exactly the same way: a lost POST is resent under the same uuid (the server refuses a duplicate), a 409 is read
back, and a job still running or blocked at ``job_timeout`` is an unknown outcome, never resent. It also keeps what
the driver learnt of the device from its answers: the FN and KKT numbers and the FN's last document number.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from kkt_adapter.devices.atol import tasks
from kkt_adapter.devices.atol.errors import (
    AtolOutcomeUnknown,
    ReplyLost,
    RequestRefused,
    ServerUnreachable,
    TransportError,
    device_error,
)
from kkt_adapter.devices.atol.results import (
    Identity,
    TaskResult,
    document_result,
    failure,
    fiscal_result,
    job_status,
    ready_result,
    whole_number,
)
from kkt_adapter.devices.atol.transport import Transport
from kkt_adapter.domain.errors import DeviceRefused, DeviceRejectedReceipt, DeviceUnavailable
from kkt_adapter.domain.fiscal import FiscalResult
from kkt_clock import Clock

log = logging.getLogger(__name__)

FIRST_POLL_DELAY_S = 0.001
POST_TRIES = 3


class Jobs:
    """Runs jobs on one ATOL web server through ``transport``; ``clock`` and ``sleep`` pace the polling."""

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
        self.identity = Identity()
        self.last_fd: int | None = None  # the FN's last document number as this driver last saw it

    def fiscal(self, result: Mapping[str, Any], task_type: str) -> FiscalResult:
        fiscal = fiscal_result(result, task_type=task_type, known=self.identity)
        self.learn(fiscal)
        return fiscal

    def learn(self, fiscal: FiscalResult) -> None:
        self.identity = Identity(fn_number=fiscal.fn_number, kkt_number=fiscal.kkt_number or self.identity.kkt_number)
        self.last_fd = max(self.last_fd or 0, fiscal.fiscal_doc_number)

    def fd_before(self) -> int | None:
        """The FN's document number before a print, to judge a job left blocked (read once, then followed)."""
        if self.last_fd is None:
            try:
                (fn,) = self.query([tasks.query_task("getFnStatus")])
                self.last_fd = whole_number(fn["fnStatus"]["fiscalDocumentNumber"], "fiscalDocumentNumber")
            except Exception as exc:  # the print itself reports a device that does not answer
                log.debug("FN document number not read before the print", extra={"error": repr(exc)})
        return self.last_fd

    def submit(self, job: str, job_tasks: Sequence[tasks.Task]) -> bool:
        """Queue ``job``; ``True`` if this call created it, ``False`` if it existed before (an earlier call's)."""
        return self.submit_reading(job, job_tasks)[0]

    def submit_reading(self, job: str, job_tasks: Sequence[tasks.Task]) -> tuple[bool, tuple[TaskResult, ...] | None]:
        """:meth:`submit`, with the job's results when the server knew the uuid (409: the job was read, so a
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
                raise refusal(exc) from exc
            if submitted.created:
                if submitted.blocked:
                    log.warning("ATOL queue is blocked by an earlier job: this one waits behind it", extra={"job": job})
                return True, None
            existing = self.read(job)
            if existing is not None:
                return lost is not None, existing  # a 409 after our own lost POST is our job
            if lost is not None:  # our lost POST may have queued it (the older server hides jobs until done)
                raise AtolOutcomeUnknown(f"ATOL job {job}: POST lost ({lost}), then 409 for a job not readable")
            reason = submitted.error_description or "device not connected (HTTP 409)"
            raise DeviceUnavailable("offline", f"ATOL web server refused the job: {reason}")
        raise AtolOutcomeUnknown(f"ATOL job {job}: no answer to {POST_TRIES} POSTs ({lost})")

    def read(self, job: str) -> tuple[TaskResult, ...] | None:
        """A job's results, asking again after a lost reply."""
        for attempt in range(POST_TRIES):
            try:
                return self.transport.job(job)
            except ReplyLost:
                if attempt == POST_TRIES - 1:
                    raise
        raise AssertionError("unreachable")  # pragma: no cover

    def await_job(self, job: str, *, before: int | None, print_job: bool) -> tuple[TaskResult, ...]:
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
        raise self.unknown(job, last, block, before if print_job else None)

    def unknown(self, job: str, last: str, block: TaskResult | None, before: int | None) -> AtolOutcomeUnknown:
        self.last_fd = None  # read afresh before the next print
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

    def query(self, job_tasks: Sequence[tasks.Task]) -> list[Mapping[str, Any]]:
        """Run status tasks (as few jobs as the transport allows) and return each task's ready result."""
        answers: list[Mapping[str, Any]] = []
        try:
            size = max(1, self.transport.max_tasks)  # may ask the server its dialect
        except (ServerUnreachable, RequestRefused) as exc:
            raise refusal(exc) from exc
        for start in range(0, len(job_tasks), size):
            chunk = job_tasks[start : start + size]
            job = str(uuid.uuid4())
            self.submit(job, chunk)
            results = self.await_job(job, before=None, print_job=False)
            if job_status(results) == "error":
                failed = failure(results)
                assert failed is not None
                raise device_error(failed.error_code or 0, failed.error_description)
            answers.extend(ready_result(results, index) for index in range(len(chunk)))
        return answers

    def document(self, fd_number: int) -> FiscalResult:
        (answer,) = self.query([tasks.fn_document_task(fd_number)])
        return document_result(answer, known=self.identity)


def refusal(exc: ServerUnreachable | RequestRefused) -> DeviceRefused:
    """A job the server did not queue: nothing was printed."""
    if isinstance(exc, ServerUnreachable):
        return DeviceUnavailable("offline", str(exc))
    if exc.status == 400:
        return DeviceRejectedReceipt("invalid_task", f"ATOL web server refused the task: {exc.description or exc}")
    return DeviceUnavailable("offline", f"ATOL web server refused the job: {exc}")
