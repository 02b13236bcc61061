"""``kkt-adapter demo`` as a user runs it: a real process, a store's day with an OFD outage, and its summary."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.slow


def demo(*args: str, cwd: Path) -> tuple[int, dict[str, Any], str]:
    """Run the demo with ``--json``: its exit status, the summary from stdout's last line, and what it printed."""
    result = subprocess.run(
        [sys.executable, "-m", "kkt_adapter", "demo", "--json", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=60,
        check=False,
    )
    lines = result.stdout.strip().splitlines()
    assert lines, result.stderr
    return result.returncode, json.loads(lines[-1]), result.stderr


def test_a_day_with_an_outage_prints_and_delivers_every_sale_once(tmp_path: Path) -> None:
    """100 sales and a 2 s OFD outage: 101 receipts printed (with the refund), every document delivered once, no
    duplicate and no gap at the OFD, exit status 0."""
    status, summary, printed = demo("--sales", "100", "--outage", "2", cwd=tmp_path)
    assert status == 0, printed
    assert summary["ok"] is True, summary["problems"]
    assert (summary["sales"], summary["printed"], summary["refunds"], summary["z_receipts"]) == (100, 101, 1, 101)
    # Every document the FN signed: its registration report, the shift opening, 101 receipts and the Z report.
    assert summary["documents"] == summary["delivered"] == summary["ofd_documents"] == 104
    assert (summary["duplicates"], summary["gaps"], summary["dlq"]) == (0, [], 0)
    assert summary["fd_range"] == [1, 104]
    assert summary["outage"] is not None and summary["outage"][1] - summary["outage"][0] >= 1.9  # rounded times
    assert summary["heartbeats"] > 0
    assert "/ui" in printed


def test_a_second_day_in_the_same_data_dir_counts_only_its_own_documents(tmp_path: Path) -> None:
    """With ``--data-dir`` the buffer and the device stay; a second day opens shift 2 and its figures are its own."""
    data_dir = tmp_path / "store"
    first_status, first, _ = demo("--sales", "10", "--outage", "0.5", "--data-dir", str(data_dir), cwd=tmp_path)
    status, second, printed = demo("--sales", "10", "--outage", "0", "--data-dir", str(data_dir), cwd=tmp_path)
    assert (first_status, status) == (0, 0), printed
    assert (data_dir / "buffer.sqlite3").exists()
    # Day 2: shift opening, 11 receipts, Z report; its FD numbers follow day 1's.
    assert second["documents"] == second["delivered"] == second["ofd_documents"] == 13
    assert second["fd_range"] == [first["fd_range"][1] + 1, first["fd_range"][1] + 13]
    assert (second["duplicates"], second["gaps"], second["outage"]) == (0, [], None)
