"""The runtime supervises background tasks: a failed start or a crash stops cleanly and is reported."""

from __future__ import annotations

import asyncio

import pytest

from kkt_adapter.runtime import Runtime

pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


async def _until_stopped(stop: asyncio.Event, log: list[str], name: str) -> None:
    log.append(f"{name} started")
    await stop.wait()
    log.append(f"{name} stopped")


async def test_a_start_that_fails_half_way_stops_what_it_started() -> None:
    """Tasks started before a failure are asked to stop and awaited; closers run, newest first."""
    log: list[str] = []
    stop = asyncio.Event()

    async def close(name: str) -> None:
        log.append(f"closed {name}")

    async def start_then_fail() -> None:
        async with Runtime() as runtime:
            runtime.on_close(lambda: close("first"))
            runtime.spawn("heartbeat", _until_stopped(stop, log, "heartbeat"), stop=stop.set)
            runtime.on_close(lambda: close("second"))
            await asyncio.sleep(0)
            raise RuntimeError("device did not open")

    with pytest.raises(RuntimeError, match="device did not open"):
        await start_then_fail()
    assert log == ["heartbeat started", "heartbeat stopped", "closed second", "closed first"]


async def test_a_task_that_ignores_stop_is_cancelled_at_the_deadline() -> None:
    """A task that does not finish when asked is cancelled, so stopping never hangs."""
    cancelled = asyncio.Event()

    async def stubborn() -> None:
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            cancelled.set()
            raise

    async with Runtime(stop_timeout_s=0.01) as runtime:
        runtime.spawn("stubborn", stubborn())
        await asyncio.sleep(0)
    assert cancelled.is_set()


async def test_a_crashed_task_is_reported() -> None:
    """A task that dies is kept in ``failures`` (health reads it) and shown as failed; the others go on."""

    async def crash() -> None:
        raise ValueError("disk on fire")

    stop = asyncio.Event()
    async with Runtime() as runtime:
        runtime.spawn("sync-worker", crash())
        runtime.spawn("heartbeat", stop.wait(), stop=stop.set)
        for _ in range(10):
            await asyncio.sleep(0)
        assert runtime.failures == {"sync-worker": "ValueError: disk on fire"}
        assert runtime.status() == {"sync-worker": "failed: ValueError: disk on fire", "heartbeat": "running"}
    assert runtime.status()["heartbeat"] == "stopped"


async def test_a_task_that_returns_early_is_reported() -> None:
    """A background task is meant to run until the runtime stops: returning before that is a failure too."""

    async def quits() -> None:
        return None

    async with Runtime() as runtime:
        runtime.spawn("maintenance", quits())
        for _ in range(10):
            await asyncio.sleep(0)
        assert runtime.failures == {"maintenance": "ended unexpectedly"}


async def test_a_periodic_job_survives_its_own_failure() -> None:
    """``every`` runs a job again after it raised; the loop ends when the runtime stops."""
    runs: list[int] = []
    done = asyncio.Event()

    async def job() -> None:
        runs.append(len(runs))
        if len(runs) == 1:
            raise OSError("first run fails")
        if len(runs) == 3:
            done.set()

    async with Runtime() as runtime:
        runtime.every("reconcile", 0.001, job)
        await asyncio.wait_for(done.wait(), 5)
    assert runs[:3] == [0, 1, 2]
    assert "reconcile" not in runtime.failures


async def test_two_tasks_of_one_name_are_refused() -> None:
    """Names identify tasks in health: a second task of the same name is a wiring error."""
    stop = asyncio.Event()
    async with Runtime() as runtime:
        runtime.spawn("worker", stop.wait(), stop=stop.set)
        with pytest.raises(ValueError, match="already running"):
            runtime.spawn("worker", stop.wait())
