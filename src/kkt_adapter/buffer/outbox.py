"""The sync side of the buffer: claim due receipts under a lease, record OFD outcomes fenced by the lease epoch.

A claim bumps the row's ``lease_epoch``; an outcome is written only while the epoch is still the claimer's, so a
worker whose lease expired (and whose receipt was taken over) cannot overwrite the newer owner's result. Outcomes
of a batch are written in one transaction.
"""

from __future__ import annotations

import json
import sqlite3
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Any

from kkt_adapter.buffer.connection import Database, StorageError
from kkt_adapter.buffer.hlc_mark import read_hlc, write_hlc
from kkt_adapter.domain import hlc
from kkt_adapter.domain.fiscal import FiscalResult
from kkt_clock import Clock


@dataclass(frozen=True)
class Claim:
    """A pending receipt leased to one worker until ``lease_until``."""

    receipt_id: str
    epoch: int
    attempts: int
    pos_id: str
    fiscal: FiscalResult
    hlc: hlc.HLCStamp
    idempotency_key: str = ""
    lease_until: float = float("inf")


@dataclass(frozen=True)
class Synced:
    """The OFD acknowledged the document."""

    claim: Claim
    ofd_id: str
    server_time: str | None
    server_ms: int | None


@dataclass(frozen=True)
class Failed:
    """A retryable failure: try again at ``retry_at`` unless this was the last attempt.

    A failed probe of an open circuit breaker is not held against the receipt (``counts=False``): the OFD is down
    for everyone, and a days-long outage must not walk the oldest receipts into the DLQ one probe at a time. The
    receipt is still postponed, so that the next probe tries another one.
    """

    claim: Claim
    error: str
    retry_at: float
    counts: bool = True


@dataclass(frozen=True)
class Rejected:
    """The OFD rejected the document for good: dead-letter it now."""

    claim: Claim
    reason: str


@dataclass(frozen=True)
class Released:
    """Not sent after all (the breaker opened): give the lease back, consume no attempt."""

    claim: Claim


Outcome = Synced | Failed | Rejected | Released


@dataclass
class RecordReport:
    """What a batch's outcomes did to the buffer."""

    synced: int = 0
    retried: int = 0
    dead: int = 0
    released: int = 0
    fenced: list[str] = field(default_factory=list)


class Outbox:
    """Claims and outcomes on the buffer's database."""

    def __init__(self, db: Database, *, clock: Clock, max_attempts: int, hlc_max_offset_ms: int) -> None:
        self.db = db
        self.clock = clock
        self.max_attempts = max_attempts
        self.hlc_max_offset_ms = hlc_max_offset_ms

    def claim_due(self, owner: str, *, limit: int, lease_seconds: float, longest_waiting: bool = False) -> list[Claim]:
        """Lease up to ``limit`` due pending receipts in HLC order (expired leases are taken over).

        ``longest_waiting`` orders by due time first: a breaker's probe then rotates over the receipts, so that one
        document the OFD chokes on cannot keep the breaker open for all the others.
        """
        now = self.clock.time()
        order = "next_attempt_at, hlc_wall_ms, hlc_logical" if longest_waiting else "hlc_wall_ms, hlc_logical"
        with self.db.write() as conn:
            rows = conn.execute(
                "SELECT receipt_id, lease_epoch, attempts, pos_id, fiscal_json, hlc_wall_ms, hlc_logical,"
                " idempotency_key FROM receipts WHERE state = 'pending' AND next_attempt_at <= ? AND lease_until <= ?"
                f" ORDER BY {order} LIMIT ?",
                (now, now, limit),
            ).fetchall()
            conn.executemany(
                "UPDATE receipts SET lease_owner = ?, lease_epoch = lease_epoch + 1, lease_until = ?"
                " WHERE receipt_id = ?",
                [(owner, now + lease_seconds, row["receipt_id"]) for row in rows],
            )
        return [
            Claim(
                receipt_id=row["receipt_id"],
                epoch=row["lease_epoch"] + 1,
                attempts=row["attempts"],
                pos_id=row["pos_id"],
                fiscal=FiscalResult.from_dict(json.loads(row["fiscal_json"])),
                hlc=hlc.HLCStamp(row["hlc_wall_ms"], row["hlc_logical"]),
                idempotency_key=row["idempotency_key"],
                lease_until=now + lease_seconds,
            )
            for row in rows
        ]

    def record(self, outcomes: list[Outcome]) -> RecordReport:
        """Write a batch's outcomes in one transaction; outcomes of lost leases are dropped (``fenced``)."""
        report = RecordReport()
        now = self.clock.time()
        with self.db.write() as conn:
            for outcome in outcomes:
                if not self._apply(conn, outcome, now, report):
                    report.fenced.append(outcome.claim.receipt_id)
        return report

    def _apply(self, conn: sqlite3.Connection, outcome: Outcome, now: float, report: RecordReport) -> bool:
        fence = " WHERE receipt_id = ? AND lease_epoch = ? AND state = 'pending'"
        key = (outcome.claim.receipt_id, outcome.claim.epoch)
        match outcome:
            case Synced():
                stamp = read_hlc(conn)
                if outcome.server_ms is not None:
                    stamp = hlc.merge(stamp, outcome.server_ms, int(now * 1000), max_offset_ms=self.hlc_max_offset_ms)
                    write_hlc(conn, stamp)
                changed = conn.execute(
                    "UPDATE receipts SET state = 'synced', ofd_id = ?, ofd_server_time = ?, hlc_server_ms = ?,"
                    " synced_at = ?, updated_at = ?, attempts = attempts + 1, last_error = NULL,"
                    " lease_owner = NULL, lease_until = 0" + fence,
                    (outcome.ofd_id, outcome.server_time, outcome.server_ms, now, now, *key),
                ).rowcount
                report.synced += changed
            case Failed() if outcome.counts and outcome.claim.attempts + 1 >= self.max_attempts:
                changed = self._dead_letter(
                    conn, outcome.claim, f"{self.max_attempts} attempts, last: {outcome.error}", now
                )
                report.dead += changed
            case Failed():
                changed = conn.execute(
                    "UPDATE receipts SET attempts = attempts + ?, last_error = ?, next_attempt_at = ?, updated_at = ?,"
                    " lease_owner = NULL, lease_until = 0" + fence,
                    (int(outcome.counts), outcome.error, outcome.retry_at, now, *key),
                ).rowcount
                report.retried += changed
            case Rejected():
                changed = self._dead_letter(conn, outcome.claim, f"rejected by the OFD: {outcome.reason}", now)
                report.dead += changed
            case Released():
                changed = conn.execute("UPDATE receipts SET lease_owner = NULL, lease_until = 0" + fence, key).rowcount
                report.released += changed
        return bool(changed)

    @staticmethod
    def _dead_letter(conn: sqlite3.Connection, claim: Claim, reason: str, now: float) -> int:
        changed = conn.execute(
            "UPDATE receipts SET state = 'dlq', attempts = attempts + 1, last_error = ?, updated_at = ?,"
            " lease_owner = NULL, lease_until = 0"
            " WHERE receipt_id = ? AND lease_epoch = ? AND state = 'pending'",
            (reason, now, claim.receipt_id, claim.epoch),
        ).rowcount
        if changed:
            conn.execute(
                "INSERT INTO dlq (receipt_id, reason, attempts, moved_at) VALUES (?, ?, ?, ?)"
                " ON CONFLICT (receipt_id) DO UPDATE SET reason = excluded.reason, attempts = excluded.attempts,"
                " moved_at = excluded.moved_at, requeued_at = NULL",
                (claim.receipt_id, reason, claim.attempts + 1, now),
            )
        return int(changed)

    def next_due_at(self) -> float | None:
        """When the earliest pending receipt becomes due (``None`` when nothing is pending)."""
        with self.db.read() as conn:
            value = conn.execute("SELECT MIN(next_attempt_at) FROM receipts WHERE state = 'pending'").fetchone()[0]
        return None if value is None else float(value)

    def dead_letters(self, *, limit: int = 100, offset: int = 0) -> list[dict[str, Any]]:
        """Receipts in the DLQ now, oldest first, with the reason."""
        with self.db.read() as conn:
            rows = conn.execute(
                "SELECT r.receipt_id, r.pos_id, r.total_kop, r.fd_number, r.fn_number, r.attempts, d.reason,"
                " d.moved_at FROM receipts r JOIN dlq d USING (receipt_id) WHERE r.state = 'dlq'"
                " ORDER BY d.moved_at, r.seq LIMIT ? OFFSET ?",
                (limit, offset),
            ).fetchall()
        return [dict(row) for row in rows]

    def requeue(self, receipt_id: str) -> bool:
        """Move a dead letter back to pending with fresh attempts; ``False`` if it is not in the DLQ."""
        now = self.clock.time()
        with self.db.write() as conn:
            changed = conn.execute(
                "UPDATE receipts SET state = 'pending', attempts = 0, next_attempt_at = ?, updated_at = ?"
                " WHERE receipt_id = ? AND state = 'dlq'",
                (now, now, receipt_id),
            ).rowcount
            if changed:
                conn.execute("UPDATE dlq SET requeued_at = ? WHERE receipt_id = ?", (now, receipt_id))
        return bool(changed)

    def submit_event(self, kind: str, detail: str) -> Future[None]:
        """Queue an application event (breaker transitions) for the audit trail, stamped now, in order."""
        at = self.clock.time()

        def body(conn: sqlite3.Connection) -> None:
            conn.execute("INSERT INTO events (at, kind, detail) VALUES (?, ?, ?)", (at, kind, detail))

        try:
            return self.db.submit(body)
        except StorageError:  # closing: the transition is still in the log
            done: Future[None] = Future()
            done.set_result(None)
            return done
