"""Going live: a production start that cannot fiscalize on a fake drive, names misspelled settings, and says in one
line why it cannot listen; the command line's version, address options and flag help (real processes)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path

import httpx
import pytest

from kkt_adapter import __version__
from kkt_adapter.testing import AdapterProcess, bodies, wait_for
from kkt_adapter.testing.process import free_port

pytestmark = pytest.mark.slow


def _kkt_adapter(
    args: list[str], env: Mapping[str, str], cwd: Path, timeout: float = 30
) -> subprocess.CompletedProcess[str]:
    """Run ``kkt-adapter ARGS`` with only ``env``'s KKT_* variables (the test's own are stripped)."""
    clean = {key: value for key, value in os.environ.items() if not key.upper().startswith("KKT_")}
    return subprocess.run(
        [sys.executable, "-m", "kkt_adapter", *args],
        env=clean | dict(env),
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def test_production_with_the_emulated_driver_does_not_start(tmp_path: Path) -> None:
    """KKT_MODE=production and nothing else: exit 2 naming KKT_DRIVER_TYPE and the real choice; nothing created."""
    done = _kkt_adapter(["serve"], {"KKT_MODE": "production", "KKT_DATA_DIR": str(tmp_path / "data")}, tmp_path)
    assert done.returncode == 2, done.stderr
    assert "KKT_DRIVER_TYPE" in done.stderr and "'atol'" in done.stderr and "KKT_MODE=mock" in done.stderr
    assert "Traceback" not in done.stderr
    assert not (tmp_path / "data").exists()


def test_production_with_an_emulated_device_in_the_list_does_not_start(tmp_path: Path) -> None:
    """An emulated entry of KKT_DEVICES in production is refused by its name."""
    devices = '[{"name": "kassa-1", "driver": "atol"}, {"name": "spare", "driver": "emulated"}]'
    done = _kkt_adapter(
        ["serve"], {"KKT_MODE": "production", "KKT_DEVICES": devices, "KKT_DATA_DIR": str(tmp_path)}, tmp_path
    )
    assert done.returncode == 2, done.stderr
    assert "KKT_DEVICES" in done.stderr and "spare" in done.stderr


def test_a_misspelled_variable_stops_production_naming_the_closest_setting(tmp_path: Path) -> None:
    """KKT_DRIVER=atol in production: exit 2, naming KKT_DRIVER and suggesting KKT_DRIVER_TYPE."""
    env = {"KKT_MODE": "production", "KKT_DRIVER_TYPE": "atol", "KKT_DRIVER": "atol", "KKT_DATA_DIR": str(tmp_path)}
    done = _kkt_adapter(["serve"], env, tmp_path)
    assert done.returncode == 2, done.stderr
    assert "KKT_DRIVER is not a setting of kkt-adapter; did you mean KKT_DRIVER_TYPE?" in done.stderr


def test_a_misspelled_variable_in_dot_env_is_found_too(tmp_path: Path) -> None:
    """The .env file's names are checked like the environment's."""
    (tmp_path / ".env").write_text("KKT_MODE=production\nKKT_DRIVER_TYPE=atol\nKKT_OFD_API_TOKN=secret\n")
    done = _kkt_adapter(["serve"], {"KKT_DATA_DIR": str(tmp_path / "data")}, tmp_path)
    assert done.returncode == 2, done.stderr
    assert "KKT_OFD_API_TOKN is not a setting of kkt-adapter; did you mean KKT_OFD_API_TOKEN?" in done.stderr
    assert "secret" not in done.stderr


def test_a_misspelled_variable_in_mock_mode_is_a_warning_and_it_serves(tmp_path: Path) -> None:
    """In mock mode the unknown name is logged as a warning and the adapter serves."""
    with AdapterProcess(tmp_path / "data", env={"KKT_DRIVER": "atol", "KKT_SYNC_ENABLED": "false"}) as adapter:
        assert httpx.get(f"{adapter.url}/v1/health", timeout=5).status_code == 200
    log = adapter.log_path.read_text(encoding="utf-8")
    assert "KKT_DRIVER is not a setting of kkt-adapter; did you mean KKT_DRIVER_TYPE?" in log


def test_the_start_is_named_in_one_line(tmp_path: Path) -> None:
    """One log line names the mode, the device with its FN and registration numbers, the OFD delivery and the API."""
    with AdapterProcess(tmp_path / "data", env={"KKT_API_TOKEN": "t0ken-for-the-test"}) as adapter:
        fn = httpx.get(f"{adapter.url}/v1/kkt/fn", headers={"Authorization": "Bearer t0ken-for-the-test"}).json()
    (line,) = [line for line in adapter.log_path.read_text(encoding="utf-8").splitlines() if "started in " in line]
    assert "started in mock mode; device main (emulated): FN " + fn["fn_number"] + ", registration " in line
    assert "OFD delivery over HTTP to the embedded mock OFD http://127.0.0.1:" in line
    assert f"API on 127.0.0.1:{adapter.port} (token set)" in line
    assert "t0ken-for-the-test" not in line


def test_a_start_that_fails_in_the_application_exits_5(tmp_path: Path) -> None:
    """A failure inside the application's start (here a broken composition root) is exit 5, not 3 (the buffer's)."""
    code = f"""
import sys
from kkt_adapter import bootstrap
from kkt_adapter.cli import main

def broken(*args, **kwargs):
    raise RuntimeError("broken on purpose")

bootstrap.build = broken
sys.argv = ["kkt-adapter", "serve"]
main(["serve", "--port", "{free_port()}"])
"""
    clean = {key: value for key, value in os.environ.items() if not key.upper().startswith("KKT_")}
    env = clean | {"KKT_DATA_DIR": str(tmp_path), "KKT_SYNC_ENABLED": "false"}
    done = subprocess.run(
        [sys.executable, "-c", code], env=env, cwd=tmp_path, capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 5, done.stderr


def test_a_port_in_use_is_one_line_and_exit_4(tmp_path: Path) -> None:
    """Another program on the port: exit 4 before the application starts, one line naming the address."""
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        env = {"KKT_DATA_DIR": str(tmp_path), "KKT_API_PORT": str(port), "KKT_SYNC_ENABLED": "false"}
        done = _kkt_adapter(["serve"], env, tmp_path)
    assert done.returncode == 4, done.stderr
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert lines == [
        f"kkt-adapter: cannot start: 127.0.0.1:{port} is in use by another program (another kkt-adapter?): stop it, "
        "or set KKT_API_PORT"
    ]


def test_serve_takes_its_address_from_the_command_line(tmp_path: Path) -> None:
    """serve --host --port listen where they say, over KKT_API_PORT."""
    port, ignored = free_port(), free_port()
    clean = {key: value for key, value in os.environ.items() if not key.upper().startswith("KKT_")}
    env = clean | {"KKT_DATA_DIR": str(tmp_path), "KKT_API_PORT": str(ignored), "KKT_SYNC_ENABLED": "false"}
    command = [sys.executable, "-m", "kkt_adapter", "serve", "--host", "127.0.0.1", "--port", str(port)]
    with subprocess.Popen(command, env=env, cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL) as proc:
        try:
            wait_for(lambda: _answers(f"http://127.0.0.1:{port}/v1/health"), timeout=20, what="serve --port")
            sale = httpx.post(
                f"http://127.0.0.1:{port}/v1/kkt/receipt", json=bodies.sale(), headers={"Idempotency-Key": "cli-1"}
            )
            assert sale.status_code == 200, sale.text
            assert not _answers(f"http://127.0.0.1:{ignored}/v1/health")
        finally:
            proc.terminate()
            proc.wait(timeout=15)


def _answers(url: str) -> bool:
    try:
        return httpx.get(url, timeout=1).status_code == 200
    except httpx.TransportError:
        return False


def test_version_and_flags_without_values(tmp_path: Path) -> None:
    """--version prints the version; a flag's help shows no value (no "<bool>")."""
    done = _kkt_adapter(["--version"], {}, tmp_path)
    assert (done.returncode, done.stdout.strip()) == (0, f"kkt-adapter {__version__}")
    for command in (["demo", "--help"], ["device", "journal", "--help"], ["buffer", "verify", "--help"]):
        shown = _kkt_adapter(command, {}, tmp_path)
        assert shown.returncode == 0, shown.stderr
        assert "<bool>" not in shown.stdout, shown.stdout
    assert "--keep-running  " in _kkt_adapter(["demo", "--help"], {}, tmp_path).stdout
