"""The buffer's schema changes through migrations: a file of release 0.1.0 opens with everything intact."""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

import pytest

from kkt_adapter.buffer import Buffer
from kkt_adapter.buffer.connection import SCHEMA_VERSION, StorageError
from kkt_adapter.domain.states import ReceiptState
from kkt_adapter.testing import FakeClock

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "release-0.1.0" / "buffer.sqlite3"


def _rows(path: Path) -> list[tuple[object, ...]]:
    conn = sqlite3.connect(path)
    try:
        return conn.execute(
            "SELECT receipt_id, idempotency_key, body_hash, state, fd_number, fn_number, fiscal_json, response_json,"
            " attempts, ofd_id, hlc_wall_ms, hlc_logical FROM receipts ORDER BY seq"
        ).fetchall()
    finally:
        conn.close()


@pytest.fixture
def old_file(tmp_path: Path) -> Path:
    path = tmp_path / "buffer.sqlite3"
    shutil.copy(FIXTURE, path)
    return path


def test_release_0_1_0_file_opens_with_every_receipt_intact(old_file: Path) -> None:
    """Every row, key, FD number, fiscal answer and delivery state of the old file survives the upgrade."""
    before = _rows(old_file)
    buffer = Buffer(old_file, clock=FakeClock())
    try:
        counts = buffer.counts()
        assert (counts.synced, counts.pending, counts.dlq, counts.print_failed) == (5, 4, 1, 1)
        assert buffer.get_by_key("synced-0") is not None
        stored = buffer.get_by_key("pending-5")
        assert stored is not None and stored.state is ReceiptState.DLQ
        assert stored.doc_type == 3 and stored.original_receipt_id is None
        # No journal mark yet: the first start reads the device's journal from its first unacknowledged document.
        assert buffer.journal_marks() == {}
    finally:
        buffer.close()
    assert _rows(old_file) == before
    conn = sqlite3.connect(old_file)
    assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    conn.close()


def test_reopening_an_upgraded_file_changes_nothing(old_file: Path) -> None:
    """Migrations run once: a second open finds the file at the current version and leaves it as it is."""
    Buffer(old_file, clock=FakeClock()).close()
    once = _rows(old_file)
    Buffer(old_file, clock=FakeClock()).close()
    assert _rows(old_file) == once


def test_a_file_from_a_newer_release_is_refused(tmp_path: Path) -> None:
    """A buffer written by a newer schema is refused with a message saying so, and is not touched."""
    path = tmp_path / "buffer.sqlite3"
    Buffer(path, clock=FakeClock()).close()
    conn = sqlite3.connect(path)
    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    conn.close()
    with pytest.raises(StorageError, match="newer kkt-adapter"):
        Buffer(path, clock=FakeClock())
    conn = sqlite3.connect(path)
    assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION + 1
    conn.close()


def test_a_receipts_events_are_read_by_index(tmp_path: Path) -> None:
    """Reading one receipt's audit trail uses the events index, not a scan of every event (schema version 3)."""
    path = tmp_path / "buffer.sqlite3"
    Buffer(path, clock=FakeClock()).close()
    conn = sqlite3.connect(path)
    try:
        plan = conn.execute(
            "EXPLAIN QUERY PLAN SELECT * FROM events WHERE receipt_id = ? ORDER BY id DESC LIMIT 100", ("r",)
        ).fetchall()
    finally:
        conn.close()
    assert any("events_receipt" in str(row[-1]) for row in plan), plan
