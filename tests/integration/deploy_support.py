"""What the deployment tests share: where the deploy files are, the command line's own check of an invocation
and of settings, the healthchecks' probes run as processes, and the Dockerfile read instruction by instruction."""

from __future__ import annotations

import functools
import itertools
import os
import re
import shlex
import subprocess
import sys
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import typer
import yaml

from kkt_adapter.cli import build_app
from kkt_adapter.config import ENV_PREFIX, ConfigError, Settings, load_settings

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
COMPOSE = DEPLOY / "docker-compose.yml"
DOCKERFILE = DEPLOY / "Dockerfile"
UNIT = DEPLOY / "kkt-adapter.service"
DEPLOY_DOC = ROOT / "docs" / "deploy.md"

SERVICES = {"kkt-adapter", "mock-ofd", "mock-odoo"}
DATA_DIR = "/var/lib/kkt-adapter"
VENV_EXECUTABLE = "/opt/kkt-adapter/venv/bin/kkt-adapter"
#: Settings of the API-token rule, which may land after these files; every other KKT_* name must be a real setting.
TOKEN_SETTINGS = {"KKT_API_TOKEN", "KKT_ALLOW_UNAUTHENTICATED"}


# --- the command line --------------------------------------------------------------------------------------------


def cli_help(argv: Sequence[str]) -> str:
    """``kkt-adapter <argv> --help``, run as a process; it must exit 0. Returns the help text."""
    return _cli_help(tuple(argv))


@functools.cache
def _cli_help(argv: tuple[str, ...]) -> str:
    env = {**os.environ, "COLUMNS": "200", "NO_COLOR": "1", "TERM": "dumb"}
    result = subprocess.run(
        [sys.executable, "-m", "kkt_adapter", *argv, "--help"], capture_output=True, text=True, env=env, timeout=60
    )
    assert result.returncode == 0, f"kkt-adapter {shlex.join(argv)} --help: {result.stderr or result.stdout}"
    return result.stdout


def parse_cli(argv: Sequence[str]) -> None:
    """Parse ``argv`` (without the program name) as the command line would, values included, without running it.

    Typed loosely on purpose: typer may ship its own copy of click, so the objects are used by their click API, not
    checked against the ``click`` package's classes.
    """
    command: Any = typer.main.get_command(build_app())
    args = list(argv)
    while hasattr(command, "get_command"):  # a group: descend to the named subcommand
        assert args, f"{shlex.join(argv)}: names a group, not a command"
        name, args = args[0], args[1:]
        found = command.get_command(command.context_class(command), name)
        assert found is not None, f"{shlex.join(argv)}: no command {name!r}"
        command = found
    try:
        command.make_context(command.name or "", args)
    except Exception as exc:
        if not hasattr(exc, "format_message"):  # not a usage error: a fault of this test
            raise
        raise AssertionError(f"{shlex.join(argv)}: {exc.format_message()}") from exc


def assert_real_invocation(command: Sequence[str]) -> None:
    """``command`` is ``kkt-adapter <subcommand> [options]``: its help exits 0, lists each flag, and it parses."""
    assert command, "an empty command"
    assert Path(command[0]).name == "kkt-adapter", f"not the kkt-adapter command: {shlex.join(command)}"
    argv = list(command[1:])
    path = list(itertools.takewhile(lambda arg: not arg.startswith("-"), argv))
    assert path, f"no subcommand in {shlex.join(command)}"
    listed = set(re.findall(r"--[a-z][a-z0-9-]*", cli_help(path)))
    for flag in (arg.split("=", 1)[0] for arg in argv if arg.startswith("--")):
        assert flag in listed, f"{flag} is not an option of kkt-adapter {' '.join(path)} (it has {sorted(listed)})"
    # Every word with --help appended: click rejects unknown options and extra arguments before it prints help.
    cli_help(argv)
    # The values too (a port that is not a number, a negative count), which --help alone does not look at.
    parse_cli(argv)


def assert_known_settings(names: Iterator[str] | set[str], where: str) -> None:
    """Every ``KKT_*`` name is a setting of the adapter (or of the token rule), not a typo silently ignored."""
    known = {ENV_PREFIX + field.upper() for field in Settings.model_fields} | TOKEN_SETTINGS
    unknown = {name for name in names if name.upper().startswith(ENV_PREFIX)} - known
    assert not unknown, f"{where} sets variables the adapter does not read: {sorted(unknown)}"


def assert_settings_load(env: Mapping[str, str], where: str) -> None:
    """The adapter starts with these settings (a wrong value would stop it with exit code 2)."""
    settings_env = {key: value for key, value in env.items() if key.upper().startswith(ENV_PREFIX)}
    try:
        load_settings(settings_env, env_file=None)
    except ConfigError as exc:
        raise AssertionError(f"{where}: {exc}") from exc


# --- healthcheck probes ------------------------------------------------------------------------------------------


def probe_code(test: Sequence[str]) -> str:
    """The Python source of a ``python -c`` healthcheck (slim images have no curl)."""
    assert list(test[:2]) == ["python", "-c"] and len(test) == 3, f"not a python -c probe: {test}"
    compile(test[2], "<healthcheck>", "exec")
    return test[2]


def run_probe(code: str, *, env: Mapping[str, str] | None = None) -> int:
    full_env = {**os.environ, **(env or {})}
    return subprocess.run([sys.executable, "-c", code], capture_output=True, env=full_env, timeout=30).returncode


def on_port(code: str, port: int) -> str:
    """The probe with its fixed ``127.0.0.1:<port>`` pointed at ``port`` (where this test runs the server)."""
    moved, count = re.subn(r"127\.0\.0\.1:\d+", f"127.0.0.1:{port}", code)
    assert count == 1, f"the probe names no 127.0.0.1:<port>: {code}"
    return moved


# --- the Dockerfile ----------------------------------------------------------------------------------------------


def dockerfile_instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) per instruction, continuation lines joined and comments dropped."""
    instructions: list[tuple[str, str]] = []
    pending = ""
    for raw in DOCKERFILE.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        word, _, rest = (pending + line).partition(" ")
        instructions.append((word.upper(), rest.strip()))
        pending = ""
    assert not pending, "the Dockerfile ends in a continuation"
    return instructions


def exec_form(arguments: str) -> list[str]:
    """A JSON-array (exec form) argument list; the shell form would wrap it in /bin/sh -c."""
    value = yaml.safe_load(arguments)  # JSON is YAML
    assert isinstance(value, list) and all(isinstance(word, str) for word in value), f"not the exec form: {arguments}"
    return value


def dockerfile() -> dict[str, Any]:
    """The instructions this test reads, by name; repeated ones (ENV, RUN) collected, the last CMD/USER/... kept."""
    found: dict[str, Any] = {"ENV": {}, "RUN": [], "COPY": [], "EXPOSE": [], "VOLUME": []}
    for name, arguments in dockerfile_instructions():
        if name == "ENV":
            for pair in shlex.split(arguments):
                key, sep, value = pair.partition("=")
                assert sep, f"ENV {arguments}: use KEY=value"
                found["ENV"][key] = value
        elif name in ("RUN", "COPY", "EXPOSE"):
            found[name].append(arguments)
        elif name == "VOLUME":
            found["VOLUME"].extend(exec_form(arguments) if arguments.startswith("[") else arguments.split())
        elif name == "HEALTHCHECK":
            words = arguments.split(" ")
            index = words.index("CMD")
            found["HEALTHCHECK_OPTIONS"] = words[:index]
            found["HEALTHCHECK"] = exec_form(" ".join(words[index + 1 :]))
        elif name in ("CMD", "ENTRYPOINT"):
            found[name] = exec_form(arguments)
        else:
            found[name] = arguments
    return found


def dockerfile_env() -> dict[str, str]:
    env: dict[str, str] = dockerfile()["ENV"]
    return env
