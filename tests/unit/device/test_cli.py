"""The ``device`` commands operate the same persisted device the adapter prints on."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from kkt_emulators.device import EmulatedKKT
from kkt_emulators.device.cli import app

from .helpers import KKTFactory, sale

runner = CliRunner()


@pytest.fixture(autouse=True)
def _no_data_dir_variable(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Each test starts without ``KKT_DATA_DIR``, in a working directory of its own (``./data/kkt`` is the default)."""
    monkeypatch.delenv("KKT_DATA_DIR", raising=False)
    monkeypatch.chdir(tmp_path)


def _run(state_dir: Path | None, *args: str, env: dict[str, str] | None = None) -> tuple[int, str]:
    """Run a device command with ``--data-dir state_dir`` (none if ``None``); its exit code and output."""
    options = [] if state_dir is None else ["--data-dir", str(state_dir)]
    result = runner.invoke(app, [*options, *args], env=env)
    return result.exit_code, result.output


@pytest.mark.parametrize("command", [["status"], ["status", "--json"], ["journal"], ["journal", "--json"]])
def test_read_only_commands_refuse_a_directory_without_a_device(tmp_path: Path, command: list[str]) -> None:
    """status and journal on an empty or missing directory exit 1 with a clear error, and create nothing there."""
    empty = tmp_path / "empty"
    empty.mkdir()
    for directory in (empty, tmp_path / "missing"):
        code, out = _run(directory, *command)
        assert code == 1
        assert f"no emulated KKT in {directory}" in out
        assert "KKT_DATA_DIR" in out
    assert list(empty.iterdir()) == []
    assert not (tmp_path / "missing").exists()


def test_status_reports_the_device_the_adapter_made(state_dir: Path, make_kkt: KKTFactory) -> None:
    """status on a registered device shows FD 1, no shift, no faults, in text and as JSON."""
    make_kkt()
    code, out = _run(state_dir, "status", "--json")
    assert code == 0
    data = json.loads(out)
    assert (data["last_fd_number"], data["shift_open"], data["online"], data["paper"]) == (1, False, True, True)
    code, out = _run(state_dir, "status")
    assert code == 0
    assert "last FD:     1" in out


def test_without_data_dir_the_device_is_the_adapters_under_kkt_data_dir(tmp_path: Path, make_kkt: KKTFactory) -> None:
    """Without --data-dir the commands use $KKT_DATA_DIR/kkt, where the adapter keeps its device."""
    data_dir = tmp_path / "adapter-data"
    kkt = make_kkt(data_dir / "kkt")
    kkt.print_receipt(sale(), idempotency_key="k")
    code, out = _run(None, "status", "--json", env={"KKT_DATA_DIR": str(data_dir)})
    assert code == 0
    assert json.loads(out)["fn_number"] == kkt.registration.fn_number
    code, out = _run(None, "journal", "--json", env={"KKT_DATA_DIR": str(data_dir)})
    assert [doc["idempotency_key"] for doc in json.loads(out)] == [None, None, "k"]
    assert _run(None, "fault", "offline", "on", env={"KKT_DATA_DIR": str(data_dir)})[0] == 0
    assert not kkt.status().online


def test_without_data_dir_or_variable_the_device_is_under_data_kkt(tmp_path: Path, make_kkt: KKTFactory) -> None:
    """With neither --data-dir nor KKT_DATA_DIR the commands use ./data/kkt, the adapter's default."""
    kkt = make_kkt(tmp_path / "data" / "kkt")
    code, out = _run(None, "status", "--json")
    assert code == 0
    assert json.loads(out)["fn_number"] == kkt.registration.fn_number


def test_an_explicit_data_dir_wins_over_the_variable(tmp_path: Path, state_dir: Path, make_kkt: KKTFactory) -> None:
    """--data-dir names the device even when KKT_DATA_DIR points elsewhere."""
    kkt = make_kkt()
    make_kkt(tmp_path / "other" / "kkt")
    code, out = _run(state_dir, "status", "--json", env={"KKT_DATA_DIR": str(tmp_path / "other")})
    assert code == 0
    assert json.loads(out)["fn_number"] == kkt.registration.fn_number


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
