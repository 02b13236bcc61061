"""The FN store's schema, version by version: each step takes a file from one ``PRAGMA user_version`` to the next.

A fresh file goes through every step, an old one through the steps it lacks, all in the one write transaction the
store opens with: a step that fails leaves the file exactly as it was, at its old version. A file newer than the code
is refused (:class:`SchemaTooNew`), never opened: this code would not know what its columns mean.

Steps are frozen once released: they hold their own SQL and never call the store's current queries, so that a later
change to the store cannot change how an old file is brought up to date.

- 1: ``registration``, ``device_state`` (one row each) and ``documents`` (the journal).
- 2: the FN's life (registration time, validity date, archive capacity), each document's time and OFD
  acknowledgement, and per-shift counters and running totals (``shifts``, ``shift_totals``), rebuilt from the
  journal for a file that has documents already.
- 3: the count of unsent documents kept by triggers (``unsent_documents``), counted once from the journal.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable
from datetime import datetime

from kkt_emulators.device.fn import DEFAULT_ARCHIVE_CAPACITY, DEFAULT_LIFE_MONTHS, add_months


class SchemaTooNew(RuntimeError):
    """The store's file was written by a newer version of this code; opening it could corrupt it."""


V1 = """
CREATE TABLE IF NOT EXISTS registration (
    id          INTEGER PRIMARY KEY CHECK (id = 1),
    inn         TEXT NOT NULL,
    org_name    TEXT NOT NULL,
    kkt_serial  TEXT NOT NULL,
    reg_number  TEXT NOT NULL,
    fn_number   TEXT NOT NULL,
    ffd_version TEXT NOT NULL,
    taxation    INTEGER NOT NULL,
    address     TEXT NOT NULL,
    fn_secret   BLOB NOT NULL
);
CREATE TABLE IF NOT EXISTS device_state (
    id                INTEGER PRIMARY KEY CHECK (id = 1),
    last_fd           INTEGER NOT NULL,
    last_doc_time     REAL NOT NULL,
    shift_number      INTEGER NOT NULL DEFAULT 0,
    shift_open        INTEGER NOT NULL DEFAULT 0,
    shift_opened_at   REAL,
    receipts_in_shift INTEGER NOT NULL DEFAULT 0,
    docs_in_shift     INTEGER NOT NULL DEFAULT 0,
    paper_out         INTEGER NOT NULL DEFAULT 0,
    offline           INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS documents (
    fd_number       INTEGER PRIMARY KEY,
    doc_type        INTEGER NOT NULL,
    idempotency_key TEXT UNIQUE,
    body            TEXT NOT NULL
)
"""

V2 = """
ALTER TABLE registration ADD COLUMN registered_at REAL;
ALTER TABLE registration ADD COLUMN fn_valid_until TEXT;
ALTER TABLE registration ADD COLUMN fn_capacity INTEGER;
ALTER TABLE documents ADD COLUMN issued_at REAL;
ALTER TABLE documents ADD COLUMN acknowledged_at REAL;
CREATE INDEX documents_unsent ON documents (fd_number) WHERE acknowledged_at IS NULL;
CREATE TABLE shifts (
    shift_number INTEGER PRIMARY KEY,
    opened_at    REAL NOT NULL,
    closed_at    REAL,
    receipts     INTEGER NOT NULL DEFAULT 0,
    documents    INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE shift_totals (
    shift_number INTEGER NOT NULL REFERENCES shifts (shift_number),
    operation    INTEGER NOT NULL,
    count        INTEGER NOT NULL DEFAULT 0,
    total        INTEGER NOT NULL DEFAULT 0,
    cash         INTEGER NOT NULL DEFAULT 0,
    electronic   INTEGER NOT NULL DEFAULT 0,
    prepaid      INTEGER NOT NULL DEFAULT 0,
    credit       INTEGER NOT NULL DEFAULT 0,
    provision    INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (shift_number, operation)
)
"""

_V2_TOTALS = """
INSERT INTO shift_totals (shift_number, operation, count, total, cash, electronic, prepaid, credit, provision)
VALUES (?, ?, 1, ?, ?, ?, ?, ?, ?)
ON CONFLICT (shift_number, operation) DO UPDATE SET
    count = count + 1, total = total + excluded.total, cash = cash + excluded.cash,
    electronic = electronic + excluded.electronic, prepaid = prepaid + excluded.prepaid,
    credit = credit + excluded.credit, provision = provision + excluded.provision
"""


def _script(conn: sqlite3.Connection, script: str) -> None:
    """Run ``;``-separated statements one by one (``executescript`` would commit the open transaction)."""
    for statement in script.split(";"):
        if statement.strip():
            conn.execute(statement)


def _to_v1(conn: sqlite3.Connection) -> None:
    _script(conn, V1)


def _to_v2(conn: sqlite3.Connection) -> None:
    _script(conn, V2)
    bodies = conn.execute("SELECT fd_number, doc_type, body FROM documents ORDER BY fd_number").fetchall()
    first_time: datetime | None = None
    for fd_number, doc_type, body in bodies:
        doc = json.loads(body)
        when = datetime.fromisoformat(doc["fiscal_datetime"])
        first_time = first_time or when
        conn.execute("UPDATE documents SET issued_at = ? WHERE fd_number = ?", (when.timestamp(), fd_number))
        _replay_shift(conn, doc_type, doc["tags"], when.timestamp())
    if first_time is not None:
        # The registration report is FD 1: its local date starts the FN's life.
        conn.execute(
            "UPDATE registration SET registered_at = ?, fn_valid_until = ?, fn_capacity = ? WHERE id = 1",
            (
                first_time.timestamp(),
                add_months(first_time.date(), DEFAULT_LIFE_MONTHS).isoformat(),
                DEFAULT_ARCHIVE_CAPACITY,
            ),
        )
    state = conn.execute("SELECT shift_open, shift_number, shift_opened_at FROM device_state WHERE id = 1").fetchone()
    if state is not None and state[0] and state[2] is not None:
        # The open shift's 24 hours run from the state's opening time, as they always have.
        conn.execute("UPDATE shifts SET opened_at = ? WHERE shift_number = ?", (state[2], state[1]))


def _replay_shift(conn: sqlite3.Connection, doc_type: int, tags: dict[str, object], when: float) -> None:
    """Count one journaled document (version 1 knew types 1, 2, 3 and 5) in its shift's row and totals."""
    shift = tags["1038"]
    if doc_type == 2:
        conn.execute("INSERT INTO shifts (shift_number, opened_at, documents) VALUES (?, ?, 1)", (shift, when))
    elif doc_type == 3:
        conn.execute(
            "UPDATE shifts SET receipts = receipts + 1, documents = documents + 1 WHERE shift_number = ?", (shift,)
        )
        payments = [tags.get(tag, 0) for tag in ("1031", "1081", "1215", "1216", "1217")]
        conn.execute(_V2_TOTALS, (shift, tags["1054"], tags["1020"], *payments))
    elif doc_type == 5:
        conn.execute("UPDATE shifts SET documents = documents + 1, closed_at = ? WHERE shift_number = ?", (when, shift))


#: Version 3: the FN's count of documents the OFD has not acknowledged, kept as the FN keeps it (a counter, read in
#: O(1)) by triggers on the journal, instead of counted at every status and print.
V3 = (
    """CREATE TABLE IF NOT EXISTS unsent_documents (
        id    INTEGER PRIMARY KEY CHECK (id = 1),
        count INTEGER NOT NULL
    )""",
    "INSERT INTO unsent_documents (id, count) SELECT 1, count(*) FROM documents WHERE acknowledged_at IS NULL",
    """CREATE TRIGGER IF NOT EXISTS documents_unsent_on_insert AFTER INSERT ON documents
    WHEN NEW.acknowledged_at IS NULL
    BEGIN UPDATE unsent_documents SET count = count + 1 WHERE id = 1; END""",
    """CREATE TRIGGER IF NOT EXISTS documents_unsent_on_ack AFTER UPDATE OF acknowledged_at ON documents
    WHEN (OLD.acknowledged_at IS NULL) <> (NEW.acknowledged_at IS NULL)
    BEGIN
        UPDATE unsent_documents SET count = count + (CASE WHEN NEW.acknowledged_at IS NULL THEN 1 ELSE -1 END)
        WHERE id = 1;
    END""",
    """CREATE TRIGGER IF NOT EXISTS documents_unsent_on_delete AFTER DELETE ON documents
    WHEN OLD.acknowledged_at IS NULL
    BEGIN UPDATE unsent_documents SET count = count - 1 WHERE id = 1; END""",
)


def _to_v3(conn: sqlite3.Connection) -> None:
    for statement in V3:
        conn.execute(statement)


#: Version reached → the step that reaches it from the version before. The last key is the code's version.
MIGRATIONS: dict[int, Callable[[sqlite3.Connection], None]] = {1: _to_v1, 2: _to_v2, 3: _to_v3}
SCHEMA_VERSION = max(MIGRATIONS)


def migrate(conn: sqlite3.Connection, *, name: str) -> None:
    """Bring the file open in ``conn`` (inside a write transaction) to :data:`SCHEMA_VERSION`.

    Raises :class:`SchemaTooNew` for a file of a later version; ``name`` names the file in that message.
    """
    version = conn.execute("PRAGMA user_version").fetchone()[0]
    if version > SCHEMA_VERSION:
        raise SchemaTooNew(
            f"{name} has schema version {version}, newer than this code knows ({SCHEMA_VERSION}): it was written by "
            "a newer kkt-emulators; open it with that version (this one refuses, to leave it intact)"
        )
    for target in range(version + 1, SCHEMA_VERSION + 1):
        MIGRATIONS[target](conn)
        conn.execute(f"PRAGMA user_version = {target}")
