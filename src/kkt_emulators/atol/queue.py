"""The job queue of the emulated Web Requests server: jobs run in order on one worker thread against one device.

A job's tasks run one after another; a failed task interrupts the rest. A printing task met by an armed block goes
``blocked`` (its document made or not, per the fault) and the queue stops: later jobs wait. The block ends after
the programmed number of GETs of the job, or when the faults are cleared; then the server resolves the job itself,
as the protocol documents it, by the FN's document counter: grown since before the task → ``ready`` with that
document's result; the same → ``error`` with the block reason's code. The worker then goes on.

Jobs are kept in memory (the newest ``keep`` finished ones) for GETs by uuid; a server restart forgets them.
"""

from __future__ import annotations

import contextlib
import threading
from collections import OrderedDict, deque
from dataclasses import dataclass
from typing import Any

from kkt_emulators.atol import results
from kkt_emulators.atol.errors import DESCRIPTIONS, INTERNAL, NO_CONNECTION, OK, TaskError
from kkt_emulators.atol.faults import AtolFaults
from kkt_emulators.atol.jobs import Job, TaskSlot, TaskState
from kkt_emulators.atol.tasks import PRINTING, TaskRunner, task_type
from kkt_emulators.device.errors import DeviceError

DEFAULT_KEEP = 100_000
BLOCK_REASON = TaskError(NO_CONNECTION, "связь с ККТ потеряна во время печати, результат неизвестен")


class DuplicateJob(Exception):
    """A job with this uuid exists already."""


@dataclass
class ActiveBlock:
    """The job the queue is blocked on: which task, the FN counter before it, and GETs left before it ends."""

    job: Job
    index: int
    before: int
    polls_left: int  # 0: until cleared


class JobQueue:
    """Jobs by uuid, executed in order by one worker thread; every method is thread-safe."""

    def __init__(self, runner: TaskRunner, faults: AtolFaults, *, keep: int = DEFAULT_KEEP) -> None:
        self._runner = runner
        self._faults = faults
        self._keep = keep
        self._cond = threading.Condition()
        self._jobs: OrderedDict[str, Job] = OrderedDict()
        self._pending: deque[Job] = deque()
        self._block: ActiveBlock | None = None
        self._running: Job | None = None
        self._seq = 0
        self._stopped = False
        self._thread: threading.Thread | None = None
        faults.on_clear(self.end_block)

    # Lifecycle ---------------------------------------------------------------------------------------------------

    def start(self) -> None:
        """Start the worker thread."""
        self._thread = threading.Thread(target=self._work, name="atol-queue-worker", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        """Stop the worker after its current task (a blocked job stays blocked)."""
        with self._cond:
            self._stopped = True
            self._cond.notify_all()
        if self._thread is not None:
            self._thread.join(timeout)

    def reset(self) -> None:
        """Forget every finished and waiting job (a running one completes unseen)."""
        with self._cond:
            self._jobs.clear()
            self._pending.clear()

    # Clients -----------------------------------------------------------------------------------------------------

    def submit(self, uuid: str, tasks: list[Any], body: dict[str, Any]) -> tuple[Job, int]:
        """Queue a job; its position (jobs not finished, itself included). :class:`DuplicateJob` for a known uuid."""
        with self._cond:
            if uuid in self._jobs:
                raise DuplicateJob(uuid)
            hide = self._faults.take_in_progress()  # the faults' own lock is never held while calling the queue
            self._seq += 1
            job = Job(uuid, self._seq, [TaskSlot(task) for task in tasks], body, hide_polls=hide)
            self._jobs[uuid] = job
            self._pending.append(job)
            self._forget_old()
            self._cond.notify_all()
            return job, len(self._pending) + (self._running is not None)

    def poll(self, uuid: str, *, legacy: bool = False) -> dict[str, Any] | None:
        """The job's answer to a GET, or None if unknown; counts the GET against ``inProgress`` and block faults."""
        with self._cond:
            job = self._jobs.get(uuid)
            if job is None:
                return None
            masked = job.finished and job.hide_polls > 0
            if masked:
                job.hide_polls -= 1
            answer = job.legacy(masked=masked) if legacy else job.v2(masked=masked)
            block = self._block
            if block is not None and block.job is job and block.polls_left > 0:
                block.polls_left -= 1
                if block.polls_left == 0:
                    self._resolve()
            return answer

    def cancel(self, uuid: str) -> bool | None:
        """Cancel a waiting job: True; False if it started already; None if unknown."""
        with self._cond:
            job = self._jobs.get(uuid)
            if job is None:
                return None
            if job is self._running or not job.waiting or job not in self._pending:
                return False
            self._pending.remove(job)
            job.cancel()
            return True

    def status(self) -> dict[str, Any]:
        """``getRequestsQueueStatus``: jobs not finished, ready, canceled, and the block if any."""
        with self._cond:
            states = [job.status for job in self._jobs.values()]
            answer = {
                "number": len(self._pending) + (self._running is not None),
                "ready": sum(state is TaskState.READY for state in states),
                "canceled": sum(state is TaskState.CANCELED for state in states),
            }
            answer.update(self._block_fields())
            return answer

    def block_fields(self) -> dict[str, Any]:
        """``isBlocked``, ``blockedUUID``, ``blockReason`` as every queue answer carries them."""
        with self._cond:
            return self._block_fields()

    @property
    def blocked(self) -> bool:
        """Whether the queue is blocked now."""
        with self._cond:
            return self._block is not None

    def end_block(self) -> None:
        """End the block now (the faults were cleared) and resolve its job by the FN counter."""
        with self._cond:
            if self._block is not None:
                self._resolve()

    def counts(self) -> dict[str, int]:
        """How many jobs are kept, by their state (for the admin statistics)."""
        with self._cond:
            counts: dict[str, int] = {}
            for job in self._jobs.values():
                counts[str(job.status)] = counts.get(str(job.status), 0) + 1
            return counts

    # Worker ------------------------------------------------------------------------------------------------------

    def _block_fields(self) -> dict[str, Any]:
        if self._block is None:
            return {"isBlocked": False, "blockedUUID": "", "blockReason": {"code": OK, "description": DESCRIPTIONS[OK]}}
        return {"isBlocked": True, "blockedUUID": self._block.job.uuid, "blockReason": BLOCK_REASON.as_dict()}

    def _forget_old(self) -> None:
        while len(self._jobs) > self._keep:
            uuid, job = next(iter(self._jobs.items()))
            if not job.finished:
                break
            del self._jobs[uuid]

    def _work(self) -> None:
        while True:
            with self._cond:
                while not self._stopped and not self._pending:
                    self._cond.wait()
                if self._stopped:
                    return
                job = self._running = self._pending.popleft()
            try:
                self._run(job)
            finally:
                with self._cond:
                    self._running = None
                    self._cond.notify_all()

    def _run(self, job: Job) -> None:
        for index, slot in enumerate(job.tasks):
            with self._cond:
                slot.status = TaskState.IN_PROGRESS
            try:
                if self._blocks(job, index):
                    if slot.status is TaskState.READY:
                        continue
                    return
                result = self._runner.run(slot.task, job.keys[index])
            except TaskError as exc:
                with self._cond:
                    slot.fail(exc)
                    job.interrupt_after(index)
                return
            except Exception as exc:  # a bug of the emulator: the job says so, the worker lives on
                with self._cond:
                    slot.fail(TaskError(INTERNAL, f"{type(exc).__name__}: {exc}"))
                    job.interrupt_after(index)
                return
            with self._cond:
                slot.ready(result)

    def _blocks(self, job: Job, index: int) -> bool:
        """Run a printing task under an armed block: make its document or not, then wait for the block to end."""
        slot = job.tasks[index]
        if task_type(slot.task) not in PRINTING or self._faults.disconnected:
            return False
        plan = self._faults.take_block()
        if plan is None:
            return False
        before = self._runner.documents_count()
        if plan.printed:
            with contextlib.suppress(DeviceError, TaskError):  # refused: nothing printed; the resolution says so
                self._runner.print(slot.task, job.keys[index])
        with self._cond:
            slot.status = TaskState.BLOCKED
            self._block = ActiveBlock(job, index, before, plan.polls)
            while self._block is not None and not self._stopped:
                self._cond.wait()
        return True

    def _resolve(self) -> None:
        """End the block (under the lock): the job's task is ``ready`` if the FN counter grew, else ``error``."""
        block = self._block
        assert block is not None
        self._block = None
        slot = block.job.tasks[block.index]
        key = block.job.keys[block.index]
        doc = self._runner.kkt.find_by_key(key)
        if self._runner.documents_count() > block.before and doc is not None:
            slot.ready(results.printed(doc))
        else:
            slot.fail(BLOCK_REASON)
            block.job.interrupt_after(block.index)  # at once: the next GET sees the job settled
        self._cond.notify_all()
