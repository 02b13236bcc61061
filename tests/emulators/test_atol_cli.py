"""``kkt-adapter emulate atol``: its flags program the server it builds, and as a real process it serves a sale and
stops cleanly on SIGTERM."""

from __future__ import annotations

import re
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest
from atol_helpers import new_uuid, sell, settled, to_json
from typer.testing import CliRunner

from kkt_emulators import cli
from kkt_emulators.atol import MockAtolServer
from kkt_emulators.emulator import EmulatorServer

LISTENING = re.compile(r"mock ATOL listening on (?P<url>http://127\.0\.0\.1:\d+)")


def _built(monkeypatch: pytest.MonkeyPatch, *args: str) -> MockAtolServer:
    """Run ``emulate atol ARGS`` up to the point it would serve; the server it built (stopped by the caller)."""
    built: list[EmulatorServer[Any]] = []
    monkeypatch.setattr(cli, "serve_until_signalled", lambda servers: built.extend(servers))
    outcome = CliRunner().invoke(cli.app, ["atol", "--port", "0", *args])
    assert outcome.exit_code == 0, outcome.output
    (server,) = built
    assert isinstance(server, MockAtolServer)
    return server


def test_every_atol_flag_arms_its_fault(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """The protocol's fault flags, and the shared ones, arm the server's fault program; the device is in --data-dir."""
    server = _built(
        monkeypatch,
        "--data-dir",
        str(tmp_path / "kkt"),
        "--in-progress",
        "3",
        "--lose-post",
        "1",
        "--lose-get",
        "2",
        "--block",
        "not-printed",
        "--block-polls",
        "4",
        "--paper-out",
        "--cover-open",
        "--disconnect",
        "--down-for",
        "60",
    )
    try:
        armed = server.get_faults()
        assert (armed["in_progress_polls"], armed["lose_reply_post"], armed["lose_reply_get"]) == (3, 1, 2)
        assert armed["block"] == {"printed": False, "polls": 4}
        assert armed["paper_out"] and armed["cover_open"] and armed["disconnected"]
        assert armed["down_for_s"] == pytest.approx(60, abs=1)
        assert server.kkt.state_dir == tmp_path / "kkt"
        assert server.port == 0 and server.ofd_link is None
    finally:
        server.stop()


def test_without_flags_the_server_is_healthy_and_paper_is_back(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """A run without fault flags arms nothing, and puts back the paper an earlier ``--paper-out`` run left out."""
    _built(monkeypatch, "--data-dir", str(tmp_path), "--paper-out").stop()
    server = _built(monkeypatch, "--data-dir", str(tmp_path), "--ofd-url", "http://127.0.0.1:9", "--user", "u")
    try:
        armed = server.get_faults()
        assert not (armed["paper_out"] or armed["cover_open"] or armed["disconnected"]) and armed["block"] is None
        assert server.ofd_link is not None and server.ofd_link.ofd_url == "http://127.0.0.1:9"
    finally:
        server.stop()


def test_mounted_under_kkt_adapter_emulate() -> None:
    """The adapter's command line has ``emulate atol`` with its flags."""
    from kkt_adapter.cli import build_app

    outcome = CliRunner().invoke(build_app(), ["emulate", "atol", "--help"])
    assert outcome.exit_code == 0
    for flag in ("--ofd-url", "--data-dir", "--user", "--password", "--block", "--in-progress", "--down-for"):
        assert flag in outcome.output


@pytest.mark.slow
def test_the_process_serves_a_sale_and_stops_on_sigterm(tmp_path: Path) -> None:
    """``kkt-adapter emulate atol --port 0``: it prints where it listens, a sale posted as raw JSON is printed and
    read back, and SIGTERM stops it cleanly (exit 0, ``stopped``, the port freed)."""
    command = [sys.executable, "-m", "kkt_adapter", "emulate", "atol", "--port", "0", "--data-dir", str(tmp_path)]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert process.stdout is not None
        url = None
        while url is None:
            line = process.stdout.readline()
            assert line, f"exited early: {process.stderr.read() if process.stderr else ''}"
            match = LISTENING.search(line)
            url = match["url"] if match else None
        with httpx.Client(timeout=5.0) as http:
            job = new_uuid()
            answer = http.post(f"{url}/api/v2/requests", content=to_json({"uuid": job, "request": [sell()]}))
            assert answer.status_code == 201
            (entry,) = settled(http, url, job)
            assert entry["status"] == "ready" and entry["result"]["fiscalParams"]["fiscalDocumentNumber"] == 3
        process.send_signal(signal.SIGTERM)
        out, _ = process.communicate(timeout=15)
        assert process.returncode == 0 and "stopped" in out
        with pytest.raises(httpx.ConnectError):
            httpx.get(f"{url}/api/v2/serverInfo")
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(10)
