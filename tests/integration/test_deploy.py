"""The deployment files in ``deploy/`` say only what the code can do.

There is no Docker daemon and no systemd in CI, so the image is never built and the unit never started here. What is
checked instead: the compose file parses and wires three healthy-checked services; every command in the Dockerfile,
the compose file and the systemd unit is a real ``kkt-adapter`` invocation (``--help`` exits 0, every flag is listed
in it, and its values pass the command line's own parsing); the settings they set load; the healthchecks' Python
probes answer 0 against the real adapter and emulators (run here on loopback with the compose wiring) and fail when
nothing listens; the unit passes ``systemd-analyze verify`` where that tool exists, and a key-by-key check always.
"""

from __future__ import annotations

import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from integration.deploy_support import (
    DATA_DIR,
    DEPLOY_DOC,
    ROOT,
    UNIT,
    VENV_EXECUTABLE,
    assert_known_settings,
    assert_real_invocation,
    assert_settings_load,
    dockerfile,
    probe_code,
)

# --- the command line --------------------------------------------------------------------------------------------


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


# --- the Dockerfile ----------------------------------------------------------------------------------------------


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
