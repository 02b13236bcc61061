"""Fixtures of the limits and authentication tests: the fake driver, and the app on it with default settings."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from kkt_adapter.testing import FakeDriver

from .support import make_client


@pytest.fixture
def driver() -> FakeDriver:
    return FakeDriver()


@pytest.fixture
def client(tmp_path: Path, driver: FakeDriver) -> Iterator[TestClient]:
    with make_client(tmp_path, driver) as c:
        yield c
