"""The ``device`` commands operate the same persisted device the adapter prints on."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from kkt_emulators.device import EmulatedKKT
from kkt_emulators.device.cli import app

from .helpers import KKTFactory, sale

runner = CliRunner()


def _run(state_dir: Path, *args: str) -> tuple[int, str]:
    result = runner.invoke(app, ["--data-dir", str(state_dir), *args])
    return result.exit_code, result.output


def test_status_registers_an_empty_directory_and_reports_it(state_dir: Path) -> None:
    """status on an empty directory registers the device and shows FD 1, no shift, no faults."""
    code, out = _run(state_dir, "status", "--json")
    assert code == 0
    data = json.loads(out)
    assert (data["last_fd_number"], data["shift_open"], data["online"], data["paper"]) == (1, False, True, True)
    code, out = _run(state_dir, "status")
    assert code == 0
    assert "last FD:     1" in out


def test_fault_commands_are_seen_by_a_running_device(state_dir: Path, make_kkt: KKTFactory) -> None:
    """fault paper-out on / offline on / clear-faults change what an already open instance sees."""
    kkt = make_kkt()
    assert _run(state_dir, "fault", "paper-out", "on")[0] == 0
    assert not kkt.status().paper
    assert _run(state_dir, "fault", "offline", "on")[0] == 0
    assert not kkt.status().online
    assert _run(state_dir, "fault", "offline", "off")[0] == 0
    assert kkt.status().online
    assert _run(state_dir, "clear-faults")[0] == 0
    assert kkt.status().paper


def test_shift_commands_print_reports_and_refuse_politely(state_dir: Path, make_kkt: KKTFactory) -> None:
    """open-shift and close-shift print their reports; repeating one exits 1 with the device's reason."""
    kkt: EmulatedKKT = make_kkt()
    code, out = _run(state_dir, "open-shift")
    assert (code, "FD 2 · shift opening" in out) == (0, True)
    code, out = _run(state_dir, "open-shift")
    assert code == 1
    assert "shift_open" in out
    kkt.print_receipt(sale(), idempotency_key="k")
    code, out = _run(state_dir, "close-shift")
    assert (code, "FD 4 · shift closing" in out) == (0, True)
    assert not kkt.status().shift_open


def test_journal_lists_documents_as_text_and_json(state_dir: Path, make_kkt: KKTFactory) -> None:
    """journal pages with --after/--limit; --json gives the documents as the library's to_dict."""
    kkt = make_kkt()
    for i in range(3):
        kkt.print_receipt(sale(12_345), idempotency_key=f"k-{i}")
    code, out = _run(state_dir, "journal", "--after", "2", "--limit", "2")
    assert code == 0
    lines = out.splitlines()
    assert len(lines) == 2
    assert lines[0].startswith("FD 3 · receipt (sale)")
    assert "total 123.45" in lines[0]
    assert "key k-0" in lines[0]
    code, out = _run(state_dir, "journal", "--json")
    assert [doc["fd_number"] for doc in json.loads(out)] == [1, 2, 3, 4, 5]
