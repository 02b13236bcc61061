"""``make run`` is the README's first command: it serves, and a SIGTERM to make stops the adapter with it."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
from pathlib import Path

import httpx
import pytest

from kkt_adapter.testing import wait_for
from kkt_adapter.testing.process import free_port

ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.slow


def _port_is_free(port: int) -> bool:
    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) != 0


def _answers(url: str) -> bool:
    try:
        return httpx.get(url, timeout=1).status_code in (200, 503)
    except httpx.TransportError:
        return False


def test_sigterm_to_make_stops_the_adapter_and_frees_its_port(tmp_path: Path) -> None:
    """The recipe execs the adapter, so make's SIGTERM reaches it: make exits, the adapter exits, the port is free."""
    port = free_port()
    env = {key: value for key, value in os.environ.items() if not key.startswith(("KKT_", "MAKE", "MFLAGS"))}
    env |= {"KKT_API_PORT": str(port), "KKT_DATA_DIR": str(tmp_path / "data"), "KKT_EMULATOR_PRINT_DELAY_MS": "0"}
    with (tmp_path / "make.log").open("wb") as log:
        make = subprocess.Popen(
            ["make", "--no-print-directory", "-C", str(ROOT), "run"],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        wait_for(lambda: _answers(f"http://127.0.0.1:{port}/v1/health"), timeout=60, what="make run serving")
        make.send_signal(signal.SIGTERM)
        make.wait(timeout=30)
        wait_for(lambda: _port_is_free(port), timeout=30, what="the adapter's port freed")
    finally:
        if make.poll() is None:
            os.killpg(make.pid, signal.SIGKILL)
        else:
            # Whatever make left in its session (an orphaned adapter) must not outlive the test.
            with_pids = subprocess.run(["pgrep", "-s", str(make.pid)], capture_output=True, text=True).stdout.split()
            for pid in with_pids:
                os.kill(int(pid), signal.SIGKILL)
            assert not with_pids, f"processes left behind by make: {with_pids}"
