"""One supervisor for the adapter's background work: started together, stopped together, failures reported.

:class:`Runtime` is an async context manager. Inside it the composition root starts long-running tasks
(:meth:`Runtime.spawn`), periodic jobs (:meth:`Runtime.every`) and registers what must be closed
(:meth:`Runtime.on_close`). Whatever way the block is left — a normal stop, or a start that failed half-way — every
task already started is asked to stop, given time to finish what it is recording, then cancelled, and the closers run
in reverse order. A task that dies on its own is logged and kept in :attr:`Runtime.failures`, which health reports.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass
from types import TracebackType
from typing import Any, Self

log = logging.getLogger(__name__)


@dataclass
class _Supervised:
    task: asyncio.Task[None]
    stop: Callable[[], None] | None


class Runtime:
    """Supervised background tasks and ordered closing (see the module's docstring)."""

    def __init__(self, *, stop_timeout_s: float = 15.0) -> None:
        self.stop_timeout_s = stop_timeout_s
        self.stopping = asyncio.Event()
        #: Tasks that ended with an exception before the runtime stopped: name → the error.
        self.failures: dict[str, str] = {}
        self._tasks: dict[str, _Supervised] = {}
        self._closers = contextlib.AsyncExitStack()

    async def __aenter__(self) -> Self:
        await self._closers.__aenter__()
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        try:
            await self._stop_tasks()
        finally:
            await self._closers.__aexit__(exc_type, exc, tb)

    def spawn(self, name: str, work: Coroutine[Any, Any, None], *, stop: Callable[[], None] | None = None) -> None:
        """Run ``work`` as a supervised task; ``stop`` asks it to finish (else it is cancelled at the deadline)."""
        if name in self._tasks:
            work.close()
            raise ValueError(f"a task named {name!r} is already running")
        task = asyncio.create_task(work, name=name)
        task.add_done_callback(self._on_done)
        self._tasks[name] = _Supervised(task, stop)

    def every(
        self, name: str, period_s: float, job: Callable[[], Awaitable[object]], *, first_after_s: float = 0.0
    ) -> None:
        """Run ``job`` every ``period_s`` seconds until the runtime stops; a failed run is logged, the next one runs."""

        async def loop() -> None:
            delay = first_after_s
            while not await self._wait_stopping(delay):
                try:
                    await job()
                except Exception:
                    log.exception("periodic job %s failed; it runs again in %s s", name, period_s)
                delay = period_s

        self.spawn(name, loop())

    def on_close(self, closer: Callable[[], Awaitable[object]]) -> None:
        """Call ``closer`` when the runtime stops, after the tasks, in reverse order of registration."""

        async def close() -> None:
            try:
                await closer()
            except Exception:
                log.exception("closing %s failed", getattr(closer, "__qualname__", closer))

        self._closers.push_async_callback(close)

    def status(self) -> dict[str, str]:
        """Each task's state: ``running``, ``stopped`` or ``failed: <error>``."""
        states: dict[str, str] = {}
        for name, supervised in self._tasks.items():
            if name in self.failures:
                states[name] = f"failed: {self.failures[name]}"
            else:
                states[name] = "stopped" if supervised.task.done() else "running"
        return states

    async def _wait_stopping(self, seconds: float) -> bool:
        """Wait up to ``seconds`` for the stop signal; ``True`` once the runtime is stopping."""
        if seconds > 0:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.stopping.wait(), seconds)
        return self.stopping.is_set()

    def _on_done(self, task: asyncio.Task[None]) -> None:
        if task.cancelled():
            return
        error = task.exception()
        if error is not None:
            self.failures[task.get_name()] = f"{type(error).__name__}: {error}"
            log.error("background task %s crashed", task.get_name(), exc_info=error)
        elif not self.stopping.is_set():
            self.failures[task.get_name()] = "ended unexpectedly"
            log.error("background task %s ended before the adapter stopped", task.get_name())

    async def _stop_tasks(self) -> None:
        self.stopping.set()
        for supervised in self._tasks.values():
            if supervised.stop is not None:
                supervised.stop()
        pending = [supervised.task for supervised in self._tasks.values() if not supervised.task.done()]
        if pending:
            _, late = await asyncio.wait(pending, timeout=self.stop_timeout_s)
            for task in late:
                log.warning("background task %s did not stop in time; cancelling it", task.get_name())
                task.cancel()
            if late:
                await asyncio.wait(late)
