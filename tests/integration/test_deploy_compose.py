"""The compose file in ``deploy/`` wires three healthchecked services, with real commands and settings, and the
stack runs here on loopback with its healthchecks passing (see test_deploy.py for what is checked and why)."""

from __future__ import annotations

import shlex
import subprocess
import sys
import uuid
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from integration.deploy_support import (
    COMPOSE,
    DEPLOY,
    DOCKERFILE,
    SERVICES,
    assert_known_settings,
    assert_real_invocation,
    assert_settings_load,
    dockerfile,
    dockerfile_env,
    on_port,
    probe_code,
    run_probe,
)
from kkt_adapter.testing import bodies, wait_for
from kkt_adapter.testing.process import AdapterProcess, free_port

#: A sale as the README sends it.
SALE = bodies.sale()


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
