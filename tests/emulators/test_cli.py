"""The command line: ``kkt-adapter emulate ofd|odoo|all`` serve until SIGTERM or Ctrl+C, with fault flags."""

from __future__ import annotations

import re
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager

import httpx
import pytest
from typer.testing import CliRunner

pytestmark = pytest.mark.slow

LISTENING = re.compile(r"(?P<name>.+) listening on (?P<url>http://127\.0\.0\.1:\d+)")


@contextmanager
def emulate(*args: str) -> Iterator[tuple[subprocess.Popen[str], list[str]]]:
    """Run ``python -m kkt_emulators.cli ARGS``; yield the process and the URLs it prints; kill it if left running."""
    process = subprocess.Popen(
        [sys.executable, "-m", "kkt_emulators.cli", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        urls: list[str] = []
        expected = 2 if args[0] == "all" else 1
        assert process.stdout is not None
        while len(urls) < expected:
            line = process.stdout.readline()
            assert line, f"exited early: {process.stderr.read() if process.stderr else ''}"
            match = LISTENING.match(line.strip())
            if match:
                urls.append(match["url"])
        yield process, urls
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(10)
        for stream in (process.stdout, process.stderr):
            if stream is not None:
                stream.close()


def stop(process: subprocess.Popen[str], sig: signal.Signals) -> str:
    """Send ``sig`` and return the rest of stdout once the process has exited cleanly."""
    process.send_signal(sig)
    out, _ = process.communicate(timeout=10)
    assert process.returncode == 0
    return out


def test_emulate_ofd_with_fail_count_then_sigterm() -> None:
    """``emulate ofd --port 0 --fail-count 2``: two 503 then 200; SIGTERM stops it cleanly and frees the port."""
    with emulate("ofd", "--port", "0", "--fail-count", "2") as (process, [url]):
        statuses = [httpx.post(f"{url}/ofd/v1/receipt", json={}).status_code for _ in range(3)]
        assert statuses == [503, 503, 200]
        assert "stopped" in stop(process, signal.SIGTERM)
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"{url}/ofd/v1/health")


def test_emulate_ofd_validate_and_rate_limit_flags() -> None:
    """``--validate`` and ``--rate-limit`` program the served OFD; Ctrl+C (SIGINT) stops it cleanly."""
    with emulate("ofd", "--port", "0", "--validate", "--rate-limit", "5") as (process, [url]):
        answer = httpx.post(f"{url}/ofd/v1/receipt", json={})
        assert (answer.status_code, answer.headers["Retry-After"]) == (429, "5")
        httpx.post(f"{url}/ofd/v1/_test/success")
        assert httpx.post(f"{url}/ofd/v1/receipt", json={}).status_code == 422
        stop(process, signal.SIGINT)


def test_emulate_all_serves_both() -> None:
    """``emulate all`` serves the OFD and the ERP at once."""
    with emulate("all", "--ofd-port", "0", "--odoo-port", "0") as (process, [ofd_url, odoo_url]):
        assert httpx.get(f"{ofd_url}/ofd/v1/health").json()["status"] == "healthy"
        assert httpx.post(f"{odoo_url}/api/v1/kkt/heartbeat", json={}).json()["status"] == "ok"
        stop(process, signal.SIGTERM)


def test_emulate_odoo_with_permanent_failure() -> None:
    """``emulate odoo --permanent-failure`` fails heartbeats while health answers."""
    with emulate("odoo", "--port", "0", "--permanent-failure") as (process, [url]):
        assert httpx.post(f"{url}/api/v1/kkt/heartbeat", json={}).status_code == 503
        assert httpx.get(f"{url}/health").status_code == 200
        stop(process, signal.SIGTERM)


def test_busy_port_is_an_error_not_a_traceback() -> None:
    """A port already in use ends the command with code 1 and a one-line reason."""
    with emulate("odoo", "--port", "0") as (process, [url]):
        port = url.rsplit(":", 1)[1]
        busy = subprocess.run(
            [sys.executable, "-m", "kkt_emulators.cli", "odoo", "--port", port],
            capture_output=True,
            text=True,
            timeout=30,
        )
        assert busy.returncode == 1
        assert "cannot listen" in busy.stderr
        stop(process, signal.SIGTERM)


def test_mounted_under_kkt_adapter_emulate() -> None:
    """The adapter's command line mounts these commands as ``kkt-adapter emulate``."""
    from kkt_adapter.cli import build_app

    result = CliRunner().invoke(build_app(), ["emulate", "ofd", "--help"])
    assert result.exit_code == 0
    for flag in ("--validate", "--fail-count", "--permanent-failure", "--fail-every", "--latency-ms"):
        assert flag in result.output
    for flag in ("--rate-limit", "--lose-reply", "--down-for"):
        assert flag in result.output
