"""Delivery by the device, in the buffer: documents the KKT's fiscal drive reports sent to the OFD become ``synced``.

With ``KKT_OFD_DELIVERY=device`` nothing is claimed or sent; the FN's exchange status says how far its own delivery
has got. Every document of that FN numbered up to that point that the buffer still holds as unsent (``pending``, or
``dlq`` from an earlier run that posted to an OFD API) is marked ``synced`` in one transaction, each with an audit
event saying the device delivered it. Documents of another FN (a replaced one) are never marked: they are counted,
so that status can name them.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass

from kkt_adapter.buffer.connection import Database
from kkt_clock import Clock

#: The audit event's kind for a document the device delivered.
DELIVERED_BY_DEVICE = "delivered_by_device"


@dataclass(frozen=True)
class Marked:
    """Documents one call marked ``synced``: their FD numbers, ascending."""

    fn_number: str
    fd_numbers: tuple[int, ...]


class DeviceMarks:
    """Marks the buffer's documents delivered by the device and counts those it cannot track."""

    def __init__(self, db: Database, *, clock: Clock) -> None:
        self.db = db
        self.clock = clock

    def mark_sent(self, fn_number: str, *, through_fd: int, detail: str) -> Marked:
        """Mark this FN's unsent documents numbered ``through_fd`` or below ``synced``; a repeat changes nothing."""
        now = self.clock.time()

        def body(conn: sqlite3.Connection) -> Marked:
            rows = conn.execute(
                "UPDATE receipts SET state = 'synced', synced_at = ?, updated_at = ?, last_error = NULL,"
                " lease_owner = NULL, lease_until = 0"
                " WHERE fn_number = ? AND fd_number <= ? AND state IN ('pending', 'dlq')"
                " RETURNING receipt_id, fd_number",
                (now, now, fn_number, through_fd),
            ).fetchall()
            conn.executemany(
                "INSERT INTO events (at, kind, receipt_id, detail) VALUES (?, ?, ?, ?)",
                [(now, DELIVERED_BY_DEVICE, row[0], detail) for row in rows],
            )
            return Marked(fn_number, tuple(sorted(int(row[1]) for row in rows)))

        if through_fd < 1:
            return Marked(fn_number, ())
        return self.db.run(body)

    def untracked(self, fn_number: str, *, device: str | None = None) -> dict[str, int]:
        """Unsent documents of other fiscal drives than ``fn_number`` (a replaced FN), counted by FN number; with
        ``device``, only that device's documents (another device's FN is not a replaced one)."""
        query = "SELECT fn_number, COUNT(*) FROM receipts WHERE state IN ('pending', 'dlq') AND fn_number <> ?"
        args: tuple[str, ...] = (fn_number,)
        if device is not None:
            query, args = query + " AND device = ?", (*args, device)
        with self.db.read() as conn:
            rows = conn.execute(query + " GROUP BY fn_number ORDER BY fn_number", args).fetchall()
        return {str(row[0]): int(row[1]) for row in rows}
