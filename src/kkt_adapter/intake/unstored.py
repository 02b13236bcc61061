"""The memory of printed-but-unstored results: what the device printed (or refused) while the buffer failed.

A buffer that fails (disk full, I/O error, a read-only file) after the device printed leaves the row ``accepted``.
The device's result is kept here by idempotency key, so that the client's resend, or the periodic reconcile, stores
it as soon as the buffer takes writes again, without asking the device. Bounded: the oldest are dropped first (the
periodic reconcile still finds them in the device's journal). Read by the reconcile on the lane's thread too, hence
the lock.

Shift reports (the opening, the Z report) have no row before they are printed: the documents the buffer failed to
store are kept here as journal entries (:meth:`UnstoredResults.keep_documents`), stored with the next shift report
or by the periodic reconcile, whichever comes first.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass

from kkt_adapter.domain.device import JournalEntry
from kkt_adapter.domain.fiscal import FiscalResult

#: How many results the buffer failed to store are kept for their resend.
UNSTORED_LIMIT = 1024


@dataclass(frozen=True)
class Unstored:
    """A print outcome the buffer failed to record for a row it left ``accepted``: the device's result with the
    documents it signed just before (or ``None``: the device printed nothing)."""

    receipt_id: str
    result: FiscalResult | None
    preceding: Sequence[JournalEntry] = ()


class UnstoredResults:
    """Unstored print outcomes by idempotency key, the newest last; thread-safe."""

    def __init__(self, *, limit: int = UNSTORED_LIMIT) -> None:
        self._limit = limit
        self._by_key: OrderedDict[str, Unstored] = OrderedDict()
        self._documents: dict[tuple[str, int], JournalEntry] = {}
        self._lock = threading.Lock()

    def keep(self, key: str, unstored: Unstored) -> None:
        with self._lock:
            self._by_key[key] = unstored
            self._by_key.move_to_end(key)
            while len(self._by_key) > self._limit:
                self._by_key.popitem(last=False)

    def get(self, key: str) -> Unstored | None:
        with self._lock:
            return self._by_key.get(key)

    def printed(self, key: str, receipt_id: str) -> Unstored | None:
        """What the device printed for ``key``'s row ``receipt_id``, if it is kept (a refusal kept is not)."""
        left = self.get(key)
        if left is None or left.receipt_id != receipt_id or left.result is None:
            return None
        return left

    def forget(self, key: str) -> None:
        with self._lock:
            self._by_key.pop(key, None)

    def keep_documents(self, entries: Sequence[JournalEntry]) -> None:
        """Keep documents the device signed that the buffer failed to store (by FN and FD number: once each)."""
        with self._lock:
            for entry in entries:
                self._documents[(entry.result.fn_number, entry.result.fiscal_doc_number)] = entry

    def documents(self) -> list[JournalEntry]:
        """The documents kept by :meth:`keep_documents`, in FD order."""
        with self._lock:
            return [self._documents[number] for number in sorted(self._documents)]

    def forget_documents(self, entries: Sequence[JournalEntry]) -> None:
        """Drop documents the buffer has stored now."""
        with self._lock:
            for entry in entries:
                self._documents.pop((entry.result.fn_number, entry.result.fiscal_doc_number), None)
