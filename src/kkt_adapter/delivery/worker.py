"""The sync worker: one :meth:`SyncWorker.step` (claim, send, record) and a thin :meth:`SyncWorker.run` loop.

A step claims due receipts under a lease, sends them in HLC order with bounded concurrency through the circuit
breaker, and records the batch's outcomes in one transaction. While the breaker is open nothing is claimed or
sent, and no attempt is consumed. The loop wakes at once when a receipt is printed, otherwise at the poll
interval, the next due retry or the breaker's next probe, whichever comes first.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass
from typing import Any, Protocol

from kkt_adapter.buffer import outbox as ob
from kkt_adapter.delivery.backoff import Backoff
from kkt_adapter.delivery.breaker import BreakerState, CircuitBreaker
from kkt_adapter.delivery.ofd_client import Accepted, Permanent, Retryable, SendOutcome
from kkt_adapter.status.metrics import Metrics
from kkt_clock import Clock

log = logging.getLogger(__name__)

#: Shortest sleep when due receipts are leased by another process (avoids a busy loop).
MIN_IDLE_S = 0.05


class OFDSender(Protocol):
    """What the worker needs of an OFD client."""

    async def send(self, *, receipt_id: str, pos_id: str, document: dict[str, Any], key: str) -> SendOutcome: ...


@dataclass(frozen=True)
class PassResult:
    """What one step did."""

    claimed: int = 0
    synced: int = 0
    retried: int = 0
    dead: int = 0
    released: int = 0
    fenced: int = 0
    breaker_open: bool = False

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


class SyncWorker:
    """Delivers pending receipts to the OFD."""

    def __init__(
        self,
        outbox: ob.Outbox,
        client: OFDSender,
        breaker: CircuitBreaker,
        clock: Clock,
        *,
        owner: str,
        batch_size: int = 50,
        concurrency: int = 4,
        lease_seconds: float = 60.0,
        interval: float = 30.0,
        backoff: Backoff | None = None,
        rng: random.Random | None = None,
        metrics: Metrics | None = None,
        send_budget_s: float = 0.0,
        on_synced: Callable[[str, list[int]], Awaitable[object]] | None = None,
    ) -> None:
        self.outbox = outbox
        self.on_synced = on_synced
        self.client = client
        self.breaker = breaker
        self.clock = clock
        self.owner = owner
        self.batch_size = batch_size
        self.concurrency = concurrency
        self.lease_seconds = lease_seconds
        self.interval = interval
        self.backoff = backoff or Backoff()
        self.rng = rng or random.Random()
        self.metrics = metrics or Metrics()
        #: The longest one send can take (client timeout × tries): a send starts only with this much lease left.
        self.send_budget_s = send_budget_s
        self._wake = asyncio.Event()
        self._stopping = False
        self.state = "idle"
        self.passes = 0
        self.totals = PassResult()
        self.last_pass: PassResult | None = None
        self.last_pass_at: float | None = None
        self.next_wake_at: float | None = None
        self.last_exchange_ok: bool | None = None
        self.last_exchange_at: float | None = None
        #: When the OFD last answered (the alert rules compare it with the time of the oldest waiting document).
        self.last_success_at: float | None = None

    def wake(self) -> None:
        """Run a pass as soon as possible (a receipt was printed)."""
        self._wake.set()

    def stop(self) -> None:
        self._stopping = True
        self._wake.set()

    async def step(self) -> PassResult:
        """One pass: claim due receipts, send them, record the outcomes."""
        if self.breaker.state is BreakerState.OPEN and self.breaker.retry_in() > 0:
            return self._done(PassResult(breaker_open=True))
        # Recovering from an outage, a pass carries a single probe; a full batch waits until the breaker closes.
        probing = self.breaker.state is not BreakerState.CLOSED
        claims = await asyncio.to_thread(
            self.outbox.claim_due,
            self.owner,
            limit=1 if probing else self.batch_size,
            lease_seconds=self.lease_seconds,
            longest_waiting=probing,
        )
        if not claims:
            return self._done(PassResult())
        gate = asyncio.Semaphore(self.concurrency)  # FIFO: sends start in HLC order
        outcomes = await asyncio.gather(*(self._send(claim, gate) for claim in claims))
        report = await asyncio.to_thread(self.outbox.record, list(outcomes))
        await self._acknowledge(outcomes)
        self.metrics.synced.inc(report.synced)
        self.metrics.dead_lettered.inc(report.dead)
        if report.fenced:
            log.warning("lease lost before recording; another worker owns these", extra={"receipts": report.fenced})
        return self._done(
            PassResult(
                claimed=len(claims),
                synced=report.synced,
                retried=report.retried,
                dead=report.dead,
                released=report.released,
                fenced=len(report.fenced),
                breaker_open=self.breaker.state is BreakerState.OPEN,
            )
        )

    async def _acknowledge(self, outcomes: list[ob.Outcome]) -> None:
        """Pass the OFD's acknowledgements to the fiscal drive (the emulated FN counts them as sent)."""
        by_fn: dict[str, list[int]] = {}
        for outcome in outcomes:
            if isinstance(outcome, ob.Synced):
                fiscal = outcome.claim.fiscal
                by_fn.setdefault(fiscal.fn_number, []).append(fiscal.fiscal_doc_number)
        if self.on_synced is None:
            return
        for fn_number, numbers in by_fn.items():
            try:
                await self.on_synced(fn_number, numbers)
            except Exception:
                # The OFD has the documents; the FN hears of them at the adapter's next start (Fiscalizer.catch_up).
                log.exception(
                    "passing the OFD's acknowledgements to the device failed",
                    extra={"fn_number": fn_number, "documents": numbers},
                )

    async def _send(self, claim: ob.Claim, gate: asyncio.Semaphore) -> ob.Outcome:
        async with gate:
            if claim.lease_until - self.clock.time() < self.send_budget_s:
                # Too little of the lease is left for a send to finish inside it; another worker may take the
                # receipt over after expiry, so this one must not be sending it then.
                return ob.Released(claim)
            if not self.breaker.allow():
                return ob.Released(claim)
            probe = self.breaker.state is BreakerState.HALF_OPEN
            started = time.perf_counter()
            try:
                result: SendOutcome = await self.client.send(
                    receipt_id=claim.receipt_id,
                    pos_id=claim.pos_id,
                    document=claim.fiscal.document,
                    key=claim.receipt_id,
                )
            except Exception as exc:  # a bug or an answer nobody foresaw: a failed attempt, never a stuck breaker
                log.exception("sending a receipt failed unexpectedly", extra={"receipt_id": claim.receipt_id})
                result = Retryable(f"internal error: {type(exc).__name__}: {exc}")
            self.metrics.ofd_latency.labels(type(result).__name__.lower()).observe(time.perf_counter() - started)
            # Recorded before the gate opens for the next send, so that an outage stops the batch promptly.
            return self._judge(claim, result, probe=probe)

    def _judge(self, claim: ob.Claim, result: SendOutcome, *, probe: bool = False) -> ob.Outcome:
        self.last_exchange_at = self.clock.time()
        self.last_exchange_ok = not isinstance(result, Retryable)
        if self.last_exchange_ok:
            self.last_success_at = self.last_exchange_at
        match result:
            case Accepted():
                self.breaker.record_success()
                log.debug(
                    "synced",
                    extra={"receipt_id": claim.receipt_id, "key": claim.idempotency_key, "ofd_id": result.ofd_id},
                )
                return ob.Synced(claim, result.ofd_id, result.server_time, result.server_ms)
            case Permanent():
                self.breaker.record_success()  # the OFD answered: it is up, the document is wrong
                log.error(
                    "OFD rejected a receipt",
                    extra={"receipt_id": claim.receipt_id, "key": claim.idempotency_key, "reason": result.reason},
                )
                return ob.Rejected(claim, result.reason)
            case Retryable():
                self.breaker.record_failure(result.reason)
                log.info(
                    "OFD send failed, will retry",
                    extra={"receipt_id": claim.receipt_id, "key": claim.idempotency_key, "reason": result.reason},
                )
                delay = self.backoff.delay(claim.attempts + 1, jitter=self.rng.random())
                if result.retry_after_s is not None:
                    delay = max(delay, min(result.retry_after_s, self.backoff.cap))
                return ob.Failed(claim, result.reason, self.clock.time() + delay, counts=not probe)
        raise AssertionError(result)  # pragma: no cover

    def _done(self, result: PassResult) -> PassResult:
        self.passes += 1
        self.last_pass = result
        self.last_pass_at = self.clock.time()
        totals = self.totals
        self.totals = PassResult(
            claimed=totals.claimed + result.claimed,
            synced=totals.synced + result.synced,
            retried=totals.retried + result.retried,
            dead=totals.dead + result.dead,
            released=totals.released + result.released,
            fenced=totals.fenced + result.fenced,
        )
        return result

    async def run(self) -> None:
        """Loop until :meth:`stop`: a pass, then sleep until woken or something becomes due."""
        self.state = "running"
        while not self._stopping:
            self._wake.clear()
            try:
                result: PassResult | None = await self.step()
                if result is not None and result.claimed >= self.batch_size and not result.breaker_open:
                    continue
                timeout = await self._sleep_for()
            except Exception:
                log.exception("sync pass failed; retrying after the poll interval")
                timeout = self.interval
            self.next_wake_at = self.clock.time() + timeout
            self.state = "idle"
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout)
            self.state = "running"
        self.state = "stopped"

    async def _sleep_for(self) -> float:
        timeout = self.interval
        if self.breaker.state is BreakerState.OPEN:
            return min(timeout, max(self.breaker.retry_in(), MIN_IDLE_S))
        next_due = await asyncio.to_thread(self.outbox.next_due_at)
        if next_due is not None:
            timeout = min(timeout, max(next_due - self.clock.time(), MIN_IDLE_S))
        return timeout

    def status(self) -> dict[str, Any]:
        """For ``GET /v1/kkt/worker/status``."""
        return {
            "state": self.state,
            "owner": self.owner,
            "passes": self.passes,
            "last_pass_at": self.last_pass_at,
            "last_pass": self.last_pass.to_dict() if self.last_pass else None,
            "next_wake_at": self.next_wake_at,
            "totals": self.totals.to_dict(),
            "batch_size": self.batch_size,
            "concurrency": self.concurrency,
            "interval_seconds": self.interval,
            "circuit_breaker": self.breaker.snapshot(),
        }
