"""The suite's isolation from the developer's own settings (``tests/conftest.py``)."""

from __future__ import annotations

from pathlib import Path

from kkt_adapter.config import load_settings

ROOT = Path(__file__).resolve().parents[2]


def test_no_kkt_variables_reach_a_test() -> None:
    """The developer's ``KKT_*`` variables are stripped before each test."""
    import os

    assert not [name for name in os.environ if name.upper().startswith("KKT_")]


def test_a_test_runs_outside_the_source_tree() -> None:
    """Each test's working directory is an empty temporary one, not the checkout (where a ``.env`` may live)."""
    cwd = Path.cwd().resolve()
    assert ROOT not in (cwd, *cwd.parents)
    assert list(cwd.iterdir()) == []


def test_load_settings_reads_only_the_tests_own_dotenv() -> None:
    """``load_settings()`` reads ``./.env`` of the test's directory: a developer's ``.env`` cannot leak in."""
    assert load_settings().adapter_id != "from-dotenv"
    Path(".env").write_text("KKT_ADAPTER_ID=from-dotenv\n", encoding="utf-8")
    assert load_settings().adapter_id == "from-dotenv"
