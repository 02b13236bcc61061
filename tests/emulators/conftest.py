"""Fixtures for the emulator tests: an HTTP client with short timeouts."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest


@pytest.fixture
def client() -> Iterator[httpx.Client]:
    """An HTTP client with short timeouts, closed after the test."""
    with httpx.Client(timeout=5.0) as http:
        yield http
