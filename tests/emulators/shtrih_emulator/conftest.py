"""Fixtures: an emulated Shtrih-M KKT on a free TCP port, over a device in the test's directory."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from kkt_emulators.shtrih import MockShtrihServer
from shtrih_emulator.raw import Raw


@pytest.fixture
def shtrih(tmp_path: Path) -> Iterator[MockShtrihServer]:
    """A started emulator (print delay 0), stopped after the test."""
    with MockShtrihServer(port=0, data_dir=tmp_path / "kkt") as server:
        yield server


@pytest.fixture
def raw(shtrih: MockShtrihServer) -> Iterator[Raw]:
    """A raw TCP client connected to it."""
    client = Raw(shtrih.port)
    yield client
    client.close()
