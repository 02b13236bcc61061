"""The deployment files in ``deploy/`` say only what the code can do.

There is no Docker daemon and no systemd in CI, so the image is never built and the unit never started here. What is
checked instead: the compose file parses and wires three healthy-checked services; every command in the Dockerfile,
the compose file and the systemd unit is a real ``kkt-adapter`` invocation (``--help`` exits 0, every flag is listed
in it, and its values pass the command line's own parsing); the settings they set load; the healthchecks' Python
probes answer 0 against the real adapter and emulators (run here on loopback with the compose wiring) and fail when
nothing listens; the unit passes ``systemd-analyze verify`` where that tool exists, and a key-by-key check always.
"""

from __future__ import annotations

import functools
import itertools
import os
import re
import shlex
import shutil
import subprocess
import sys
import uuid
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
import typer
import yaml

from kkt_adapter.cli import build_app
from kkt_adapter.config import ENV_PREFIX, ConfigError, Settings, load_settings
from kkt_adapter.testing import bodies, wait_for
from kkt_adapter.testing.process import AdapterProcess, free_port

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
#: A sale as the README sends it.
SALE = bodies.sale()


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


def test_invocation_check_catches_what_it_should() -> None:
    """The check refuses a made-up flag, subcommand or program and a bad value, so that its passes mean something."""
    assert_real_invocation(["kkt-adapter", "emulate", "ofd", "--host", "0.0.0.0", "--port", "9000"])
    for wrong in (
        ["kkt-adapter", "emulate", "ofd", "--listen", "0.0.0.0"],
        ["kkt-adapter", "emulate", "nothing"],
        ["kkt-adapter", "emulate", "ofd", "--port", "nine"],
        ["kkt-adapter", "emulate", "odoo", "--port", "-1"],
        ["kkt-admin", "serve"],
    ):
        with pytest.raises(AssertionError):
            assert_real_invocation(wrong)


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


# --- the compose file --------------------------------------------------------------------------------------------


def compose() -> dict[str, Any]:
    loaded = yaml.safe_load(COMPOSE.read_text(encoding="utf-8"))
    assert isinstance(loaded, dict)
    return loaded


def as_argv(value: str | list[str]) -> list[str]:
    return shlex.split(value) if isinstance(value, str) else [str(word) for word in value]


def option(argv: Sequence[str], name: str) -> str:
    """The value of ``--name VALUE`` in ``argv``."""
    return argv[argv.index(name) + 1]


def healthcheck_test(service: Mapping[str, Any]) -> list[str]:
    test = as_argv(service["healthcheck"]["test"])
    assert test[0] == "CMD", f"the exec form (CMD), not a shell: {test}"
    return test[1:]


def compose_env(service: Mapping[str, Any]) -> dict[str, str]:
    env = service.get("environment", {})
    if isinstance(env, list):
        env = dict(item.split("=", 1) for item in env)
    return {str(key): str(value) for key, value in env.items()}


def test_compose_has_the_three_services_with_healthchecks() -> None:
    services = compose()["services"]
    assert set(services) == SERVICES
    for name, service in services.items():
        check = service["healthcheck"]
        assert not check.get("disable", False), name
        test = healthcheck_test(service)
        route = "/v1/health" if name == "kkt-adapter" else {"mock-ofd": "/ofd/v1/health", "mock-odoo": "/health"}[name]
        assert route + "'" in probe_code(test), f"{name} is probed on {route}"
        for key in ("interval", "timeout", "retries"):
            assert key in check, f"{name}: healthcheck {key}"
        # All three run the one image of deploy/Dockerfile.
        assert service["build"] == {"context": "..", "dockerfile": "deploy/Dockerfile"}, name
        assert (DEPLOY / service["build"]["context"] / service["build"]["dockerfile"]).resolve() == DOCKERFILE


def test_compose_commands_are_real_cli_invocations() -> None:
    services = compose()["services"]
    seen = 0
    for name, service in services.items():
        for key in ("entrypoint", "command"):
            if key in service:
                assert_real_invocation(as_argv(service[key]))
                seen += 1
        if "command" not in service:
            pytest.fail(f"{name}: give the command explicitly (the image's CMD would run the adapter)")
    assert seen >= len(SERVICES)
    assert as_argv(services["kkt-adapter"]["command"]) == ["kkt-adapter", "serve"]
    for name, emulator in (("mock-ofd", "ofd"), ("mock-odoo", "odoo")):
        argv = as_argv(services[name]["command"])
        assert argv[:3] == ["kkt-adapter", "emulate", emulator]
        assert option(argv, "--host") == "0.0.0.0", f"{name} must listen beyond the container's loopback"


def test_compose_wires_the_adapter_to_the_mocks_by_service_name() -> None:
    document = compose()
    services = document["services"]
    adapter = services["kkt-adapter"]
    env = compose_env(adapter)
    ofd_port = option(as_argv(services["mock-ofd"]["command"]), "--port")
    odoo_port = option(as_argv(services["mock-odoo"]["command"]), "--port")
    assert env["KKT_OFD_API_URL"] == f"http://mock-ofd:{ofd_port}"
    assert env["KKT_ODOO_API_URL"] == f"http://mock-odoo:{odoo_port}"
    assert env["KKT_ALLOW_UNAUTHENTICATED"] == "true", "the mock stack listens on 0.0.0.0 without a token"
    assert {name: dep["condition"] for name, dep in adapter["depends_on"].items()} == {
        "mock-ofd": "service_healthy",
        "mock-odoo": "service_healthy",
    }
    # The data lives in a named volume mounted where the image keeps it.
    mounts = [as_mount(volume) for volume in adapter["volumes"]]
    assert (mounts[0][0], mounts[0][1]) == ("kkt-data", dockerfile_env()["KKT_DATA_DIR"])
    assert "kkt-data" in document["volumes"]
    assert_known_settings(set(env), "deploy/docker-compose.yml")
    assert_settings_load({**dockerfile_env(), **env}, "the compose stack's adapter")


def as_mount(volume: str | Mapping[str, Any]) -> tuple[str, str]:
    if isinstance(volume, str):
        source, target = volume.split(":")[:2]
        return source, target
    return str(volume["source"]), str(volume["target"])


@contextmanager
def emulator(command: Sequence[str], port: int, log: Path) -> Iterator[None]:
    """The compose service's command, run here on loopback and ``port``, until the block ends."""
    argv = list(command[1:])
    argv[argv.index("--host") + 1] = "127.0.0.1"
    argv[argv.index("--port") + 1] = str(port)
    with log.open("wb") as out:
        proc = subprocess.Popen([sys.executable, "-m", "kkt_adapter", *argv], stdout=out, stderr=subprocess.STDOUT)
    try:
        yield
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)


def answers(url: str) -> bool:
    try:
        return httpx.get(url, timeout=1).status_code == 200
    except httpx.TransportError:
        return False


@pytest.mark.slow
def test_compose_stack_runs_on_loopback_and_its_healthchecks_pass(tmp_path: Path) -> None:
    """The three services' commands and environment, run here with each service name pointed at a loopback port:
    every healthcheck probe exits 0, a sale reaches the mock OFD, the heartbeat reaches the mock ERP; with nothing
    listening the probes exit non-zero."""
    services = compose()["services"]
    ports = {name: free_port() for name in SERVICES}
    probes = {name: probe_code(healthcheck_test(service)) for name, service in services.items()}

    env = compose_env(services["kkt-adapter"])
    for name in ("mock-ofd", "mock-odoo"):
        container_port = option(as_argv(services[name]["command"]), "--port")
        for key, value in env.items():
            env[key] = value.replace(f"//{name}:{container_port}", f"//127.0.0.1:{ports[name]}")
    assert "mock-" not in env["KKT_OFD_API_URL"] + env["KKT_ODOO_API_URL"]
    env["KKT_HEARTBEAT_INTERVAL"] = "0.2"  # the test's only change: a beat soon

    for name, code in probes.items():
        assert run_probe(on_port(code, ports[name])) != 0, f"{name}'s probe passes with nothing listening"

    with (
        emulator(as_argv(services["mock-ofd"]["command"]), ports["mock-ofd"], tmp_path / "ofd.log"),
        emulator(as_argv(services["mock-odoo"]["command"]), ports["mock-odoo"], tmp_path / "odoo.log"),
    ):
        ofd = f"http://127.0.0.1:{ports['mock-ofd']}"
        odoo = f"http://127.0.0.1:{ports['mock-odoo']}"
        wait_for(lambda: answers(f"{ofd}/ofd/v1/health"), timeout=30, what="the mock OFD")
        wait_for(lambda: answers(f"{odoo}/health"), timeout=30, what="the mock ERP")
        for name in ("mock-ofd", "mock-odoo"):
            assert run_probe(on_port(probes[name], ports[name])) == 0, f"{name}'s healthcheck"

        adapter = AdapterProcess(tmp_path / "data", port=ports["kkt-adapter"], env=env)
        with adapter, httpx.Client(base_url=adapter.url, timeout=10) as http:
            assert run_probe(on_port(probes["kkt-adapter"], adapter.port)) == 0, "the compose healthcheck"
            image_probe = probe_code(dockerfile()["HEALTHCHECK"])
            assert run_probe(image_probe, env={"KKT_API_PORT": str(adapter.port)}) == 0, "the image's HEALTHCHECK"

            sale = http.post("/v1/kkt/receipt", json=SALE, headers={"Idempotency-Key": str(uuid.uuid4())})
            assert sale.status_code == 200, sale.text
            receipt = f"/v1/kkt/receipt/{sale.json()['receipt_id']}"
            wait_for(lambda: http.get(receipt).json()["state"] == "synced", timeout=30, what="sync to the mock OFD")
            assert http.get("/v1/kkt/worker/status").json()["sync_mode"] != "embedded"
            assert httpx.get(f"{ofd}/ofd/v1/health").json()["receipts_received"] >= 1
            adapter_id = env["KKT_ADAPTER_ID"]
            wait_for(lambda: adapter_id in httpx.get(f"{odoo}/_test/adapters").json(), timeout=30, what="a heartbeat")
            assert http.get("/v1/health").status_code == 200
        assert run_probe(image_probe, env={"KKT_API_PORT": str(adapter.port)}) != 0, "probe passes with no adapter"


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


def test_dockerfile_runs_the_adapter_as_a_non_root_user_with_its_data_in_a_volume() -> None:
    image = dockerfile()
    assert image["FROM"] == "python:3.11-slim"
    assert any(re.fullmatch(r"pip install \.(\s.*)?", run) for run in image["RUN"]), "pip install ."
    for copy in image["COPY"]:
        for source in copy.split()[:-1]:
            assert (ROOT / source).exists(), f"COPY {source}: not in the repository (the build context is the root)"
    user = image["USER"].split(":")[0]
    assert user not in ("root", "0"), "the container runs as a non-root user"
    created = [run for run in image["RUN"] if "useradd" in run and re.search(rf"\s{re.escape(user)}(\s|$)", run)]
    assert created, f"the image creates the user {user}"
    env = image["ENV"]
    assert env["KKT_DATA_DIR"] == DATA_DIR
    assert DATA_DIR in image["VOLUME"]
    assert env["KKT_API_HOST"] == "0.0.0.0"
    assert "8000" in " ".join(image["EXPOSE"]).split() and env.get("KKT_API_PORT", "8000") == "8000"
    assert "KKT_ALLOW_UNAUTHENTICATED" not in env, "only the mock stack may run without a token"
    assert_known_settings(set(env), "deploy/Dockerfile")
    # Listening on 0.0.0.0: the rule being added wants a token then, which a deployment supplies.
    assert_settings_load({**env, "KKT_API_TOKEN": "a-token"}, "the image")


def test_dockerfile_commands_are_the_documented_ones() -> None:
    image = dockerfile()
    assert image["CMD"] == ["kkt-adapter", "serve"]
    command = [*image.get("ENTRYPOINT", []), *image["CMD"]]
    assert_real_invocation(command)
    probe = probe_code(image["HEALTHCHECK"])
    assert "/v1/health'" in probe and "urllib.request" in probe
    assert any(option.startswith("--interval=") for option in image["HEALTHCHECK_OPTIONS"])
    documented = DEPLOY_DOC.read_text(encoding="utf-8")
    assert "docker build -f deploy/Dockerfile" in documented
    assert "kkt-adapter serve" in documented


# --- the systemd unit --------------------------------------------------------------------------------------------


def unit_sections() -> dict[str, list[tuple[str, str]]]:
    """A unit file's sections as ordered (key, value) lists (keys repeat: Environment=, SystemCallFilter=)."""
    sections: dict[str, list[tuple[str, str]]] = {}
    current: list[tuple[str, str]] | None = None
    for number, raw in enumerate(UNIT.read_text(encoding="utf-8").splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith(("#", ";")):
            continue
        assert not line.endswith("\\"), f"line {number}: keep each setting on one line"
        if line.startswith("["):
            assert line.endswith("]"), f"line {number}: {line}"
            current = sections.setdefault(line[1:-1], [])
            continue
        key, sep, value = line.partition("=")
        assert sep and current is not None, f"line {number}: not KEY=value in a section: {line}"
        assert re.fullmatch(r"[A-Za-z][A-Za-z0-9]*", key), f"line {number}: key {key!r}"
        current.append((key, value.strip()))
    return sections


def values(section: list[tuple[str, str]], key: str) -> list[str]:
    return [value for name, value in section if name == key]


def one(section: list[tuple[str, str]], key: str) -> str:
    found = values(section, key)
    assert len(found) == 1, f"{key}= appears {len(found)} times"
    return found[0]


def test_systemd_unit_sections_and_keys() -> None:
    sections = unit_sections()
    assert set(sections) == {"Unit", "Service", "Install"}
    assert one(sections["Unit"], "Description")
    assert "network-online.target" in one(sections["Unit"], "After")
    assert one(sections["Install"], "WantedBy") == "multi-user.target"
    service = sections["Service"]
    assert one(service, "Type") in ("simple", "exec")
    assert one(service, "Restart") == "on-failure"
    assert one(service, "StateDirectory") == "kkt-adapter"
    assert one(service, "EnvironmentFile") == "-/etc/kkt-adapter/env"
    env = dict(value.split("=", 1) for value in values(service, "Environment"))
    assert env["KKT_DATA_DIR"] == DATA_DIR == "/var/lib/" + one(service, "StateDirectory")
    assert DATA_DIR in one(service, "ReadWritePaths").split()
    for key, expected in {
        "NoNewPrivileges": "yes",
        "ProtectSystem": "strict",
        "ProtectHome": "yes",
        "PrivateTmp": "yes",
    }.items():
        assert one(service, key) == expected, key
    assert values(service, "DynamicUser") == ["yes"] or values(service, "User") not in ([], ["root"], ["0"])
    assert "KKT_API_HOST" not in env, "the unit keeps the loopback default; exposing it is the env file's decision"
    assert_known_settings(set(env), "deploy/kkt-adapter.service")
    assert_settings_load(env, "the unit")
    # ExecStart: the documented venv's console script, a real subcommand.
    exec_start = shlex.split(one(service, "ExecStart"))
    assert exec_start[0] == VENV_EXECUTABLE
    assert_real_invocation(exec_start)
    assert VENV_EXECUTABLE in DEPLOY_DOC.read_text(encoding="utf-8"), "docs/deploy.md says where the venv goes"


def test_systemd_unit_passes_systemd_analyze_verify(tmp_path: Path) -> None:
    """Where ``systemd-analyze`` exists, it verifies the unit (with ExecStart pointed at this venv's console script,
    since verify checks that the binary exists). Elsewhere the key-by-key test above is the check, and this test
    confirms at least that the unit's command is installed next to this interpreter."""
    installed = Path(sys.executable).parent / "kkt-adapter"
    assert installed.exists(), f"the console script next to {sys.executable}"
    unit = tmp_path / UNIT.name
    unit.write_text(UNIT.read_text(encoding="utf-8").replace(VENV_EXECUTABLE, str(installed)), encoding="utf-8")
    assert str(installed) in unit.read_text(encoding="utf-8")
    analyze = shutil.which("systemd-analyze")
    if analyze is None:
        assert_real_invocation([str(installed), *shlex.split(one(unit_sections()["Service"], "ExecStart"))[1:]])
        return
    result = subprocess.run([analyze, "verify", str(unit)], capture_output=True, text=True, timeout=60)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    # verify exits 0 on an unknown key or a bad value; it only warns, naming the unit's file.
    complaints = [line for line in output.splitlines() if UNIT.name in line]
    assert not complaints, "\n".join(complaints)


# --- the documentation -------------------------------------------------------------------------------------------


def test_deploy_doc_says_what_was_and_was_not_checked() -> None:
    text = DEPLOY_DOC.read_text(encoding="utf-8")
    assert "not built" in text and "tests/integration/test_deploy.py" in text
    assert "docker compose -f deploy/docker-compose.yml up" in text
    assert "systemctl enable --now kkt-adapter" in text
    assert "KKT_API_TOKEN" in text and "KKT_ALLOW_UNAUTHENTICATED" in text
