"""The Shtrih-M KKT as a :class:`~kkt_adapter.devices.protocol.FiscalDriver` (``KKT_DRIVER_TYPE=shtrih``).

Exactly once without keys in the FN. A receipt: 8Dh opens it, FF01h then reads the FN's last FD number — exact,
because while a receipt is open the KKT makes no other document — and the key is recorded with it (:mod:`.keys`)
before FF46h per item, FF0Ch (cashier) and FF45h; the receipt, if made, is FD that number + 1. What the FN holds
afterwards decides, not the answer: if FF45h's answer is lost, or it answers 6Bh because the paper ran out while
printing, the FN's last FD number tells whether the receipt was made, and FF0Ah reads it back by number (type,
operation, total) — the original document is answered, never a second one. After a paper-out the driver continues the
print with B0h once the paper is back (or the next print does). Shift documents and corrections, made by one command,
read the last FD number just before it.

Before a receipt the KKT is prepared (10h; an open receipt cancelled, a stopped print continued) unless this
driver's previous receipt succeeded and nothing failed on the line nor reconnected since (:class:`Fresh`): then 8Dh
goes first, and a refusal of it (the KKT not in the state left) prepares the KKT and opens once more — 8Dh makes no
document, so sending it again is safe. After the close, the shift's number and receipt count are derived instead of
read (FF40h) only when the FN's number and last FD read with the receipt open are those left by the previous receipt
and the close answered the next FD: then no document of anyone came between.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path

from kkt_adapter.devices.shtrih import commands, registers, results
from kkt_adapter.devices.shtrih.channel import AnswerLost, NotDelivered
from kkt_adapter.devices.shtrih.commands import CommandFailed
from kkt_adapter.devices.shtrih.device import ShtrihDevice
from kkt_adapter.devices.shtrih.errors import PAPER_OUT, ShtrihOutcomeUnknown, refusal, shift_conflict, unavailable
from kkt_adapter.devices.shtrih.keys import KeyFile, KeyRecord
from kkt_adapter.devices.shtrih.link import LinkDown
from kkt_adapter.domain.correction import Correction
from kkt_adapter.domain.device import DeviceState, FNStatus, JournalEntry, ShiftReport
from kkt_adapter.domain.errors import DeviceRefused, OutcomeUnknown, ShiftConflict
from kkt_adapter.domain.fiscal import FiscalResult
from kkt_adapter.domain.receipt import Cashier, Receipt
from kkt_clock import Clock

log = logging.getLogger(__name__)
LINE_ERRORS = (NotDelivered, AnswerLost, LinkDown)


@dataclass(frozen=True)
class Fresh:
    """What this driver's last receipt left, each part proven by a read or by FD continuity: the FN (its number,
    its last FD, that receipt's) and the shift (number, receipts, that receipt the last), with the device's
    :meth:`~ShtrihDevice.generation` then. It stands only while the generation is unchanged."""

    fn_number: str
    last_fd: int
    shift: commands.ShiftState
    generation: tuple[int, int]


class ShtrihDriver:
    """Prints on a Shtrih-M KKT through ``device``; keys are kept in ``state_dir``. ``paper_wait_s`` bounds the wait
    for paper after a paper-out during the close (the receipt is answered either way)."""

    def __init__(
        self,
        device: ShtrihDevice,
        state_dir: Path,
        *,
        clock: Clock,
        paper_wait_s: float = 30.0,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.device = device
        self.keys = KeyFile(state_dir)
        self.clock = clock
        self.paper_wait_s = paper_wait_s
        self.sleep = sleep
        self.max_batch = 1
        self.fresh: Fresh | None = None

    # -- printing -----------------------------------------------------------------------------------------------

    def print_receipt(self, receipt: Receipt, *, idempotency_key: str) -> FiscalResult:
        plan = results.receipt_plan(receipt, self.device)
        return self._print(idempotency_key, plan)

    def print_correction(self, correction: Correction, *, idempotency_key: str) -> FiscalResult:
        plan = results.correction_plan(correction, self.device)
        return self._print(idempotency_key, plan)

    def open_shift(self, *, idempotency_key: str, cashier: Cashier | None = None) -> FiscalResult:
        return self._print(idempotency_key, results.shift_plan(self.device, opening=True, cashier=cashier))

    def close_shift(self, *, idempotency_key: str, cashier: Cashier | None = None) -> tuple[FiscalResult, ShiftReport]:
        before = self.shift_report() if self.device.shift().open else None
        result = self._print(idempotency_key, results.shift_plan(self.device, opening=False, cashier=cashier))
        report = before or results.empty_report(result.shift_number)
        return result, results.closed(report)

    def print_x_report(self) -> ShiftReport:
        """Print an X report (40h): not a fiscal document; the open shift's counters as the device reports them."""
        self.fresh = None  # a report printed: the next receipt checks the KKT's state first
        if not self.device.shift().open:
            raise ShiftConflict("shift_not_open", "no shift is open: open one (or sell) before the X report")
        self.device.query(0x40, admin=True)
        return self.shift_report()

    def _print(self, key: str, plan: results.Plan) -> FiscalResult:
        known = self._settle(key, plan)
        if known is not None:
            return known
        self._settle_others(key)
        fresh, self.fresh = self._fresh(), None  # only a receipt that succeeds leaves the state known again
        fn = self._open(plan, fresh) if plan.opens else self._prepare(plan)
        before = fn.last_fd
        try:
            self.keys.put(KeyRecord(key, "printing", before, None, plan.doc_type, plan.operation, plan.total_kop))
        except OSError as exc:
            self.device.cancel_quietly()  # nothing may be signed without its record
            raise unavailable(f"the key file cannot be written ({exc}): nothing printed") from exc
        try:
            signed = self._run(plan, plan.steps[1:] if plan.opens else plan.steps)
        except DeviceRefused:
            self.keys.put(KeyRecord(key, "refused"))
            raise
        except (CommandFailed, *LINE_ERRORS) as exc:
            return self._after_failure(key, plan, before, exc)
        try:
            return self._answered(key, plan, signed, fresh, fn)
        except OutcomeUnknown:
            raise
        except Exception as exc:  # the document may be signed: nothing after the last command is a refusal
            raise ShtrihOutcomeUnknown(f"the KKT took the document's last command, then: {exc}") from exc

    def _settle_others(self, key: str) -> None:
        """Settle every other key left ``printing`` before anything reaches the KKT: now the FN still tells whether
        its document was made; after this print (whose preparation cancels a receipt left open, and whose document
        takes the next number) it could not. One the FN cannot prove is recorded ``unknown`` for good."""
        for record in self.keys.printing():
            if record.key == key:
                continue
            try:
                self._settle(record.key, None)
            except OutcomeUnknown as exc:
                log.error("a print's outcome cannot be proven from the FN; recorded as unknown: %s", exc)
                self.keys.put(replace(record, state="unknown"))

    def _answered(
        self, key: str, plan: results.Plan, signed: commands.Signed | None, fresh: Fresh | None, fn: commands.FnState
    ) -> FiscalResult:
        """The document's last command answered: its result (fiscal data from the answer, the rest read)."""
        before = fn.last_fd
        if signed is not None:
            if not plan.opens:
                return self._done(key, plan, results.from_signed(signed, plan, self.device, fn=fn))
            shift = self._shift_after(fresh, fn, signed.fd_number)
            result = results.from_signed(signed, plan, self.device, fn=fn, shift=shift)
            if signed.fd_number == before + 1:
                self.fresh = Fresh(fn.fn_number, signed.fd_number, shift, self.device.generation())
            return self._done(key, plan, result)
        found = self._made_after(before, plan)  # a shift report answers no fiscal data: read it by number
        if found is None:
            raise ShtrihOutcomeUnknown(f"{plan.doc_type=}: the KKT answered, yet the FN holds no new document")
        return self._done(key, plan, results.from_document(found, plan, self.device))

    def _fresh(self) -> Fresh | None:
        fresh = self.fresh
        return fresh if fresh is not None and fresh.generation == self.device.generation() else None

    def _prepare(self, plan: results.Plan) -> commands.FnState:
        """A document of one command: the KKT prepared, the shift's state checked, then the FN's last FD read."""
        status = self.device.prepare()
        if plan.doc_type in (2, 5) and (status.mode in (2, 3)) == (plan.doc_type == 2):
            raise shift_conflict(status.mode in (2, 3))
        return self.device.fn()

    def _open(self, plan: results.Plan, fresh: Fresh | None) -> commands.FnState:
        """8Dh, the KKT prepared first unless ``fresh``; then FF01h with the receipt open: its last FD is exact (the
        KKT makes no other document while a receipt is open), and the receipt, if made, is the next."""
        message, command = plan.steps[0]
        if fresh is None:
            self.device.prepare()
        try:
            try:
                self.device.send(message, command)
            except CommandFailed as exc:
                if fresh is None:
                    raise
                log.info("8Dh refused after a good print (%s): preparing the KKT and opening again", exc)
                self.device.prepare()
                self.device.send(message, command)
            return self.device.fn()
        except CommandFailed as exc:
            self.device.cancel_quietly()
            raise refusal(exc.code, exc.command) from exc
        except LINE_ERRORS as exc:
            self.device.cancel_quietly()
            raise unavailable(str(exc)) from exc
        except DeviceRefused:
            self.device.cancel_quietly()
            raise

    def _shift_after(self, fresh: Fresh | None, fn: commands.FnState, fd: int) -> commands.ShiftState:
        """The shift after receipt ``fd``: derived from ``fresh`` when no document of anyone came between (the same
        FN, its last FD with this receipt open the one ``fresh`` left, and this receipt the next), else read."""
        if fresh is not None and (fresh.fn_number, fresh.last_fd, fd) == (fn.fn_number, fn.last_fd, fn.last_fd + 1):
            return replace(fresh.shift, receipts=fresh.shift.receipts + 1)
        return self.device.shift()

    def _run(self, plan: results.Plan, steps: tuple[results.Step, ...]) -> commands.Signed | None:
        """``steps`` of ``plan``; a refusal before the last one cancels the receipt and is raised as definite."""
        *before, (last, command) = steps
        for message, step_command in before:
            try:
                self.device.send(message, step_command)
            except CommandFailed as exc:
                self.device.cancel_quietly()
                raise refusal(exc.code, exc.command) from exc
            except NotDelivered as exc:
                self.device.cancel_quietly()
                raise unavailable(str(exc)) from exc
        return plan.read(self.device.send(last, command))

    def _after_failure(self, key: str, plan: results.Plan, before: int, exc: Exception) -> FiscalResult:
        """The last command failed or its answer was lost: the FN says whether the document was made."""
        try:
            found = self._made_after(before, plan)
        except DeviceRefused as unreachable:
            raise ShtrihOutcomeUnknown(f"{exc}; the FN cannot be read: {unreachable.reason}") from exc
        if found is not None:
            log.warning("the document was made despite %s: answering FD %s", exc, found.fd_number)
            try:
                if isinstance(exc, CommandFailed) and exc.code == PAPER_OUT:
                    self.device.wait_continue(deadline_s=self.paper_wait_s, now=self.clock.time)
                return self._done(key, plan, results.from_document(found, plan, self.device))
            except DeviceRefused as unreadable:  # the document is made: never a refusal now
                raise ShtrihOutcomeUnknown(f"FD {found.fd_number} made, then: {unreadable.reason}") from exc
        self.device.cancel_quietly()
        self.keys.put(KeyRecord(key, "refused"))
        if isinstance(exc, CommandFailed):
            raise refusal(exc.code, exc.command) from exc
        raise unavailable(f"{exc}; the FN holds no new document") from exc

    def _made_after(self, before: int, plan: results.Plan) -> commands.Document | None:
        """The document ``plan`` made after FD ``before``, ``None`` if the FN holds none after it; unknown outcome
        when the FN holds another. A receipt sold with the shift closed opens it itself: the FN then holds the shift's
        opening (type 2) at ``before`` + 1 and the receipt next — nothing else can come between, the receipt being
        open on the KKT since ``before`` was read."""
        last = self.device.fn().last_fd
        if last <= before:
            return None
        number = before + 1
        document = self.device.find(number)
        if document is not None and document.doc_type == 2 and plan.doc_type == 3 and last > number:
            number += 1
            document = self.device.find(number)
        if document is None or not plan.matches(document):
            raise ShtrihOutcomeUnknown(f"FD {number} does not match the document printed ({document})")
        return document

    def _done(self, key: str, plan: results.Plan, result: FiscalResult) -> FiscalResult:
        """Record the key's document; not fsynced: lost in a power cut, the key's ``printing`` record settles to the
        same document (:mod:`.keys`, with the shift's numbers as read then)."""
        record = KeyRecord(key, "printed", None, result.to_dict(), plan.doc_type, plan.operation, plan.total_kop)
        self.keys.put(record, durable=False)
        return result

    def _settle(self, key: str, plan: results.Plan | None) -> FiscalResult | None:
        """A key seen before: its document (checked against the FN), or ``None`` when nothing was printed."""
        record = self.keys.get(key)
        if record is None or record.state == "refused":
            return None
        if record.state == "unknown":
            raise ShtrihOutcomeUnknown(
                f"key {key!r}: FD {record.before_fd} + 1 in the FN was not its document when it was settled"
            )
        if record.state == "printed" and record.result is not None:
            result = FiscalResult.from_dict(record.result)
            document = self.device.find(result.fiscal_doc_number)
            if document is None or document.fiscal_sign != int(result.fiscal_sign):
                raise ShtrihOutcomeUnknown(f"key {key!r}: FD {result.fiscal_doc_number} in the FN does not match")
            return result
        assert record.before_fd is not None
        expected = results.Plan.expecting(record)
        found = self._made_after(record.before_fd, expected)
        if found is None:
            if self.device.fn().last_fd > record.before_fd:
                raise ShtrihOutcomeUnknown(f"key {key!r}: documents followed its print, none of them its own")
            # Settled: nothing was made. Left "printing", the record would be judged again after other keys' prints
            # and FD before+1, theirs, would make this key's outcome unknown for ever.
            self.keys.put(KeyRecord(key, "refused"))
            return None
        return self._done(key, expected, results.from_document(found, expected, self.device))

    def print_batch(self, jobs: Sequence[object]) -> list[FiscalResult | Exception]:  # pragma: no cover - max 1
        raise NotImplementedError("the Shtrih-M driver prints one job at a time (max_batch = 1)")

    # -- queries ------------------------------------------------------------------------------------------------

    def find_by_key(self, idempotency_key: str) -> FiscalResult | None:
        return self._settle(idempotency_key, None)

    def journal(self, *, after_fd: int, limit: int) -> list[JournalEntry]:
        last = self.device.fn().last_fd
        keys = {r.result["fiscal_doc_number"]: r.key for r in self.keys.printed() if r.result is not None}
        entries = []
        for number in range(after_fd + 1, min(after_fd + limit, last) + 1):
            document = self.device.find(number)
            if document is not None and document.doc_type != 1:
                entries.append(JournalEntry(results.from_found(document, self.device), keys.get(number)))
        return entries

    def acknowledge(self, fd_numbers: Sequence[int]) -> None:
        """The FN learns acknowledgements from the OFD itself: nothing to pass on."""

    def shift_report(self) -> ShiftReport:
        """The shift's counters; an open shift's totals too, from the registers (read before a Z report clears them)."""
        shift = self.device.shift()
        totals = None
        if shift.open:
            try:
                totals = registers.read_totals(self.device)
            except DeviceRefused as exc:  # the totals are for people: they never stop a Z report
                log.warning("the shift's totals could not be read from the KKT's registers: %s", exc.reason)
        return results.shift_report(shift, self.device.status(), totals)

    def fn_status(self) -> FNStatus:
        fn = self.device.fn()
        validity = commands.validity(self.device.query(0xFF03))
        return results.fn_status(fn, self.device.exchange(), validity)

    def state(self) -> DeviceState:
        try:
            status = self.device.status()
        except DeviceRefused:
            return results.offline_state()
        fn, shift = self.device.fn(), self.device.shift()
        return results.device_state(status, fn, shift, self.device.registration_number(), now=self._now())

    def _now(self) -> datetime:
        return datetime.fromtimestamp(self.clock.time(), UTC)

    def close(self) -> None:
        self.device.close()
