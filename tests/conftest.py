"""Shared test setup: no test sees the developer's KKT_* environment or a ``.env`` file.

Each test runs with the ``KKT_*`` variables removed and in an empty working directory of its own, so that
``load_settings()`` (which reads ``./.env``) and the default ``./data`` directory never touch the developer's tree.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest


@pytest.fixture(autouse=True)
def _isolate_from_developer_settings(monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory) -> Path:
    for name in list(os.environ):
        if name.upper().startswith("KKT_"):
            monkeypatch.delenv(name)
    workdir = tmp_path_factory.mktemp("cwd")
    monkeypatch.chdir(workdir)
    return workdir
