"""Delivery tracked by the device (``KKT_OFD_DELIVERY=device``): one :meth:`DeviceTracker.step` and a thin loop.

A real KKT's fiscal drive sends its own documents to the OFD, in FD order, and counts what the OFD has not
acknowledged yet. The adapter posts nothing: each step reads the FN's exchange status (through the device's thread)
and marks every buffered document of that FN below its first unsent document ``synced`` — all of them, up to the FN's
last document, when nothing is unsent. Documents of another FN (the KKT's fiscal drive was replaced) are left as
they are and counted. A device that does not answer changes nothing; the status says why.

There are no retries, backoff, breaker or dead letters here: the FN retries on its own, and what replaces the DLQ's
alarm is the 30-day watch on the FN's first unsent document (health, heartbeat, ``GET /v1/kkt/fn``).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass, field
from typing import Any

from kkt_adapter.buffer.device_marks import DeviceMarks
from kkt_adapter.delivery.fn_exchange import FnExchange
from kkt_adapter.domain.device import FNStatus
from kkt_adapter.status.metrics import Metrics
from kkt_clock import Clock

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Tracked:
    """The device answered: the FN's exchange status, and what this step marked ``synced``."""

    fn_number: str
    unsent_count: int
    first_unsent_fd_number: int | None
    #: FD numbers this step marked ``synced``, ascending (empty when nothing new was sent).
    marked: tuple[int, ...] = ()
    #: Unsent documents of other fiscal drives (a replaced FN), by FN number: never marked here.
    untracked: dict[str, int] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "outcome": "tracked",
            "fn_number": self.fn_number,
            "unsent_count": self.unsent_count,
            "first_unsent_fd_number": self.first_unsent_fd_number,
            "marked": len(self.marked),
            "untracked": dict(self.untracked),
        }


@dataclass(frozen=True)
class DeviceUnreachable:
    """The device did not answer: nothing changed."""

    reason: str

    def to_dict(self) -> dict[str, Any]:
        return {"outcome": "device_unreachable", "reason": self.reason}


TrackOutcome = Tracked | DeviceUnreachable


def sent_through(status: FNStatus) -> int:
    """The highest FD number the FN has delivered: before its first unsent document, or its last when none is."""
    if status.first_unsent_fd_number is not None:
        return status.first_unsent_fd_number - 1
    return status.documents_count


class DeviceTracker:
    """Marks buffered documents ``synced`` as the KKT's own exchange with the OFD progresses."""

    def __init__(
        self,
        exchange: FnExchange,
        marks: DeviceMarks,
        clock: Clock,
        *,
        interval: float = 30.0,
        metrics: Metrics | None = None,
        device: str | None = None,
    ) -> None:
        #: The label of the device whose documents this tracker follows when devices are labelled (another's FN is
        #: not "replaced"); ``None`` for one device.
        self.device = device
        self.exchange = exchange
        self.marks = marks
        self.clock = clock
        self.interval = interval
        self.metrics = metrics or Metrics()
        self.state = "idle"
        self.polls = 0
        self.marked_total = 0
        self.last: TrackOutcome | None = None
        self.last_at: float | None = None
        self.untracked: dict[str, int] = {}
        self._stop = asyncio.Event()

    async def step(self) -> TrackOutcome:
        """Read the FN's exchange status and mark what it has delivered."""
        status = await self.exchange.refresh()
        if status is None:
            return self._done(DeviceUnreachable(self.exchange.error or "no answer"))
        through = sent_through(status)
        detail = (
            f"delivered by the KKT itself: FN {status.fn_number} reports FD {status.first_unsent_fd_number} as its"
            " first unsent document"
            if status.first_unsent_fd_number is not None
            else f"delivered by the KKT itself: FN {status.fn_number} reports nothing unsent (last FD {through})"
        )
        marked = await asyncio.to_thread(self.marks.mark_sent, status.fn_number, through_fd=through, detail=detail)
        untracked = await asyncio.to_thread(self.marks.untracked, status.fn_number, device=self.device)
        if marked.fd_numbers:
            self.metrics.synced.inc(len(marked.fd_numbers))
            low, high = marked.fd_numbers[0], marked.fd_numbers[-1]
            log.info(
                "the KKT delivered documents to the OFD",
                extra={"fn_number": status.fn_number, "documents": len(marked.fd_numbers), "fd_range": f"{low}-{high}"},
            )
        if untracked and untracked != self.untracked:
            log.warning(
                "documents of another fiscal drive are not tracked: the KKT no longer reports on them",
                extra={"untracked": untracked, "fn_number": status.fn_number},
            )
        self.untracked = untracked
        return self._done(
            Tracked(
                fn_number=status.fn_number,
                unsent_count=status.unsent_count,
                first_unsent_fd_number=status.first_unsent_fd_number,
                marked=marked.fd_numbers,
                untracked=untracked,
            )
        )

    def _done(self, outcome: TrackOutcome) -> TrackOutcome:
        self.polls += 1
        self.last, self.last_at = outcome, self.clock.time()
        if isinstance(outcome, Tracked):
            self.marked_total += len(outcome.marked)
        return outcome

    async def run(self) -> None:
        """Poll every :attr:`interval` seconds until :meth:`stop`; a failed step is logged and the next one runs."""
        while not self._stop.is_set():
            self.state = "running"
            try:
                await self.step()
            except Exception:
                log.exception("tracking the device's OFD delivery failed; retrying after the poll interval")
            self.state = "idle"
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stop.wait(), self.interval)
        self.state = "stopped"

    def stop(self) -> None:
        self._stop.set()

    @property
    def last_ok(self) -> bool | None:
        """Whether the last poll got the device's answer (``None`` before any)."""
        return None if self.last is None else isinstance(self.last, Tracked)

    def status(self) -> dict[str, Any]:
        """For ``GET /v1/kkt/worker/status`` and health in device mode."""
        return {
            "state": self.state,
            "polls": self.polls,
            "last_poll_at": self.last_at,
            "last_poll": None if self.last is None else self.last.to_dict(),
            "marked_total": self.marked_total,
            "untracked": dict(self.untracked),
            "interval_seconds": self.interval,
        }
