"""Fixtures of the tests with two emulated devices behind one adapter: their state directories, made ready (each
with its own FN and shift; ``backup`` registered under USN income), and an in-process app on them."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from integration.devices_support import ready, start, state_dir


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    data = tmp_path / "data"
    ready(state_dir(data, "main"))
    ready(state_dir(data, "backup"), taxation=2)  # USN income
    return data


@pytest.fixture
def main(data_dir: Path) -> Path:
    return state_dir(data_dir, "main")


@pytest.fixture
def backup(data_dir: Path) -> Path:
    return state_dir(data_dir, "backup")


@pytest.fixture
def client(data_dir: Path) -> Iterator[TestClient]:
    with start(data_dir) as c:
        yield c
