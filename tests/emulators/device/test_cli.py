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


READ_ONLY = [
    ["status"],
    ["status", "--json"],
    ["journal"],
    ["journal", "--json"],
    ["shift", "status"],
    ["x-report"],
    ["fn"],
    ["fn", "--json"],
    ["ack", "1"],
]


@pytest.mark.parametrize("command", READ_ONLY, ids=[" ".join(c) for c in READ_ONLY])
def test_read_only_commands_refuse_a_directory_without_a_device(tmp_path: Path, command: list[str]) -> None:
    """Commands that do not print refuse an empty or missing directory (exit 1, a clear error), creating nothing."""
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


def test_journal_with_a_limit_shows_the_newest_documents(state_dir: Path, make_kkt: KKTFactory) -> None:
    """journal --limit 2 without --after lists the two newest documents (oldest of them first), not the first two."""
    kkt = make_kkt()
    for i in range(3):
        kkt.print_receipt(sale(12_345), idempotency_key=f"k-{i}")
    code, out = _run(state_dir, "journal", "--limit", "2", "--json")
    assert code == 0
    assert [doc["fd_number"] for doc in json.loads(out)] == [4, 5]


def test_shift_commands_with_a_key_print_once(state_dir: Path, make_kkt: KKTFactory) -> None:
    """shift open/close --key: a repeated key shows the first document again and prints nothing."""
    kkt: EmulatedKKT = make_kkt()
    first = _run(state_dir, "shift", "open", "--key", "day-1")
    again = _run(state_dir, "shift", "open", "--key", "day-1")
    assert first == again
    assert (first[0], "FD 2 · shift opening" in first[1], "key day-1" in first[1]) == (0, True, True)
    code, out = _run(state_dir, "shift", "close", "--key", "night-1")
    assert (code, "FD 3 · shift closing" in out) == (0, True)
    assert _run(state_dir, "shift", "close", "--key", "night-1") == (code, out)
    assert kkt.status().last_fd_number == 3


def test_shift_status_in_text_and_json(state_dir: Path, make_kkt: KKTFactory) -> None:
    """shift status shows a closed shift, then the open one with its 24-hour limit."""
    kkt = make_kkt()
    assert _run(state_dir, "shift", "status") == (0, "shift 0: closed\n")
    kkt.print_receipt(sale(), idempotency_key="k")
    code, out = _run(state_dir, "shift", "status")
    assert code == 0
    assert out.startswith("shift 1: open since ")
    assert "expires" in out
    assert "1 receipts" in out
    data = json.loads(_run(state_dir, "shift", "status", "--json")[1])
    status = kkt.status()
    assert status.shift_expires_at is not None
    assert (data["shift_number"], data["shift_open"], data["receipts"]) == (1, True, 1)
    assert data["expires_at"] == status.shift_expires_at.isoformat()


def test_x_report_shows_the_open_shifts_totals(state_dir: Path, make_kkt: KKTFactory) -> None:
    """x-report prints counters by operation and net payments; --json gives the ShiftReport's fields."""
    kkt = make_kkt()
    code, out = _run(state_dir, "x-report")
    assert (code, "shift_closed" in out) == (1, True)
    kkt.print_receipt(sale(12_345), idempotency_key="a")
    kkt.print_receipt(sale(2_000, operation=2, cash=False), idempotency_key="b")
    code, out = _run(state_dir, "x-report")
    assert code == 0
    assert "X report · shift 1 (open) · 2 receipts · 3 documents" in out
    assert "cash 123.45" in out
    assert "electronic -20.00" in out
    data = json.loads(_run(state_dir, "x-report", "--json")[1])
    assert data["totals_by_operation"] == {"1": 12_345, "2": 2_000, "3": 0, "4": 0}
    assert data["totals_by_payment"]["cash"] == 12_345
    assert kkt.status().last_fd_number == 4  # the X report printed no fiscal document


def test_fn_and_ack(state_dir: Path, make_kkt: KKTFactory) -> None:
    """fn shows the FN's validity and unsent documents; ack marks documents acknowledged."""
    kkt = make_kkt()
    kkt.print_receipt(sale(), idempotency_key="k")
    code, out = _run(state_dir, "fn")
    assert code == 0
    assert "unsent:      3 (first: FD 1 of " in out
    assert "blocked:     no" in out
    assert _run(state_dir, "ack", "1", "2", "99") == (0, "acknowledged 2 of 3; 1 unsent\n")
    data = json.loads(_run(state_dir, "fn", "--json")[1])
    fn_status = kkt.fn_status()
    assert (data["unsent_count"], data["first_unsent_fd_number"], data["blocked"]) == (1, 3, None)
    assert data["validity_date"] == fn_status.validity_date.isoformat()
    assert data["fn_number"] == kkt.registration.fn_number
    assert _run(state_dir, "ack", "x")[0] == 2


def test_correction_prints_a_type_31_document(state_dir: Path, make_kkt: KKTFactory) -> None:
    """correction --type refund --correction-type instruction ... prints a correction with its basis."""
    kkt = make_kkt()
    code, out = _run(
        state_dir,
        "correction",
        "--type",
        "refund",
        "--correction-type",
        "instruction",
        "--basis-date",
        "2025-11-20",
        "--basis-number",
        "17-ПР",
        "--item",
        "Кофе: с молоком:150.00:2:1",
        "--item",
        "Вода:45.5:1:2",
        "--card",
        "--fiscal-sign",
        "2981623349",
        "--key",
        "corr-1",
    )
    assert code == 0, out
    assert "FD 3 · correction (sale refund)" in out
    assert "total 345.50" in out
    doc = kkt.find_by_key("corr-1")
    assert doc is not None
    tags = doc.tags
    assert (tags["1000"], tags["1054"], tags["1173"], tags["1192"]) == (31, 2, 1, "2981623349")
    assert tags["1174"] == {"1178": "2025-11-20", "1179": "17-ПР"}
    assert [item["1030"] for item in tags["1059"]] == ["Кофе: с молоком", "Вода"]
    assert (tags["1081"], tags["1031"]) == (34_550, 0)


def test_correction_refusals(state_dir: Path, make_kkt: KKTFactory) -> None:
    """A malformed item is a usage error (exit 2); an instruction without its number is the device's refusal."""
    kkt = make_kkt()
    base = ["correction", "--type", "sale", "--basis-date", "2025-11-20"]
    code, out = _run(state_dir, *base, "--correction-type", "self", "--item", "Кофе:150")
    assert code == 2
    assert "name:price:qty:vat" in out
    code, out = _run(state_dir, *base, "--correction-type", "instruction", "--item", "Кофе:150:1:1")
    assert code == 1
    assert "invalid_task" in out
    assert kkt.status().last_fd_number == 1
    code, out = _run(state_dir, *base, "--correction-type", "self", "--item", "Кофе:150:1:1", "--cash")
    assert (code, "correction (sale)" in out) == (0, True)
