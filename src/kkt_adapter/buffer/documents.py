"""Fiscal documents the buffer takes from the device's journal: shift reports, and receipts it lost.

The buffer keeps every document the device signs, so that each reaches the OFD in FD order. Receipts and
corrections come in through the receipt path, with their client's key. Other documents — the shift opening a first
sale of the day caused, a Z report, the registration — are taken from the device's journal in FD order, before the
receipt that revealed them, and stamped in that order. A journal entry whose key the buffer already holds is left
to its own row (another process may be printing it); one whose key it lacks is restored (a lost buffer).

Every function runs inside the caller's write transaction.
"""

from __future__ import annotations

import json
import sqlite3
import uuid
from collections.abc import Iterable

from kkt_adapter.domain import hlc
from kkt_adapter.domain.device import DEFAULT_DEVICE, DOC_TYPE_NAMES, JournalEntry


def journal_key(entry: JournalEntry) -> str:
    """The key a journal document is kept under: the one the device recorded, else one made of FN and FD number."""
    result = entry.result
    return entry.key or f"journal:{result.fn_number}:{result.fiscal_doc_number}"


def journal_mark(conn: sqlite3.Connection, fn_number: str) -> int:
    """The highest FD number of ``fn_number`` the buffer has taken from the journal (0 if none yet)."""
    row = conn.execute("SELECT last_fd FROM journal_marks WHERE fn_number = ?", (fn_number,)).fetchone()
    return 0 if row is None else int(row[0])


def advance_mark(conn: sqlite3.Connection, fn_number: str, fd_number: int) -> None:
    """Raise the mark of ``fn_number`` to ``fd_number`` (never lower it)."""
    conn.execute(
        "INSERT INTO journal_marks (fn_number, last_fd) VALUES (?, ?)"
        " ON CONFLICT (fn_number) DO UPDATE SET last_fd = MAX(last_fd, excluded.last_fd)",
        (fn_number, fd_number),
    )


def insert_entries(
    conn: sqlite3.Connection,
    entries: Iterable[JournalEntry],
    *,
    now: float,
    stamp: hlc.HLCStamp,
    pos_id: str = "",
    device: str = DEFAULT_DEVICE,
) -> tuple[list[str], hlc.HLCStamp]:
    """Store each entry the buffer lacks as ``pending`` (due at once), stamping HLCs in the given order.

    Returns the ids of the rows inserted and the last stamp used.
    """
    inserted: list[str] = []
    for entry in entries:
        result = entry.result
        key = journal_key(entry)
        held = conn.execute(
            "SELECT 1 FROM receipts WHERE fn_number = ? AND fd_number = ?", (result.fn_number, result.fiscal_doc_number)
        ).fetchone()
        if held is None:
            held = conn.execute("SELECT fn_number FROM receipts WHERE idempotency_key = ?", (key,)).fetchone()
            if held is not None and held[0] is not None and held[0] != result.fn_number:
                # Another fiscal drive's document has this key (two devices given one shift key): keep this one too.
                key, held = f"journal:{result.fn_number}:{result.fiscal_doc_number}", None
        if held is None:
            stamp = hlc.tick(stamp, int(now * 1000))
            receipt_id = str(uuid.uuid4())
            conn.execute(
                "INSERT INTO receipts (receipt_id, idempotency_key, body_hash, pos_id, operation, total_kop,"
                " request_json, state, created_at, updated_at, printed_at, fd_number, fn_number, fiscal_json,"
                " response_json, hlc_wall_ms, hlc_logical, next_attempt_at, doc_type, device)"
                " VALUES (?, ?, '', ?, ?, ?, '{}', 'pending', ?, ?, ?, ?, ?, ?, ?, ?, ?, 0, ?, ?)",
                (
                    receipt_id,
                    key,
                    pos_id,
                    _operation(entry),
                    result.total_kop,
                    now,
                    now,
                    now,
                    result.fiscal_doc_number,
                    result.fn_number,
                    json.dumps(result.to_dict(), ensure_ascii=False),
                    result.response_json(receipt_id, device),
                    stamp.wall_ms,
                    stamp.logical,
                    result.doc_type,
                    device,
                ),
            )
            inserted.append(receipt_id)
        advance_mark(conn, result.fn_number, result.fiscal_doc_number)
    return inserted, stamp


def _operation(entry: JournalEntry) -> str:
    """``sale``/``refund`` for a receipt or correction (from tag 1054), else the document type's name."""
    operation = entry.result.document.get("1054")
    if operation == 1:
        return "sale"
    if operation == 2:
        return "refund"
    return DOC_TYPE_NAMES.get(entry.result.doc_type, f"document_{entry.result.doc_type}")
