"""Recovery from a device's journal: the receipts caught between store and print, and the documents the buffer lacks.

The device's journal is the legal truth; the buffer is a cache of it plus delivery state. So:

- :meth:`Recovery.reconcile` settles every row left ``accepted`` (a killed process, a buffer that failed after the
  print) from the journal, by key: printed → ``pending`` with the device's data, else ``print_failed`` (a replay
  prints it). At start, before serving, every such row; later (:meth:`Recovery.reconcile_stale`, periodic, on the
  lane's thread), only rows untouched for a while and not being printed here, so that a printed document reaches the
  OFD even if its client never resends.
- :meth:`Recovery.catch_up` (at start, after the reconcile) stores every document of the journal the buffer lacks:
  shift reports printed while the adapter was down, receipts of a lost or restored buffer file.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass

from kkt_adapter.buffer.store import Buffer
from kkt_adapter.devices.lane import DeviceLane
from kkt_adapter.domain.device import DOC_CORRECTION, DOC_RECEIPT, JournalEntry
from kkt_adapter.domain.errors import INTERRUPTED
from kkt_adapter.domain.fiscal import FiscalResult
from kkt_adapter.intake.unstored import UnstoredResults
from kkt_adapter.status.metrics import Metrics

log = logging.getLogger(__name__)

#: The documents that make an FN's first sale: before one, a new FN's journal holds only what it made by itself.
SALE_DOCS = frozenset({DOC_RECEIPT, DOC_CORRECTION})


@dataclass(frozen=True)
class ReconcileReport:
    """What reconciliation found among receipts caught between store and print."""

    recovered: int
    not_printed: int


class Recovery:
    """Settles one device's rows from its journal, and restores what the buffer lacks of it."""

    def __init__(
        self,
        buffer: Buffer,
        lane: DeviceLane,
        *,
        unstored: UnstoredResults,
        metrics: Metrics,
        stale_after_s: float = 60.0,
        printing: Callable[[], Collection[str]] = frozenset,
    ) -> None:
        self.buffer = buffer
        self.lane = lane
        self.unstored = unstored
        self.metrics = metrics
        self.stale_after_s = stale_after_s
        #: The keys being printed in this process now (the periodic reconcile leaves them alone).
        self._printing = printing

    def reconcile(self, *, older_than: float | None = None, skip: Collection[str] = frozenset()) -> ReconcileReport:
        """Settle receipts left ``accepted`` from the device's journal: printed → ``pending``, else ``print_failed``.

        At start, before serving, every such row is settled (a killed process left it). Later, only rows untouched
        since ``older_than`` and not being printed here (``skip``). Blocking: run it in a thread.
        """
        driver, name = self.lane.driver, self.lane.name
        self.store_unstored_documents()
        recovered = not_printed = 0
        for row in self.buffer.in_flight(older_than=older_than, device=name):
            if row.idempotency_key in skip:
                continue
            left = self.unstored.printed(row.idempotency_key, row.receipt_id)
            found: FiscalResult | None
            preceding: Sequence[JournalEntry] = ()
            if left is not None:
                found, preceding = left.result, left.preceding
            else:
                try:
                    found = driver.find_by_key(row.idempotency_key)
                except Exception as exc:
                    # The device cannot tell yet (a real KKT's job still running or blocked): leave the row
                    # accepted; a later reconcile, or the client's resend, settles it. Nothing is printed meanwhile.
                    log.warning(
                        "print outcome still unknown: the receipt stays accepted",
                        extra={"receipt_id": row.receipt_id, "key": row.idempotency_key, "error": str(exc)},
                    )
                    continue
                if found is not None:
                    preceding = self.lane.journal.before(found, self.buffer.journal_marks().get(found.fn_number))
            if found is not None:
                self.buffer.complete_print(row.receipt_id, found, preceding=preceding, device=name)
                self.unstored.forget(row.idempotency_key)
                recovered += 1
            else:
                self.buffer.fail_print(
                    row.receipt_id,
                    code=INTERRUPTED,
                    reason="the adapter stopped before the device printed; resend with the same Idempotency-Key",
                )
                self.unstored.forget(row.idempotency_key)
                not_printed += 1
        if recovered or not_printed:
            log.warning("reconciled interrupted receipts", extra={"recovered": recovered, "not_printed": not_printed})
        return ReconcileReport(recovered=recovered, not_printed=not_printed)

    def store_unstored_documents(self) -> int:
        """Store the shift reports the device printed while the buffer refused writes (kept in memory); how many.
        A buffer that still refuses keeps them for the next pass."""
        waiting = self.unstored.documents()
        if not waiting:
            return 0
        self.buffer.store_entries(waiting, device=self.lane.name)
        self.unstored.forget_documents(waiting)
        log.warning(
            "stored the documents kept in memory while the buffer refused writes",
            extra={"fd_numbers": [entry.result.fiscal_doc_number for entry in waiting]},
        )
        return len(waiting)

    def catch_up(self) -> int:
        """At start, after :meth:`reconcile`: keep every document of the device's journal that the buffer lacks, in
        FD order, queued for the OFD. Returns how many documents were stored. Blocking: run it in a thread.

        Only documents the buffer had lost count as restored (logged, counted, audited). A buffer that has never
        followed this FN (no journal mark for it) did not lose what the FN signed before its first receipt or
        correction (the registration, a shift opening): those are a new FN's first documents, stored quietly.
        """
        driver, name = self.lane.driver, self.lane.name
        fn_number = driver.state().fn_number
        mark = self.buffer.journal_marks().get(fn_number)
        first_only = mark is None  # until the FN's first sale, what the journal holds was never the buffer's
        restored: list[str] = []
        first = 0
        for batch in self.lane.journal.catch_up(fn_number, mark):
            if first_only:
                cut = next((i for i, entry in enumerate(batch) if entry.result.doc_type in SALE_DOCS), len(batch))
                first_only = cut == len(batch)
                if cut:
                    first += len(self.buffer.store_entries(batch[:cut], device=name))
                batch = batch[cut:]
            if batch:
                restored.extend(self.buffer.store_entries(batch, device=name))
        if first:
            log.info(
                "stored the fiscal drive's documents made before its first sale",
                extra={"stored": first, "fn_number": fn_number, "device": name},
            )
        if restored:
            self._report_restore(fn_number, len(restored), self.buffer.fd_numbers_of(restored))
        # Acknowledgements the FN missed (the adapter stopped between the OFD's answer and passing it on).
        first_unsent = driver.fn_status().first_unsent_fd_number
        if first_unsent is not None:
            synced = self.buffer.synced_fd_numbers(fn_number, from_fd=first_unsent)
            if synced:
                driver.acknowledge(synced)
        return first + len(restored)

    def _report_restore(self, fn_number: str, stored: int, numbers: Sequence[int]) -> None:
        """Log, count and audit documents the buffer had lost and took back from the journal."""
        low, high = (min(numbers), max(numbers)) if numbers else (0, 0)
        fd_range = f"FD {low}" if low == high else f"FD {low}-{high}"
        log.warning(
            "stored documents from the device's journal that the buffer lacked",
            extra={"stored": stored, "fn_number": fn_number, "fd_range": fd_range},
        )
        self.metrics.restored.inc(stored)
        self.buffer.record_event(
            "restore", f"{stored} documents restored from the device's journal: FN {fn_number}, {fd_range}"
        )

    async def reconcile_stale(self) -> ReconcileReport:
        """:meth:`reconcile` for rows left ``accepted`` longer than ``stale_after_s``, on the lane's thread."""
        older_than = self.buffer.clock.time() - self.stale_after_s
        skip = frozenset(self._printing())
        return await self.lane.run(self.reconcile, older_than=older_than, skip=skip)
