"""The import rules of the project: the import-linter contracts in ``pyproject.toml``, and a production ``serve`` that
never loads the emulator package; and its size rule: no source or test file over 400 lines."""

from __future__ import annotations

import pkgutil
import subprocess
import sys
import textwrap
import tomllib
from pathlib import Path
from typing import Any

import pytest

import kkt_adapter

ROOT = Path(__file__).resolve().parents[2]
PYPROJECT = ROOT / "pyproject.toml"

#: Every contract the project keeps; removing one from ``pyproject.toml`` is a decision this list must record too.
CONTRACTS = [
    "emulators-independent",
    "clock-leaf",
    "domain-pure",
    "core-without-http",
    "status-through-ports",
    "adapter-layers",
]


def _contracts() -> list[dict[str, Any]]:
    config = tomllib.loads(PYPROJECT.read_text(encoding="utf-8"))
    contracts: list[dict[str, Any]] = config["tool"]["importlinter"]["contracts"]
    return contracts


def test_the_contracts_are_all_configured() -> None:
    """``pyproject.toml`` holds exactly the expected contracts, so none is dropped by accident."""
    assert [contract["id"] for contract in _contracts()] == CONTRACTS


@pytest.mark.parametrize("contract", CONTRACTS)
def test_the_code_keeps_the_contract(contract: str) -> None:
    """import-linter finds no import that breaks the contract (its report is the failure message).

    In a process of its own: import-linter configures logging, which would silence the loggers of this process.
    """
    lint_imports = Path(sys.executable).parent / "lint-imports"
    command = [str(lint_imports), "--config", str(PYPROJECT), "--contract", contract, "--no-cache", "--no-logo"]
    result = subprocess.run(command, capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_pure_domain_contract_names_every_other_module() -> None:
    """The domain's forbidden list covers each top-level module of the adapter, so a new one cannot slip past it."""
    (domain,) = [contract for contract in _contracts() if contract["id"] == "domain-pure"]
    others = {f"kkt_adapter.{info.name}" for info in pkgutil.iter_modules(kkt_adapter.__path__)} - {
        "kkt_adapter.domain"
    }
    assert others <= set(domain["forbidden_modules"])


def _run(code: str) -> str:
    """Run ``code`` in a fresh interpreter (the test process has the emulators' pytest plugin loaded) and return its
    output; a failure shows the subprocess's error."""
    result = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_the_production_app_never_loads_the_emulators() -> None:
    """Importing the serve path and running a production app's lifespan (with a fake driver) loads no emulator."""
    output = _run(
        """
        import sys
        import tempfile

        import kkt_adapter.api.app
        import kkt_adapter.cli
        import kkt_adapter.server
        from fastapi.testclient import TestClient

        from kkt_adapter import create_app, load_settings
        from kkt_adapter.testing import FakeDriver

        with tempfile.TemporaryDirectory() as data_dir:
            env = {"KKT_MODE": "production", "KKT_SYNC_ENABLED": "false", "KKT_DATA_DIR": data_dir}
            app = create_app(load_settings(env), driver=FakeDriver())
            with TestClient(app) as client:
                response = client.get("/v1/health")
        assert response.status_code == 200, response.text
        assert "kkt_emulators" not in sys.modules, sorted(name for name in sys.modules if "kkt_emulators" in name)
        print("served")
        """
    )
    assert output.split() == ["served"]


def test_the_serve_command_line_never_loads_the_emulators() -> None:
    """``kkt-adapter serve --help`` builds the command line without the emulators' commands; the full one has them."""
    output = _run(
        """
        import sys

        from kkt_adapter.cli import build_app, main

        try:
            main(["serve", "--help"])
        except SystemExit as stop:
            assert stop.code == 0, stop.code
        assert "kkt_emulators" not in sys.modules, sorted(name for name in sys.modules if "kkt_emulators" in name)
        # The check can fail: the full command line does load the emulators.
        build_app(emulators=True)
        assert "kkt_emulators" in sys.modules
        print("checked")
        """
    )
    assert output.split()[-1] == "checked"


#: Most lines a source or test file may have: past that, a module is split along its seams (STYLE.md, habit 13).
MAX_LINES = 400
#: Source files still over ``MAX_LINES``, each being split by the refactoring of issue 21. The list may only shrink:
#: a file not on it may not grow past the limit, and a file on it that fits fails the test until it is taken off.
#: Test files have no entry: every one of them fits.
_BEING_SPLIT = {
    "src/kkt_adapter/api/responses.py",  # 428 lines
    "src/kkt_adapter/api/schemas.py",  # 507
    "src/kkt_adapter/api/ui_assets/ui.js",  # 697
    "src/kkt_adapter/buffer/store.py",  # 583
    "src/kkt_adapter/config.py",  # 413
    "src/kkt_adapter/intake/fiscalizer.py",  # 624
    "src/kkt_emulators/device/kkt.py",  # 459
}


def _line_counts() -> dict[str, int]:
    """Lines of every Python and JavaScript file under ``src/`` and ``tests/``, by path from the repository root."""
    counts: dict[str, int] = {}
    for folder in ("src", "tests"):
        for pattern in ("*.py", "*.js"):
            for path in (ROOT / folder).rglob(pattern):
                counts[path.relative_to(ROOT).as_posix()] = len(path.read_text(encoding="utf-8").splitlines())
    return counts


def test_no_source_or_test_file_is_over_400_lines() -> None:
    """Every module and test file stays within 400 lines, but for the source files still being split."""
    too_long = {path: lines for path, lines in _line_counts().items() if lines > MAX_LINES}
    unlisted = {path: lines for path, lines in sorted(too_long.items()) if path not in _BEING_SPLIT}
    assert not unlisted, f"over {MAX_LINES} lines, split along the seams: {unlisted}"
    assert not [path for path in _BEING_SPLIT if path.startswith("tests/")], "test files get no allowance"


def test_the_files_being_split_are_still_too_long() -> None:
    """A file of ``_BEING_SPLIT`` that now fits in 400 lines is taken off the list, so that the list only shrinks."""
    counts = _line_counts()
    missing = sorted(path for path in _BEING_SPLIT if path not in counts)
    fits = sorted(path for path in _BEING_SPLIT if path in counts and counts[path] <= MAX_LINES)
    assert not missing, f"no longer exist (split or moved): remove them from _BEING_SPLIT: {missing}"
    assert not fits, f"now within {MAX_LINES} lines: remove them from _BEING_SPLIT: {fits}"
