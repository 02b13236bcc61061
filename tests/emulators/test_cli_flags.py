"""The fault flags of ``emulate ofd`` and ``emulate odoo``: one set of flags, programming either server the same way."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pytest
from typer.testing import CliRunner

from kkt_clock import ManualClock
from kkt_emulators import cli
from kkt_emulators.emulator import EmulatorServer
from kkt_emulators.faults import FaultProgram

EVERY_FLAG = [
    "--fail-count",
    "2",
    "--permanent-failure",
    "--fail-every",
    "3",
    "--latency-ms",
    "40",
    "--jitter-ms",
    "5",
    "--rate-limit",
    "1.5",
    "--lose-reply",
    "4",
    "--connection-reset",
    "6",
    "--down-for",
    "60",
]


def _programmed(command: str, *args: str, monkeypatch: pytest.MonkeyPatch) -> EmulatorServer[Any]:
    """Run ``command`` with ``args`` up to the point it would serve, and return the server it built."""
    built: list[EmulatorServer[Any]] = []

    def capture(servers: Sequence[EmulatorServer[Any]]) -> None:
        built.extend(servers)

    monkeypatch.setattr(cli, "serve_until_signalled", capture)
    result = CliRunner().invoke(cli.app, [command, "--port", "0", *args])
    assert result.exit_code == 0, result.output
    (server,) = built
    return server


@pytest.mark.parametrize("command", ["ofd", "odoo"])
def test_every_fault_flag_programs_the_server(command: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Each fault flag arms its fault on the server the command serves, on the OFD and on the ERP alike."""
    faults = _programmed(command, *EVERY_FLAG, monkeypatch=monkeypatch).get_faults()
    assert faults["down_for_s"] == pytest.approx(60, abs=1)
    assert {key: value for key, value in faults.items() if key != "down_for_s"} == {
        "permanent_failure": True,
        "failure_count": 2,
        "fail_every": 3,
        "latency_ms": 40.0,
        "jitter_ms": 5.0,
        "rate_limit_retry_after_s": 1.5,
        "rate_limit_count": None,
        "connection_reset_count": 6,
        "lose_reply_count": 4,
        "lose_reply_mode": "drop",
        "held": False,
        "held_requests": 0,
    }


@pytest.mark.parametrize("command", ["ofd", "odoo"])
def test_no_fault_flag_serves_a_healthy_server(command: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Without fault flags the server starts with nothing armed, as a fresh one."""
    server = _programmed(command, monkeypatch=monkeypatch)
    assert server.get_faults() == FaultProgram(ManualClock()).snapshot()


def test_only_the_ofd_takes_validate(monkeypatch: pytest.MonkeyPatch) -> None:
    """``--validate`` switches the OFD's validate mode; the ERP has no such flag."""
    from kkt_emulators.ofd import MockOFDServer

    server = _programmed("ofd", "--validate", monkeypatch=monkeypatch)
    assert isinstance(server, MockOFDServer)
    assert server.validate
    result = CliRunner().invoke(cli.app, ["odoo", "--validate"])
    assert result.exit_code == 2
