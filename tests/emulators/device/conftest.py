"""Fixtures for the emulated KKT's tests: devices on real files in ``tmp_path``, closed at the end, and tasks."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from kkt_emulators.device import EmulatedKKT

from .helpers import KKTFactory


@pytest.fixture
def state_dir(tmp_path: Path) -> Path:
    """The device's state directory (one per test)."""
    return tmp_path / "kkt"


@pytest.fixture
def make_kkt(state_dir: Path) -> Iterator[KKTFactory]:
    """Open devices on ``state_dir`` (or another directory) with no print delay unless asked; close them all after."""
    opened: list[EmulatedKKT] = []

    def factory(directory: Path | None = None, **options: Any) -> EmulatedKKT:
        options.setdefault("print_delay_ms", 0)
        kkt = EmulatedKKT(directory or state_dir, **options)
        opened.append(kkt)
        return kkt

    yield factory
    for kkt in opened:
        kkt.close()


@pytest.fixture
def kkt(make_kkt: KKTFactory) -> EmulatedKKT:
    """A freshly registered device with no print delay."""
    return make_kkt()
