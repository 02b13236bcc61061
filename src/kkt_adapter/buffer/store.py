"""The adapter's durable store of receipts: :class:`Buffer`, one object over the buffer's SQLite file.

Its methods come from one module per idea: the accept decision (:mod:`~kkt_adapter.buffer.accept`), the print
outcome (:mod:`~kkt_adapter.buffer.print_outcome`) and the reads (:mod:`~kkt_adapter.buffer.queries`); the
housekeeping writes (retention's purge, application events) are here. Every method is one short transaction; callers
run them off the event loop (they fsync).
"""

from __future__ import annotations

from pathlib import Path

from kkt_adapter.buffer.accept import Accepting
from kkt_adapter.buffer.connection import Database
from kkt_adapter.buffer.print_outcome import PrintOutcomes
from kkt_adapter.buffer.queries import Reads
from kkt_clock import Clock


class Buffer(Accepting, PrintOutcomes, Reads):
    """The adapter's durable store of receipts."""

    def __init__(self, path: Path, *, clock: Clock) -> None:
        self.db = Database(path)
        self.clock = clock

    def close(self) -> None:
        self.db.close()

    def purge_synced(self, *, older_than: float, limit: int = 5000) -> int:
        """Delete up to ``limit`` synced receipts created before ``older_than``; unsynced ones are never touched.

        A receipt that once was a dead letter takes its DLQ history row with it.
        """
        with self.db.write() as conn:
            ids = [
                row[0]
                for row in conn.execute(
                    "SELECT receipt_id FROM receipts WHERE state = 'synced' AND created_at < ?"
                    " ORDER BY created_at LIMIT ?",
                    (older_than, limit),
                )
            ]
            conn.executemany("DELETE FROM dlq WHERE receipt_id = ?", [(i,) for i in ids])
            conn.executemany("DELETE FROM receipts WHERE receipt_id = ?", [(i,) for i in ids])
            return len(ids)

    def record_event(self, kind: str, detail: str) -> None:
        """Write an application event (a restore from the device's journal) to the audit trail, stamped now."""
        at = self.clock.time()
        self.db.run(
            lambda conn: conn.execute("INSERT INTO events (at, kind, detail) VALUES (?, ?, ?)", (at, kind, detail))
        )
