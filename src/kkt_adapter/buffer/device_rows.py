"""Which device each document belongs to, with several KKTs behind one adapter (the ``device`` column, schema v4).

Reads and writes the router needs beside the accept transaction (which binds keys itself,
:meth:`~kkt_adapter.buffer.accept.Accepting.submit_begin_accept`): naming the rows written before documents named their
device, the audit line of a failover, and the device that printed the document a refund or correction names.
"""

from __future__ import annotations

from kkt_adapter.buffer.connection import Database
from kkt_adapter.domain.device import DOC_RECEIPT
from kkt_adapter.domain.receipt import Receipt
from kkt_clock import Clock


class DeviceRows:
    """The buffer's rows as devices see them."""

    def __init__(self, db: Database, *, clock: Clock) -> None:
        self.db = db
        self.clock = clock

    def name_unnamed(self, device: str) -> int:
        """Give ``device`` (the primary) the rows written before documents named their device that are still
        undecided or undelivered; how many. Synced ones keep ``''``: nothing routes by them, and a large buffer's
        history is not rewritten at start (the partial index finds only the unnamed rows of each state)."""
        return int(
            self.db.run(
                lambda conn: (
                    conn.execute(
                        "UPDATE receipts SET device = ? WHERE device = ''"
                        " AND state IN ('accepted', 'print_failed', 'pending', 'dlq')",
                        (device,),
                    ).rowcount
                )
            )
        )

    def record_failover(self, receipt_id: str, detail: str) -> None:
        """Audit a sale moved to the next device after a definite refusal (nothing was printed on the first)."""
        at = self.clock.time()
        self.db.run(
            lambda conn: conn.execute(
                "INSERT INTO events (at, kind, receipt_id, detail) VALUES (?, 'failover', ?, ?)",
                (at, receipt_id, detail),
            )
        )

    def device_of_sale(self, receipt: Receipt) -> str | None:
        """The device that printed the sale a refund names, by its id or by its FD number (``None`` when no sale, or
        sales on several fiscal drives, have that number: the accept's refund check then answers)."""
        args: tuple[str | int, ...]
        if receipt.original_receipt_id is not None:
            query, args = "SELECT device FROM receipts WHERE receipt_id = ?", (receipt.original_receipt_id,)
        elif receipt.original_fd_number is not None:
            query = "SELECT device FROM receipts WHERE fd_number = ? AND doc_type = ? AND operation = 'sale'"
            args = (receipt.original_fd_number, DOC_RECEIPT)
        else:
            return None
        with self.db.read() as conn:
            rows = {str(row[0]) for row in conn.execute(query, args)}
        return rows.pop() if len(rows) == 1 else None

    def device_of_fiscal_sign(self, fiscal_sign: str) -> str | None:
        """The device that printed the document with this fiscal sign (what a correction names in tag 1192); a scan,
        as corrections are rare."""
        with self.db.read() as conn:
            rows = {
                str(row[0])
                for row in conn.execute(
                    "SELECT device FROM receipts WHERE fiscal_json IS NOT NULL"
                    " AND json_extract(fiscal_json, '$.fiscal_sign') = ?",
                    (fiscal_sign,),
                )
            }
        return rows.pop() if len(rows) == 1 else None
