"""Fixtures of the end-to-end suite: emulators on free loopback ports, adapter processes that are always stopped."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from e2e.support import Spawn
from kkt_adapter.testing.process import AdapterProcess
from ready_device import ready_device


@pytest.fixture
def spawn(tmp_path: Path) -> Iterator[Spawn]:
    """Start real ``kkt-adapter serve`` processes (``spawn(env, data_dir=..., start=True)``); all are stopped after
    the test, also when it fails (SIGTERM, then SIGKILL if one does not exit)."""
    processes: list[AdapterProcess] = []

    def make(
        env: dict[str, str] | None = None, *, data_dir: Path | None = None, start: bool = True, ready: bool = True
    ) -> AdapterProcess:
        data_dir = data_dir or tmp_path / "data"
        if ready:
            # A device in use (shift open, earlier documents acknowledged): the scenarios count receipts.
            ready_device(data_dir / "kkt")
        process = AdapterProcess(data_dir, env=env or {})
        processes.append(process)
        if start:
            process.start()
        return process

    try:
        yield make
    finally:
        failures: list[BaseException] = []
        for process in processes:
            try:
                process.stop()
            except BaseException as exc:
                process.kill()
                failures.append(exc)
        if failures:
            raise failures[0]
