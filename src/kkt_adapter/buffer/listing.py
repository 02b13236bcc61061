"""Reads for the operator's page: the latest documents, and a search by receipt id, idempotency key or FD number.

Every lookup goes by an index, so a search stays fast on a buffer of a million rows: ids and keys by their UNIQUE
indexes (a prefix as a range), an FD number through the ``(fn_number, fd_number)`` index.
"""

from __future__ import annotations

import sqlite3
from typing import Any

from kkt_adapter.buffer import StoredReceipt
from kkt_adapter.buffer.connection import Database
from kkt_adapter.domain.device import DEFAULT_DEVICE

#: The shortest query that also matches the beginnings of ids and keys (a UUID's first group).
MIN_PREFIX = 8
#: Above every character: ``[q, q + _PREFIX_END)`` is the range of strings that start with ``q``.
_PREFIX_END = "\U0010ffff"
#: A document by FD number through the (fn_number, fd_number) index: the buffer's few FN numbers are walked first
#: (one index step each), so the lookup never scans the table.
_BY_FD_NUMBER = """
WITH RECURSIVE fns(fn) AS (
    SELECT MIN(fn_number) FROM receipts WHERE fd_number IS NOT NULL
    UNION ALL
    SELECT (SELECT MIN(fn_number) FROM receipts WHERE fd_number IS NOT NULL AND fn_number > fn) FROM fns
    WHERE fn IS NOT NULL
)
SELECT * FROM receipts WHERE fn_number IN (SELECT fn FROM fns) AND fd_number = ? ORDER BY seq DESC LIMIT ?
"""


def latest(db: Database, *, limit: int, query: str | None = None, device: str | None = None) -> list[StoredReceipt]:
    """The newest ``limit`` documents, or those whose id or key is ``query`` (or starts with it, from
    :data:`MIN_PREFIX` characters on) or whose FD number it is; newest first. Every lookup goes by an index.

    ``device`` keeps that device's documents only (an older buffer's unnamed rows are the default device's). Without
    a search it walks the newest rows back until ``limit`` match: quick for a device that prints, longer on a big
    buffer for one that printed nothing lately (no index by device yet).
    """
    names = None if device is None else ((device, "") if device == DEFAULT_DEVICE else (device,))
    with db.read() as conn:
        if query is None and names is None:
            rows = conn.execute("SELECT * FROM receipts ORDER BY seq DESC LIMIT ?", (limit,)).fetchall()
        elif query is None:
            marks = ", ".join("?" * len(names or ()))
            sql = f"SELECT * FROM receipts WHERE device IN ({marks}) ORDER BY seq DESC LIMIT ?"
            rows = conn.execute(sql, (*(names or ()), limit)).fetchall()
        else:
            rows = _search(conn, query, limit if names is None else 10 * limit)
            rows = [row for row in rows if names is None or row["device"] in names][:limit]
    return [StoredReceipt.from_row(row) for row in rows]


def _search(conn: sqlite3.Connection, query: str, limit: int) -> list[sqlite3.Row]:
    found: dict[int, sqlite3.Row] = {}
    for column in ("receipt_id", "idempotency_key"):
        if len(query) >= MIN_PREFIX:
            sql = f"SELECT * FROM receipts WHERE {column} >= ? AND {column} < ? ORDER BY {column} LIMIT ?"
            args: tuple[Any, ...] = (query, query + _PREFIX_END, limit)
        else:
            # A short query matches whole values only: "42" is FD number 42, not every id that starts with "42".
            sql, args = f"SELECT * FROM receipts WHERE {column} = ?", (query,)
        for row in conn.execute(sql, args):
            found[row["seq"]] = row
    if query.isdigit() and len(query) <= 18:
        for row in conn.execute(_BY_FD_NUMBER, (int(query), limit)):
            found[row["seq"]] = row
    return [found[seq] for seq in sorted(found, reverse=True)[:limit]]
