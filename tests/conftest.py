"""Shared test setup: no test sees the developer's KKT_* environment or .env."""

from __future__ import annotations

import os

import pytest


@pytest.fixture(autouse=True)
def _strip_kkt_environment(monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory) -> None:
    for name in list(os.environ):
        if name.upper().startswith("KKT_"):
            monkeypatch.delenv(name)
