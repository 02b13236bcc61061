"""The buffer's HLC high-water mark (the ``meta`` row ``hlc``), read and written inside the caller's transaction.

A stamp is ticked or merged from the mark and written back in the same write transaction as the row it stamps, so
that the stamps of every process sharing the file only grow.
"""

from __future__ import annotations

import sqlite3

from kkt_adapter.domain import hlc


def read_hlc(conn: sqlite3.Connection) -> hlc.HLCStamp:
    """The mark as it stands (:data:`~kkt_adapter.domain.hlc.ZERO` in a new file)."""
    row = conn.execute("SELECT value FROM meta WHERE key = 'hlc'").fetchone()
    if row is None:
        return hlc.ZERO
    wall, logical = (int(part) for part in str(row[0]).split(":"))
    return hlc.HLCStamp(wall, logical)


def write_hlc(conn: sqlite3.Connection, stamp: hlc.HLCStamp) -> None:
    """Set the mark to ``stamp`` (the caller has ticked or merged it from :func:`read_hlc`)."""
    conn.execute(
        "INSERT INTO meta (key, value) VALUES ('hlc', ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        (f"{stamp.wall_ms}:{stamp.logical}",),
    )
