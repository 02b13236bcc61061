"""The print outcome: what the device did with an accepted receipt, written durably.

A completed print stores the fiscal data with an HLC stamp and makes the receipt ``pending`` (due to the OFD); a
failed one makes it ``print_failed``, so that a replay of its key prints again. Documents the device signed that the
buffer lacks (a shift opening a sale caused, a journal a lost buffer missed) are kept as documents of their own.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Sequence
from concurrent.futures import Future

from kkt_adapter.buffer import documents
from kkt_adapter.buffer.connection import Database
from kkt_adapter.buffer.hlc_mark import read_hlc, write_hlc
from kkt_adapter.domain import hlc
from kkt_adapter.domain.device import DEFAULT_DEVICE, JournalEntry
from kkt_adapter.domain.fiscal import FiscalResult, answer_notes
from kkt_adapter.domain.states import ReceiptState
from kkt_clock import Clock


class PrintOutcomes:
    """The print outcome writes of :class:`~kkt_adapter.buffer.store.Buffer`."""

    db: Database
    clock: Clock

    def complete_print(
        self,
        receipt_id: str,
        result: FiscalResult,
        *,
        preceding: Sequence[JournalEntry] = (),
        device: str | None = None,
    ) -> str:
        """Store the fiscal data, stamp the HLC and make the receipt ``pending``; return the response body."""
        return self.submit_complete_print(receipt_id, result, preceding=preceding, device=device).result()

    def submit_complete_print(
        self,
        receipt_id: str,
        result: FiscalResult,
        *,
        preceding: Sequence[JournalEntry] = (),
        device: str | None = None,
    ) -> Future[str]:
        """:meth:`complete_print`, group-committed: the future resolves once the fiscal data is durable.

        ``preceding`` are documents the device signed just before this one (a shift opening it caused): they are
        stored first and stamped earlier, so that they reach the OFD before it, in FD order. ``device`` is the device
        that printed it: a row bound to another device keeps its binding, and this document is kept as a journal
        document of its own (a document the device signed is never dropped).
        """
        now = self.clock.time()
        fiscal_json = json.dumps(result.to_dict(), ensure_ascii=False)

        def body(conn: sqlite3.Connection) -> str:
            row = conn.execute(
                "SELECT state, response_json, device, request_json FROM receipts WHERE receipt_id = ?", (receipt_id,)
            ).fetchone()
            if row is None:
                raise KeyError(receipt_id)
            if row["state"] not in (ReceiptState.ACCEPTED, ReceiptState.PRINT_FAILED):
                # Completed already (reconciled by another process): the stored answer is the truth.
                return str(row["response_json"])
            bound = str(row["device"])
            if device is not None and bound != device:
                entries = [*preceding, JournalEntry(result, None)]
                inserted, stamp = documents.insert_entries(conn, entries, now=now, stamp=read_hlc(conn), device=device)
                write_hlc(conn, stamp)
                return result.response_json(inserted[-1] if inserted else receipt_id, device)
            # From print_failed too: the device's journal says it printed, and the device is the truth.
            response = result.response_json(receipt_id, bound, **answer_notes(json.loads(row["request_json"])))
            _, stamp = documents.insert_entries(conn, preceding, now=now, stamp=read_hlc(conn), device=bound)
            stamp = hlc.tick(stamp, int(now * 1000))
            write_hlc(conn, stamp)
            documents.advance_mark(conn, result.fn_number, result.fiscal_doc_number)
            conn.execute(
                "UPDATE receipts SET state = 'pending', fd_number = ?, fn_number = ?, fiscal_json = ?,"
                " response_json = ?, printed_at = ?, updated_at = ?, hlc_wall_ms = ?, hlc_logical = ?,"
                # Due at once (0), not "now": a clock read before the commit could make a receipt stamped earlier
                # look due later than one stamped after it, and break the HLC order of sending.
                " next_attempt_at = 0 WHERE receipt_id = ?",
                (
                    result.fiscal_doc_number,
                    result.fn_number,
                    fiscal_json,
                    response,
                    now,
                    now,
                    stamp.wall_ms,
                    stamp.logical,
                    receipt_id,
                ),
            )
            return response

        return self.db.submit(body)

    def fail_print(self, receipt_id: str, *, code: str, reason: str) -> None:
        """Record that the device printed nothing; a replay of the key prints again."""
        args = (f"{code}: {reason}", self.clock.time(), receipt_id)
        self.db.run(
            lambda conn: conn.execute(
                "UPDATE receipts SET state = 'print_failed', print_error = ?, updated_at = ?"
                " WHERE receipt_id = ? AND state = 'accepted'",
                args,
            )
        )

    def submit_store_entries(
        self, entries: Sequence[JournalEntry], *, pos_id: str = "", device: str = DEFAULT_DEVICE
    ) -> Future[list[str]]:
        """Keep documents from ``device``'s journal that the buffer lacks (pending, in FD order); their new ids."""
        now = self.clock.time()

        def body(conn: sqlite3.Connection) -> list[str]:
            inserted, stamp = documents.insert_entries(
                conn, entries, now=now, stamp=read_hlc(conn), pos_id=pos_id, device=device
            )
            if inserted:
                write_hlc(conn, stamp)
            return inserted

        return self.db.submit(body)

    def store_entries(
        self, entries: Sequence[JournalEntry], *, pos_id: str = "", device: str = DEFAULT_DEVICE
    ) -> list[str]:
        """:meth:`submit_store_entries`, waiting for the commit."""
        return self.submit_store_entries(entries, pos_id=pos_id, device=device).result()
