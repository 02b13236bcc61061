"""The import rules of the project: the import-linter contracts in ``pyproject.toml``, and a production ``serve`` that
never loads the emulator package; and its size rule: no source or test file over 400 lines."""

from __future__ import annotations

import ast
import pkgutil
import re
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
SRC = ROOT / "src"

#: Every contract the project keeps; removing one from ``pyproject.toml`` is a decision this list must record too.
CONTRACTS = [
    "emulators-independent",
    "clock-leaf",
    "domain-pure",
    "core-without-http",
    "devices-below-phases",
    "status-through-ports",
    "api-through-service",
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


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(SRC).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _file_level_imports(path: Path, modules: set[str]) -> set[str]:
    """The project modules ``path`` imports outside functions. ``if TYPE_CHECKING`` blocks count (they tie two files
    together as much as a run-time import does), except in a package's ``__init__``, where they only describe the
    names the package exports lazily."""
    name = _module_name(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    pending: list[ast.stmt] = list(ast.parse(path.read_text(encoding="utf-8")).body)
    while pending:
        node = pending.pop()
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join([*package.split(".")[: len(package.split(".")) - node.level + 1], base]).strip(".")
            # ``from package import module`` ties this file to that module; ``from module import name`` to the module.
            for alias in node.names:
                found.add(f"{base}.{alias.name}" if f"{base}.{alias.name}" in modules else base)
        elif isinstance(node, ast.If) and ast.unparse(node.test) == "TYPE_CHECKING" and path.name == "__init__.py":
            continue
        elif isinstance(node, ast.If | ast.Try):
            pending.extend(node.body)
            pending.extend(node.orelse)
            if isinstance(node, ast.Try):
                for handler in node.handlers:
                    pending.extend(handler.body)
    return {each for each in found if each in modules and each != name}


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan's algorithm)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for each in sorted(graph[node]):
            if each not in index:
                visit(each)
                low[node] = min(low[node], low[each])
            elif each in on_stack:
                low[node] = min(low[node], index[each])
        if low[node] == index[node]:
            component: list[str] = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_no_module_level_import_cycle_in_src() -> None:
    """No two files of ``src/`` import each other at module level, directly or round a longer loop (imports inside
    functions, the lazy ones, do not count)."""
    paths = sorted(SRC.rglob("*.py"))
    modules = {_module_name(path) for path in paths}
    graph = {_module_name(path): _file_level_imports(path, modules) for path in paths}
    assert _cycles(graph) == []


def test_the_cycle_check_finds_a_cycle() -> None:
    """The check itself can fail: two modules importing each other are one cycle, a chain is none."""
    assert _cycles({"a": {"b"}, "b": {"a"}, "c": {"a"}}) == [["a", "b"]]
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": set()}) == []


#: Most lines a source or test file may have: past that, a module is split along its seams (STYLE.md, habit 13).
MAX_LINES = 400
#: Source files still over ``MAX_LINES``, each being split by the refactoring of issue 21. The list may only shrink:
#: a file not on it may not grow past the limit, and a file on it that fits fails the test until it is taken off.
#: Test files have no entry: every one of them fits.
_BEING_SPLIT: set[str] = set()


def _line_counts() -> dict[str, int]:
    """Lines of every Python and JavaScript file under ``src/`` and ``tests/``, by path from the repository root;
    packages npm installs for the tests (``node_modules``, e.g. axe-core) are not the project's files."""
    counts: dict[str, int] = {}
    for folder in ("src", "tests"):
        for pattern in ("*.py", "*.js"):
            for path in (ROOT / folder).rglob(pattern):
                if "node_modules" in path.parts:
                    continue
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


def test_the_design_notes_name_only_files_that_exist() -> None:
    """Every file ``docs/design.md`` names (``pkg/module.py`` under ``src/kkt_adapter``, or a repository path) exists,
    so the map a newcomer reads stays true when code moves."""
    text = (ROOT / "docs" / "design.md").read_text(encoding="utf-8")
    named = set(re.findall(r"`([A-Za-z0-9_./-]+\.(?:py|js|sql|md|yml|json))`", text))
    missing = sorted(
        name
        for name in named
        if "N." not in name  # a pattern such as buffer/migrations/vN.sql
        and not (ROOT / name).exists()
        and not (SRC / "kkt_adapter" / name).exists()
        and not (SRC / name).exists()
    )
    assert named and not missing, f"docs/design.md names files that do not exist: {missing}"
