"""Following the device's journal, so that every document it signs reaches the buffer (and so the OFD) in FD order.

Runs on the device's thread only (one document at a time), which keeps the mark and the prints in step:

- :meth:`JournalFollower.after_print` — a print returned FD ``n`` while the mark is below ``n - 1``: the documents
  in between (a shift opening the device made for the day's first sale, a Z report) are read from the journal and
  handed back to be stored before the receipt, stamped earlier.
- :meth:`JournalFollower.catch_up` — at start, before serving: every document after the buffer's mark that the
  buffer lacks (a lost or restored buffer file, a report printed while the adapter was down) is read, in batches.
  A buffer that never followed this FN starts at the FN's first document the OFD has not acknowledged (the
  documents before it reached the OFD already; restoring them would only send them again).

A journal entry whose key the buffer holds is skipped when stored (its own row carries it); see
:mod:`kkt_adapter.buffer.documents`.
"""

from __future__ import annotations

from collections.abc import Iterator

from kkt_adapter.devices.protocol import FiscalDriver
from kkt_adapter.domain.device import DOC_CORRECTION, DOC_RECEIPT, JournalEntry
from kkt_adapter.domain.fiscal import FiscalResult

BATCH = 500


class JournalFollower:
    """The highest FD number taken from the journal, per FN, as this process knows it."""

    def __init__(self, driver: FiscalDriver) -> None:
        self.driver = driver
        self.marks: dict[str, int] = {}

    def after_print(self, result: FiscalResult) -> list[JournalEntry]:
        """The documents the device signed between the mark and ``result`` (none if there is no gap)."""
        fn, number = result.fn_number, result.fiscal_doc_number
        mark = self.marks.get(fn)
        self.marks[fn] = max(mark or 0, number)
        if mark is None or number <= mark + 1:
            return []
        return [
            entry
            for entry in self.driver.journal(after_fd=mark, limit=number - mark - 1)
            if entry.result.fiscal_doc_number < number
        ]

    def before(self, result: FiscalResult, stored_mark: int | None) -> list[JournalEntry]:
        """The documents the device signed between the buffer's mark and ``result``, found by key at start-up.

        Storing ``result`` raises the buffer's mark to its number, so a shift opening the device made just before it
        (the process was killed between the print and the commit) must be stored with it, or the catch-up that
        follows would start past it. A receipt or correction without a recorded key is left out: it is another
        request's row, settled by its own key (a device whose journal has no keys, such as ATOL's).
        """
        mark = self._base(stored_mark)
        number = result.fiscal_doc_number
        if number <= mark + 1:
            return []
        return [
            entry
            for entry in self.driver.journal(after_fd=mark, limit=number - mark - 1)
            if entry.result.fiscal_doc_number < number
            and (entry.key is not None or entry.result.doc_type not in (DOC_RECEIPT, DOC_CORRECTION))
        ]

    def catch_up(self, fn_number: str, stored_mark: int | None) -> Iterator[list[JournalEntry]]:
        """Batches of documents after the buffer's mark (or, with none, from the first unacknowledged one)."""
        mark = self._base(stored_mark)
        while True:
            batch = self.driver.journal(after_fd=mark, limit=BATCH)
            if not batch:
                break
            yield batch
            mark = batch[-1].result.fiscal_doc_number
        self.marks[fn_number] = max(self.marks.get(fn_number, 0), mark)

    def _base(self, stored_mark: int | None) -> int:
        """The buffer's mark, or for a buffer that never followed this FN the document before its first unsent one."""
        if stored_mark is not None:
            return stored_mark
        fn = self.driver.fn_status()
        first_unsent = fn.first_unsent_fd_number
        return fn.documents_count if first_unsent is None else first_unsent - 1
