"""A Web Requests job: the client's uuid, its tasks, and each task's state, error and result, as both dialects show
them.

Task states: ``wait`` → ``inProgress`` → ``ready`` | ``error``; after an error the job's remaining tasks are
``interrupted`` (502); a job cancelled while it waits has every task ``canceled`` (503); ``blocked`` means the
outcome is unknown and the queue has stopped. Web Requests v2 answers ``{"status", "error": {"code",
"description"}, "result"}`` per task; the older web server answers ``{"status", "errorCode", "errorDescription",
"result"}``. ``result`` is present once the task is ``ready``.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Any

from kkt_emulators.atol.errors import CANCELED, DESCRIPTIONS, INTERRUPTED, OK, TaskError


class TaskState(enum.StrEnum):
    """The state of one task of a job, as the protocol names it."""

    WAIT = "wait"
    IN_PROGRESS = "inProgress"
    READY = "ready"
    ERROR = "error"
    INTERRUPTED = "interrupted"
    CANCELED = "canceled"
    BLOCKED = "blocked"


FINAL = frozenset({TaskState.READY, TaskState.ERROR, TaskState.INTERRUPTED, TaskState.CANCELED})


@dataclass
class TaskSlot:
    """One task of a job and what became of it."""

    task: Any
    status: TaskState = TaskState.WAIT
    error: TaskError | None = None
    result: dict[str, Any] | None = None

    def ready(self, result: dict[str, Any]) -> None:
        """The task succeeded with ``result``."""
        self.status, self.result, self.error = TaskState.READY, result, None

    def fail(self, error: TaskError, status: TaskState = TaskState.ERROR) -> None:
        """The task failed (or was interrupted, or cancelled) with ``error``."""
        self.status, self.error, self.result = status, error, None

    def view(self, status: TaskState) -> tuple[TaskState, int, str, dict[str, Any] | None]:
        """State, error code, error text and result as shown now (``status`` may mask the real one)."""
        if status is not self.status or self.error is None:
            result = self.result if status is TaskState.READY else None
            return status, OK, DESCRIPTIONS[OK], result
        return status, self.error.code, self.error.description, None


@dataclass
class Job:
    """A job of the queue: its uuid, its tasks, and how many more GETs show it ``inProgress`` once done."""

    uuid: str
    number: int
    tasks: list[TaskSlot]
    body: dict[str, Any]
    hide_polls: int = 0
    keys: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        # The device's idempotency key of each task: the uuid itself for the first, uuid:index for the others.
        self.keys = [self.uuid if index == 0 else f"{self.uuid}:{index}" for index in range(len(self.tasks))]

    @property
    def finished(self) -> bool:
        """Whether every task is in a final state."""
        return all(slot.status in FINAL for slot in self.tasks)

    @property
    def waiting(self) -> bool:
        """Whether no task has started (the job can still be cancelled)."""
        return all(slot.status is TaskState.WAIT for slot in self.tasks)

    @property
    def status(self) -> TaskState:
        """The job's own state: its blocked, running or failed task's, else the last task's."""
        for wanted in (TaskState.BLOCKED, TaskState.IN_PROGRESS, TaskState.ERROR, TaskState.CANCELED):
            if any(slot.status is wanted for slot in self.tasks):
                return wanted
        return self.tasks[-1].status

    def interrupt_after(self, index: int) -> None:
        """Mark every task after ``index`` interrupted (502): an earlier one failed."""
        for slot in self.tasks[index + 1 :]:
            slot.fail(TaskError(INTERRUPTED), TaskState.INTERRUPTED)

    def cancel(self) -> None:
        """Mark every task canceled (503)."""
        for slot in self.tasks:
            slot.fail(TaskError(CANCELED), TaskState.CANCELED)

    def _views(self, masked: bool) -> list[tuple[TaskState, int, str, dict[str, Any] | None]]:
        return [slot.view(TaskState.IN_PROGRESS if masked else slot.status) for slot in self.tasks]

    def v2(self, *, masked: bool = False) -> dict[str, Any]:
        """The v2 answer: ``{"results": [{"status", "error": {"code", "description"}, "result"?}, ...]}``."""
        answer = []
        for status, code, text, result in self._views(masked):
            entry: dict[str, Any] = {"status": str(status), "error": {"code": code, "description": text}}
            if result is not None:
                entry["result"] = result
            answer.append(entry)
        return {"results": answer}

    def legacy(self, *, masked: bool = False) -> dict[str, Any]:
        """The older web server's answer: flat ``{"status", "errorCode", "errorDescription", "result"?}``."""
        answer = []
        for status, code, text, result in self._views(masked):
            entry: dict[str, Any] = {"status": str(status), "errorCode": code, "errorDescription": text}
            if result is not None:
                entry["result"] = result
            answer.append(entry)
        return {"results": answer}
