"""The buffer file's integrity: a damaged file refused at open with the remedy, the write probe that reads back, the
restore from the device's journal (logged, counted, audited), and the operator's tools (check, move aside, backup)."""

from __future__ import annotations

import random
import sqlite3
import subprocess
import sys
import textwrap
from decimal import Decimal
from pathlib import Path

import pytest

from kkt_adapter.buffer import Buffer, integrity
from kkt_adapter.buffer.connection import Database, StorageError
from kkt_adapter.domain.device import JournalEntry
from kkt_adapter.domain.receipt import Item, Payment, Receipt
from kkt_adapter.intake.devices import DeviceUnit, open_unit
from kkt_adapter.status.metrics import Metrics
from kkt_adapter.testing import FakeClock, FakeDriver

SALE = Receipt(
    pos_id="POS-001",
    operation="sale",
    items=(Item("Линза", 10000, Decimal(1), 10000, 1),),
    payments=(Payment("cash", 10000),),
)
WRITES = (sqlite3.SQLITE_INSERT, sqlite3.SQLITE_UPDATE, sqlite3.SQLITE_DELETE)


def fill(path: Path, rows: int = 2000) -> None:
    """A buffer file of a few hundred KB, checkpointed (closed), so that its middle holds table pages."""
    buffer = Buffer(path, clock=FakeClock())
    buffer.db.run(
        lambda conn: conn.executemany(
            "INSERT INTO events (at, kind, detail) VALUES (?, 'filler', ?)", [(i, "x" * 200) for i in range(rows)]
        )
    )
    buffer.close()


def damage(path: Path, *, size: int = 16 * 1024, seed: int = 54) -> None:
    """Write ``size`` bytes of garbage in the middle of the file (page-aligned)."""
    middle = path.stat().st_size // 2 // 4096 * 4096
    garbage = random.Random(seed).randbytes(size)
    with path.open("r+b") as file:
        file.seek(middle)
        file.write(garbage)


def deny_writes(action: int, *_: object) -> int:
    return sqlite3.SQLITE_DENY if action in WRITES else sqlite3.SQLITE_OK


class TestOpen:
    def test_garbage_mid_file_stops_the_open_naming_file_problem_and_remedy(self, tmp_path: Path) -> None:
        """16 KB of garbage in the middle of the file: opening raises StorageError with path, damage and command."""
        path = tmp_path / "buffer.sqlite3"
        fill(path)
        damage(path)
        with pytest.raises(StorageError) as caught:
            Database(path)
        message = str(caught.value)
        assert str(path) in message
        assert "damaged" in message
        assert "kkt-adapter buffer recover" in message

    def test_a_file_that_is_not_a_database_is_refused_the_same_way(self, tmp_path: Path) -> None:
        """A file whose header is garbage is reported as damaged, with the recovery command."""
        path = tmp_path / "buffer.sqlite3"
        path.write_bytes(random.Random(1).randbytes(64 * 1024))
        with pytest.raises(StorageError, match="kkt-adapter buffer recover"):
            Database(path)

    def test_a_sound_file_opens_after_the_check(self, tmp_path: Path) -> None:
        """A sound file passes quick_check, opens, and keeps its rows across close and reopen."""
        path = tmp_path / "buffer.sqlite3"
        fill(path, rows=10)
        buffer = Buffer(path, clock=FakeClock())
        try:
            assert len(buffer.events(limit=100)) == 10
        finally:
            buffer.close()


class TestWriteProbe:
    def test_the_probe_writes_and_reads_back(self, tmp_path: Path) -> None:
        """The probe increments its counter, reads it back on another connection and records success."""
        db = Database(tmp_path / "buffer.sqlite3")
        try:
            assert db.probe_write() is True
            assert db.probe_write() is True
            assert db.last_write_ok is True
            with db.read() as conn:
                assert conn.execute("SELECT value FROM meta WHERE key = 'probe'").fetchone()[0] == "2"
        finally:
            db.close()

    def test_a_refused_write_fails_the_probe_with_its_reason_and_it_recovers(self, tmp_path: Path) -> None:
        """While writes are denied the probe fails and says why; once allowed again it succeeds by itself."""
        db = Database(tmp_path / "buffer.sqlite3")
        try:
            with db._lock:
                db._conn.set_authorizer(deny_writes)
            assert db.probe_write() is False
            assert db.last_write_ok is False
            assert "not authorized" in (db.last_write_error or "")
            with db._lock:
                db._conn.set_authorizer(None)
            assert db.probe_write() is True
            assert db.last_write_error is None
        finally:
            db.close()


def _unit(buffer: Buffer, driver: FakeDriver) -> DeviceUnit:
    return open_unit("main", driver, buffer, buffer.clock, capacity=100, retry_after_s=1, metrics=Metrics())


class TestRestore:
    def test_a_receipt_found_by_key_at_start_brings_the_documents_the_device_made_before_it(
        self, tmp_path: Path
    ) -> None:
        """Killed between the print and the buffer's commit of a day's first sale, for which the device opened the
        shift: start-up reconciliation stores the shift opening with the receipt (the receipt raises the journal
        mark past it), so every document the device signed is in the buffer once."""
        driver = FakeDriver()
        buffer = Buffer(tmp_path / "buffer.sqlite3", clock=FakeClock())
        unit = _unit(buffer, driver)
        try:
            driver.print_receipt(SALE, idempotency_key="yesterday")
            driver.close_shift(idempotency_key="yesterday's Z report")
            unit.recovery.catch_up()
            buffer.begin_accept(key="first-sale", receipt=SALE, capacity=100)
            opening = driver.open_shift(idempotency_key="device-opened-the-shift")
            sale = driver.print_receipt(SALE, idempotency_key="first-sale")

            assert unit.recovery.reconcile().recovered == 1
            assert unit.recovery.catch_up() == 0
            with buffer.db.read() as conn:
                kept = [row[0] for row in conn.execute("SELECT fd_number FROM receipts ORDER BY fd_number")]
            assert kept == [1, 2, opening.fiscal_doc_number, sale.fiscal_doc_number] == [1, 2, 3, 4]
        finally:
            unit.close()
            buffer.close()

    def test_catch_up_restores_a_lost_buffer_logs_counts_and_audits_it(self, tmp_path: Path) -> None:
        """A buffer file lost after three sales: catch-up restores them as pending, counts them and writes a
        ``restore`` event naming the FD range."""
        driver = FakeDriver()
        path = tmp_path / "buffer.sqlite3"
        buffer = Buffer(path, clock=FakeClock())
        for n in range(3):
            driver.print_receipt(SALE, idempotency_key=f"k{n}")
        buffer.close()
        for suffix in ("", "-wal", "-shm"):
            path.with_name(path.name + suffix).unlink(missing_ok=True)

        fresh = Buffer(path, clock=FakeClock())
        unit = _unit(fresh, driver)
        try:
            assert unit.recovery.catch_up() == 3
            assert fresh.counts().pending == 3
            assert unit.recovery.metrics.restored._value.get() == 3
            (event,) = [e for e in fresh.events(limit=100) if e["kind"] == "restore"]
            assert "FD 1-3" in event["detail"]
            assert f"FN {FakeDriver.FN_NUMBER}" in event["detail"]
            assert unit.recovery.catch_up() == 0, "a second catch-up finds nothing more"
        finally:
            unit.close()
            fresh.close()


class TestTools:
    def test_check_reports_a_damaged_file_and_passes_a_sound_one(self, tmp_path: Path) -> None:
        """integrity_check finds nothing in a sound file and names problems in a damaged one."""
        path = tmp_path / "buffer.sqlite3"
        fill(path)
        assert integrity.check(path) == []
        damage(path)
        assert integrity.check(path) != []

    def test_move_aside_takes_the_companion_files_along(self, tmp_path: Path) -> None:
        """The file, its -wal and its -shm are renamed to ``<name>.damaged-<stamp>`` with the same suffixes."""
        path = tmp_path / "buffer.sqlite3"
        for suffix in ("", "-wal", "-shm"):
            path.with_name(path.name + suffix).write_bytes(b"x")
        moved = integrity.move_aside(path, stamp="20260101T000000Z")
        assert [p.name for p in moved] == [
            "buffer.sqlite3.damaged-20260101T000000Z",
            "buffer.sqlite3.damaged-20260101T000000Z-wal",
            "buffer.sqlite3.damaged-20260101T000000Z-shm",
        ]
        assert not path.exists()

    def test_backup_copies_an_open_buffer_and_refuses_to_overwrite(self, tmp_path: Path) -> None:
        """The online backup of a buffer in use holds its committed rows and passes quick_check."""
        path, copy = tmp_path / "buffer.sqlite3", tmp_path / "copy.sqlite3"
        fill(path, rows=50)
        db = Database(path)
        try:
            db.run(lambda conn: conn.execute("INSERT INTO events (at, kind) VALUES (1, 'late')"))
            assert integrity.backup(path, copy) == []
            with pytest.raises(FileExistsError):
                integrity.backup(path, copy)
        finally:
            db.close()
        conn = sqlite3.connect(copy)
        try:
            assert conn.execute("SELECT COUNT(*) FROM events").fetchone()[0] == 51
        finally:
            conn.close()

    def test_in_use_sees_another_process_holding_the_file(self, tmp_path: Path) -> None:
        """A file another process holds open is in use; once that process is gone, it is not."""
        path = tmp_path / "buffer.sqlite3"
        fill(path, rows=1)
        holder = textwrap.dedent(
            f"""
            import sys
            from pathlib import Path
            from kkt_adapter.buffer.connection import Database
            db = Database(Path({str(path)!r}))
            print("open", flush=True)
            sys.stdin.read()
            db.close()
            """
        )
        proc = subprocess.Popen(
            [sys.executable, "-c", holder], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
        )
        try:
            assert proc.stdout is not None and proc.stdout.readline().strip() == "open"
            assert integrity.in_use(path) is True
        finally:
            proc.communicate(timeout=30)
        assert integrity.in_use(path) is False

    def test_lacking_lists_journal_documents_without_a_row(self) -> None:
        """A journal document is lacking unless its FD number is held, or its key is a row still being printed."""
        driver = FakeDriver()
        for key in ("a", "b", "c"):
            driver.print_receipt(SALE, idempotency_key=key)
        journal: list[JournalEntry] = driver.journal(after_fd=0, limit=10)
        held = integrity.Held(fd_numbers=frozenset({1}), unprinted_keys=frozenset({"b"}), states={})
        assert [entry.key for entry in integrity.lacking(held, journal)] == ["c"]
