"""The FN store's schema migrations: a file written by the first version opens with every document, number, key and
the shift intact; a newer file is refused; a migration that fails leaves the file as it was.

``fixtures/fn_v1.sqlite3`` was written by the store's first version (schema 1): a registration, shift 1 with three
sales and a refund closed by its Z report, shift 2 open with two sales. ``fixtures/fn_v1.expected.json`` is what that
version read back from it: the registration's identifiers, the status and every document.
"""

from __future__ import annotations

import json
import shutil
import sqlite3
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pytest

from kkt_clock import ManualClock
from kkt_emulators import fiscal
from kkt_emulators.device import DOC_RECEIPT, DOC_SHIFT_OPENING, EmulatedKKT, FiscalDocument, migrations
from kkt_emulators.device.migrations import SCHEMA_VERSION, SchemaTooNew
from kkt_emulators.device.store import DB_FILE, Store

from .helpers import KKTFactory, sale

FIXTURES = Path(__file__).parent / "fixtures"
V1_FILE = FIXTURES / "fn_v1.sqlite3"
EXPECTED: dict[str, Any] = json.loads((FIXTURES / "fn_v1.expected.json").read_text(encoding="utf-8"))
# Three hours after the fixture's first document (2025-11-30 15:00 MSK): its open shift has not expired.
LATER = 1_764_504_000.0 + 3 * 3600


def _user_version(path: Path) -> int:
    conn = sqlite3.connect(path)
    try:
        version: int = conn.execute("PRAGMA user_version").fetchone()[0]
        return version
    finally:
        conn.close()


@pytest.fixture
def v1_dir(state_dir: Path) -> Path:
    """A copy of the version-1 device (the fixture itself is never opened, so never migrated)."""
    state_dir.mkdir()
    shutil.copy(V1_FILE, state_dir / DB_FILE)
    return state_dir


def test_the_fixture_is_a_version_1_file() -> None:
    """The committed fixture is schema 1, so the test below exercises the migration."""
    assert _user_version(V1_FILE) == 1


def test_a_version_1_device_opens_with_every_document_number_key_and_the_shift_intact(
    v1_dir: Path, make_kkt: KKTFactory
) -> None:
    """After the migration every document reads back as version 1 read it, and the device continues where it was."""
    kkt = make_kkt(v1_dir, create=False, clock=ManualClock(start_wall=LATER))
    assert _user_version(v1_dir / DB_FILE) == SCHEMA_VERSION
    reg = kkt.registration
    assert (reg.inn, reg.fn_number, reg.reg_number, reg.kkt_serial) == tuple(
        EXPECTED["registration"][k] for k in ("inn", "fn_number", "reg_number", "kkt_serial")
    )
    journal = kkt.journal()
    assert [doc.to_dict() for doc in journal] == EXPECTED["journal"]
    assert all(fiscal.verify_fiscal_sign(doc.tags, reg.fn_secret) for doc in journal)
    for entry in EXPECTED["journal"]:
        doc = FiscalDocument.from_dict(entry)
        assert kkt.find_by_number(doc.fd_number) == doc
        if doc.idempotency_key is not None:
            assert kkt.find_by_key(doc.idempotency_key) == doc
    status, expected = kkt.status(), EXPECTED["status"]
    assert (status.shift_open, status.shift_number, status.receipts_in_shift, status.last_fd_number) == (
        expected["shift_open"],
        expected["shift_number"],
        expected["receipts_in_shift"],
        expected["last_fd_number"],
    )
    assert status.shift_opened_at is not None
    assert status.shift_opened_at.isoformat() == expected["shift_opened_at"]
    next_doc = kkt.print_receipt(sale(), idempotency_key="after-migration")
    assert (next_doc.fd_number, next_doc.shift_number, next_doc.receipt_number) == (11, 2, 3)
    assert kkt.print_receipt(sale(), idempotency_key="v1-order-0") == journal[2]  # old keys still answer


def test_the_migration_rebuilds_shift_totals_and_the_fn_life_from_the_journal(
    v1_dir: Path, make_kkt: KKTFactory
) -> None:
    """Shift counters and totals are rebuilt from version 1's journal; the FN's life starts at its registration."""
    kkt = make_kkt(v1_dir, create=False, clock=ManualClock(start_wall=LATER))
    closed = kkt.shift_totals(1)
    assert closed is not None
    assert (closed.shift_open, closed.receipts, closed.documents) == (False, 4, 6)
    assert closed.count_by_operation == {1: 3, 2: 1, 3: 0, 4: 0}
    assert closed.totals_by_operation == {1: 10_000 + 10_001 + 10_002, 2: 10_000, 3: 0, 4: 0}
    assert closed.totals_by_payment["cash"] == 10_000 + 10_002 - 10_000
    assert closed.totals_by_payment["electronic"] == 10_001
    open_shift = kkt.x_report()
    assert (open_shift.shift_number, open_shift.receipts, open_shift.documents) == (2, 2, 3)
    assert open_shift.totals_by_payment == {
        "cash": 25_000,
        "electronic": 5_000,
        "prepaid": 0,
        "credit": 0,
        "provision": 0,
    }
    assert open_shift.opened_at is not None
    assert open_shift.opened_at.isoformat() == EXPECTED["status"]["shift_opened_at"]
    fn_status = kkt.fn_status()
    assert fn_status.validity_date == date(2027, 2, 28)  # registered 2025-11-30, plus 15 months
    assert (fn_status.unsent_count, fn_status.first_unsent_fd_number) == (10, 1)
    assert fn_status.first_unsent_at == datetime.fromisoformat(EXPECTED["journal"][0]["fiscal_datetime"])


def test_a_file_newer_than_the_code_is_refused_and_left_alone(state_dir: Path, make_kkt: KKTFactory) -> None:
    """A schema version this code does not know is refused with a message naming both versions; the file is intact."""
    make_kkt().close()
    path = state_dir / DB_FILE
    conn = sqlite3.connect(path)
    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    conn.close()
    before = path.read_bytes()
    with pytest.raises(SchemaTooNew) as refused:
        EmulatedKKT(state_dir, print_delay_ms=0)
    assert isinstance(refused.value, RuntimeError)
    message = str(refused.value)
    assert f"schema version {SCHEMA_VERSION + 1}" in message
    assert f"newer than this code knows ({SCHEMA_VERSION})" in message
    assert _user_version(path) == SCHEMA_VERSION + 1
    assert path.read_bytes() == before


def test_a_failed_migration_leaves_the_file_at_its_old_version(
    v1_dir: Path, make_kkt: KKTFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A step that fails half-way rolls back whole: the file stays at version 1, and opens later once it can."""

    def broken(conn: sqlite3.Connection) -> None:
        conn.execute("ALTER TABLE documents ADD COLUMN issued_at REAL")  # half of the step done...
        raise OSError("disk full")  # ...then the failure

    monkeypatch.setitem(migrations.MIGRATIONS, 2, broken)
    with pytest.raises(OSError, match="disk full"):
        EmulatedKKT(v1_dir, print_delay_ms=0, create=False)
    assert _user_version(v1_dir / DB_FILE) == 1
    monkeypatch.undo()
    kkt = make_kkt(v1_dir, create=False, clock=ManualClock(start_wall=LATER))
    assert [doc.to_dict() for doc in kkt.journal()] == EXPECTED["journal"]


def test_a_new_device_is_created_at_the_current_version_through_every_step(state_dir: Path) -> None:
    """A fresh file goes through each migration step, to the code's version."""
    state_dir.mkdir()
    Store(state_dir).close()
    assert _user_version(state_dir / DB_FILE) == SCHEMA_VERSION == max(migrations.MIGRATIONS)


def test_documents_of_a_migrated_device_are_unsent_and_counted(v1_dir: Path, make_kkt: KKTFactory) -> None:
    """Version 1 knew nothing of the OFD: every old document starts unsent, and acknowledging them works."""
    kkt = make_kkt(v1_dir, create=False, clock=ManualClock(start_wall=LATER))
    receipts = [doc.fd_number for doc in kkt.journal() if doc.doc_type in (DOC_RECEIPT, DOC_SHIFT_OPENING)]
    assert kkt.acknowledge(receipts) == len(receipts)
    assert kkt.fn_status().unsent_count == 10 - len(receipts)


def _counted(state_dir: Path) -> tuple[int, int]:
    """The FN's kept count of unsent documents, and the journal's unacknowledged documents counted one by one."""
    conn = sqlite3.connect(state_dir / DB_FILE)
    try:
        kept = conn.execute("SELECT count FROM unsent_documents WHERE id = 1").fetchone()[0]
        counted = conn.execute("SELECT count(*) FROM documents WHERE acknowledged_at IS NULL").fetchone()[0]
        return kept, counted
    finally:
        conn.close()


def test_the_unsent_count_is_kept_exact_through_prints_and_acknowledgements(v1_dir: Path, make_kkt: KKTFactory) -> None:
    """Version 3 keeps the FN's unsent count as a counter: counted once from an old journal, then moved by every
    document and every first acknowledgement (a repeated one, or one of an unknown number, moves nothing)."""
    kkt = make_kkt(v1_dir, create=False, clock=ManualClock(start_wall=LATER))
    assert _counted(v1_dir) == (10, 10)
    for n in range(5):
        kkt.print_receipt(sale(100 + n), idempotency_key=f"count-{n}")
    assert _counted(v1_dir) == (15, 15) and kkt.fn_status().unsent_count == 15
    kkt.acknowledge([1, 2, 3])
    kkt.acknowledge([2, 3, 4, 999])
    assert _counted(v1_dir) == (11, 11) and kkt.fn_status().unsent_count == 11
