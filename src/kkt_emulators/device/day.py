"""The fiscal day as state changes: what opening a shift, printing a receipt or a correction, and closing the shift
change in the device's counters, its journal and the shift's totals.

Each function runs inside a print's write transaction, after the device has decided to print (faults, the task, the
FN and the shift are checked before): it numbers the document, journals it and updates ``state``, which the print
saves in the same transaction. Fiscal notes, "Numbering": every document takes the next FD number (1040); a shift
opening raises the shift number (1038); the receipt number in the shift (1042) restarts at 1 in each shift.
"""

from __future__ import annotations

import sqlite3
from datetime import datetime
from typing import Protocol

from kkt_emulators.device import documents
from kkt_emulators.device.models import FiscalDocument, Registration
from kkt_emulators.device.store import State, Store


class MakeSettlement(Protocol):
    """Builds a numbered receipt or correction (``documents.receipt`` or ``documents.correction``, partly applied)."""

    def __call__(self, *, fd_number: int, when: datetime, shift: int, receipt_number: int) -> FiscalDocument: ...


def open_shift(
    conn: sqlite3.Connection,
    state: State,
    reg: Registration,
    *,
    when: datetime,
    opened_at: float,
    key: str | None,
    cashier: documents.Cashier = (None, None),
) -> FiscalDocument:
    """Print the shift opening report: the next shift, its first document; its 24 hours run from ``opened_at``."""
    state.last_fd += 1
    state.shift_number += 1
    state.shift_open = True
    state.shift_opened_at = opened_at
    state.receipts_in_shift = 0
    state.docs_in_shift = 1
    Store.shift_opened(conn, state.shift_number, opened_at=opened_at)
    doc = documents.shift_opening(
        reg, fd_number=state.last_fd, when=when, shift=state.shift_number, idempotency_key=key, cashier=cashier
    )
    Store.insert_document(conn, doc)
    return doc


def settle(
    conn: sqlite3.Connection,
    state: State,
    reg: Registration,
    make: MakeSettlement,
    *,
    when: datetime,
    opened_at: float,
) -> FiscalDocument:
    """Print a receipt or a correction, after a shift opening if no shift is open; count it in the shift."""
    if not state.shift_open:
        open_shift(conn, state, reg, when=when, opened_at=opened_at, key=None)
    state.last_fd += 1
    state.receipts_in_shift += 1
    state.docs_in_shift += 1
    doc = make(fd_number=state.last_fd, when=when, shift=state.shift_number, receipt_number=state.receipts_in_shift)
    Store.insert_document(conn, doc)
    Store.count_in_shift(conn, doc)
    return doc


def close_shift(
    conn: sqlite3.Connection,
    state: State,
    reg: Registration,
    *,
    when: datetime,
    first_unsent: str | None,
    unsent: int,
    fn_flags: dict[str, bool],
    key: str | None,
    cashier: documents.Cashier = (None, None),
) -> FiscalDocument:
    """Print the Z report with the shift's counters, the FN's unsent documents (before it) and flags; end the shift."""
    state.last_fd += 1
    state.docs_in_shift += 1
    doc = documents.shift_closing(
        reg,
        fd_number=state.last_fd,
        when=when,
        shift=state.shift_number,
        receipts=state.receipts_in_shift,
        documents=state.docs_in_shift,
        unsent=unsent,
        first_unsent=first_unsent,
        fn_flags=fn_flags,
        idempotency_key=key,
        cashier=cashier,
    )
    Store.insert_document(conn, doc)
    Store.shift_closed(conn, state.shift_number, closed_at=when.timestamp())
    state.shift_open = False
    state.shift_opened_at = None
    state.receipts_in_shift = 0
    state.docs_in_shift = 0
    return doc
