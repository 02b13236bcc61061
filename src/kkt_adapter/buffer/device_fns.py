"""The fiscal drive each device name was last seen with (schema v5), so that a renamed or swapped KKT is caught.

A device name binds receipts while their print is decided (``accepted``); they are settled from that device's
journal, by key. A name that now reaches a KKT with another FN would look for them in the wrong journal, find
nothing, and let the resend print them again. :meth:`DeviceFns.see` records the FN a name answers with, and refuses
to record a change while the name has undecided rows; with none, the change is an FN replacement and is recorded.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass

from kkt_adapter.buffer.connection import Database
from kkt_clock import Clock


@dataclass(frozen=True)
class FnSeen:
    """What the buffer knew of a device name's FN when the device answered with ``fn_number``."""

    fn_number: str
    #: The FN recorded for the name before (``None``: the buffer had never seen this name).
    previous: str | None
    #: Rows bound to the name whose print is undecided (counted only when the FN changed).
    undecided: int = 0

    @property
    def changed(self) -> bool:
        return self.previous is not None and self.previous != self.fn_number

    @property
    def refused(self) -> bool:
        """The FN changed under undecided rows: not recorded, the device must not print."""
        return self.changed and self.undecided > 0


class DeviceFns:
    """Each device name's recorded FN."""

    def __init__(self, db: Database, *, clock: Clock) -> None:
        self.db = db
        self.clock = clock

    def recorded(self, device: str) -> str | None:
        """The FN recorded for ``device``, or ``None``."""
        with self.db.read() as conn:
            return recorded_fn(conn, device)

    def see(self, device: str, fn_number: str) -> FnSeen:
        """``device`` answered with ``fn_number``: record it, unless it replaces another FN while rows bound to the
        name are undecided (then nothing is written and the answer is :attr:`FnSeen.refused`)."""
        now = self.clock.time()

        def body(conn: sqlite3.Connection) -> FnSeen:
            previous = recorded_fn(conn, device)
            if previous == fn_number:
                return FnSeen(fn_number, previous)
            undecided = 0 if previous is None else undecided_rows(conn, device)
            seen = FnSeen(fn_number, previous, undecided)
            if not seen.refused:
                conn.execute(
                    "INSERT INTO device_fns (device, fn_number, recorded_at) VALUES (?, ?, ?)"
                    " ON CONFLICT (device) DO UPDATE SET fn_number = excluded.fn_number,"
                    " recorded_at = excluded.recorded_at",
                    (device, fn_number, now),
                )
            return seen

        return self.db.run(body)


def recorded_fn(conn: sqlite3.Connection, device: str) -> str | None:
    """The FN recorded for ``device`` (read in the caller's connection)."""
    row = conn.execute("SELECT fn_number FROM device_fns WHERE device = ?", (device,)).fetchone()
    return None if row is None else str(row[0])


def undecided_rows(conn: sqlite3.Connection, device: str) -> int:
    """How many rows bound to ``device`` wait for their print's outcome (``accepted``)."""
    row = conn.execute("SELECT COUNT(*) FROM receipts WHERE state = 'accepted' AND device = ?", (device,)).fetchone()
    return int(row[0])
