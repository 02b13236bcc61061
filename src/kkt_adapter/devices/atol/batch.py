"""A batch of prints on an ATOL KKT in few round trips: every job POSTed back to back, then polled in queue order.

Each job is the one a single print would send: the same task, the same uuid ``uuid5(key:attempt)``, the same 409 path
after a lost reply, the next attempt after a definite refusal. What the batch saves is the waiting: the web server
runs its queue in order, so while the earliest unfinished job runs the later ones have not finished either. Only
that job is polled (at once, then after a delay doubling up to ``poll_interval``); once it ends, the next is read at
once, which usually finds it done too, so a batch of N costs about N POSTs and N GETs.

Each job's outcome is the one its single print would have: its document, a definite refusal (that job alone, the
queue goes on), or outcome unknown. The earliest unfinished job still blocked or running at ``job_timeout`` is
unknown (never resent); the jobs behind it have not run: each is DELETEd, and one the server deletes (200) will
never run, a definite "not printed"; any other is unknown too.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from kkt_adapter.devices.atol import tasks
from kkt_adapter.devices.atol.errors import AtolOutcomeUnknown, TransportError, device_error
from kkt_adapter.devices.atol.jobs import Jobs
from kkt_adapter.devices.atol.results import TaskResult, failure, job_status, ready_result
from kkt_adapter.devices.protocol import PrintJob
from kkt_adapter.domain.correction import Correction
from kkt_adapter.domain.errors import DeviceUnavailable
from kkt_adapter.domain.fiscal import FiscalResult

#: Jobs per batch: what the adapter hands the driver at once (the server queues them all; a blocked one stops the
#: rest, which are then deleted).
MAX_BATCH = 32
FIRST_POLL_DELAY_S = 0.001
#: The wait before the first GET of a batch: the jobs just POSTed are rarely done at once.
FIRST_BATCH_DELAY_S = 0.002
FINISHED = ("ready", "error")


@dataclass
class _Slot:
    """One job of the batch: its task and key, the attempt being printed, whether this run created its job."""

    index: int
    task: tasks.Task
    key: str
    attempt: int = 0
    uuid: str = ""
    ours: bool = False


class BatchRun:
    """One :meth:`~kkt_adapter.devices.atol.driver.AtolDriver.print_batch` call: the jobs' slots and their outcomes,
    each job sent through ``runner`` exactly as a single print sends it (``task`` writes each job's task: the driver's,
    with its cashier and taxation system filled in; a job it cannot write is that job's exception, not sent)."""

    def __init__(
        self, runner: Jobs, jobs: Sequence[PrintJob], *, task: Callable[[PrintJob], tasks.Task] | None = None
    ) -> None:
        make_task = task or _task
        self.runner = runner
        self.slots: list[_Slot] = []
        self.outcomes: list[FiscalResult | Exception | None] = [None] * len(jobs)
        self.queue: deque[_Slot] = deque()
        for index, job in enumerate(jobs):
            try:
                self.slots.append(_Slot(index, make_task(job), job.idempotency_key))
            except Exception as exc:  # this job alone cannot be written as a task: it is not sent
                self.outcomes[index] = exc

    def run(self) -> list[FiscalResult | Exception]:
        """Post every job, poll them in order; each job's document or exception."""
        self.runner.fd_before()
        try:
            for slot in self.slots:
                self._post(slot)
            self._poll()
        except Exception as exc:  # a failure of the run itself: every job not settled is unknown
            for slot in self.queue:
                self._settle(slot, exc)
        return [
            outcome if outcome is not None else AtolOutcomeUnknown("the ATOL batch stopped before this job was settled")
            for outcome in self.outcomes
        ]

    def _settle(self, slot: _Slot, outcome: FiscalResult | Exception) -> None:
        if self.outcomes[slot.index] is None:
            self.outcomes[slot.index] = outcome

    def _post(self, slot: _Slot) -> None:
        """Queue the slot's job under its current attempt: settled at once if the server had it finished."""
        slot.uuid = tasks.job_uuid(slot.key, slot.attempt)
        try:
            slot.ours, existing = self.runner.submit_reading(slot.uuid, [slot.task])
        except Exception as exc:  # refused (nothing queued) or unknown, as for a single print
            self._settle(slot, exc)
            return
        if existing is not None and job_status(existing) in FINISHED:
            self._finish(slot, existing)
        else:
            self.queue.append(slot)

    def _finish(self, slot: _Slot, results: tuple[TaskResult, ...]) -> None:
        """A finished job: its document; its refusal if ours; an earlier attempt's refusal: the next attempt."""
        try:
            if job_status(results) == "ready":
                self._settle(slot, self.runner.fiscal(ready_result(results, 0), slot.task["type"]))
                return
            failed = failure(results)
            assert failed is not None, "a job in error has a failed task"
        except Exception as exc:  # an answer not understood: unknown, resolved by the key
            self._settle(slot, exc)
            return
        if slot.ours:
            self._settle(slot, device_error(failed.error_code or 0, failed.error_description))
            return
        slot.attempt += 1  # refused before (nothing printed): this print is a retry, queued behind the batch
        self._post(slot)

    def _poll(self) -> None:
        """Poll the earliest unfinished job until it ends, then the next; at the timeout, give up on the rest."""
        clock, runner = self.runner.clock, self.runner
        deadline = clock.monotonic() + runner.job_timeout
        delay = FIRST_POLL_DELAY_S
        last, block = "not found", None
        if self.queue and FIRST_BATCH_DELAY_S:
            runner.sleep(FIRST_BATCH_DELAY_S)
        while self.queue:
            head = self.queue[0]
            try:
                results = runner.transport.job(head.uuid)
            except TransportError as exc:
                last = f"not read ({exc})"
            else:
                if results is not None:
                    last = job_status(results)
                    if last in FINISHED:
                        self.queue.popleft()
                        self._finish(head, results)
                        deadline = clock.monotonic() + runner.job_timeout
                        delay, last, block = FIRST_POLL_DELAY_S, "not found", None
                        continue  # the next job has likely finished too: read it at once
                    if last == "blocked":
                        block = next((r for r in results if r.status == "blocked"), None)
            if clock.monotonic() >= deadline:
                self.queue.popleft()
                self._settle(head, runner.unknown(head.uuid, last, block, runner.last_fd))
                self._withdraw(head.uuid)
                return
            runner.sleep(delay)
            delay = min(delay * 2, runner.poll_interval)

    def _withdraw(self, stuck: str) -> None:
        """The jobs behind ``stuck`` have not run: delete each (it will never run), or read it once."""
        while self.queue:
            slot = self.queue.popleft()
            try:
                deleted = self.runner.transport.cancel(slot.uuid)
                results = None if deleted else self.runner.read(slot.uuid)
            except Exception as exc:
                self._settle(slot, AtolOutcomeUnknown(f"ATOL job {slot.uuid}, queued behind {stuck}: {exc}"))
                continue
            if deleted:
                self._settle(
                    slot,
                    DeviceUnavailable(
                        "queue_blocked",
                        f"ATOL job {slot.uuid} was deleted before it ran, nothing printed: the queue is stuck on job "
                        f"{stuck}; retry with the same Idempotency-Key",
                    ),
                )
            elif results is not None and job_status(results) in FINISHED:
                if job_status(results) == "error" and not slot.ours:
                    self._settle(slot, DeviceUnavailable("queue_blocked", f"ATOL job {slot.uuid}: nothing printed"))
                else:
                    self._finish(slot, results)
            else:
                state = "not found" if results is None else job_status(results)
                self._settle(
                    slot,
                    AtolOutcomeUnknown(f"ATOL job {slot.uuid} is {state} behind job {stuck}, not deleted: unknown"),
                )


def _task(job: PrintJob) -> tasks.Task:
    if isinstance(job.request, Correction):
        return tasks.correction_task(job.request)
    return tasks.receipt_task(job.request)
