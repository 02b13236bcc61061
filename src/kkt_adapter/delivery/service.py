"""Phase 2 assembled: the circuit breaker always, and — when an OFD is configured — the OFD client and the worker;
or, with ``KKT_OFD_DELIVERY=device``, the tracker of the KKT's own delivery instead of both.

:class:`Delivery` is what the rest of the adapter knows of Phase 2: whether delivery is on and where to
(``sync_mode``), how the last exchange went, the breaker, and the worker to wake or step.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from kkt_adapter.delivery.breaker import CircuitBreaker
from kkt_adapter.delivery.device_tracking import DeviceTracker
from kkt_adapter.delivery.worker import SyncWorker


class Delivery:
    """Delivery to the OFD: off, to an embedded mock OFD, to a remote one, or by the device (tracked)."""

    def __init__(
        self,
        breaker: CircuitBreaker,
        *,
        worker: SyncWorker | None = None,
        ofd_url: str | None = None,
        embedded: bool = False,
        trackers: Sequence[DeviceTracker] = (),
    ) -> None:
        self.breaker = breaker
        self.worker = worker
        #: With ``KKT_OFD_DELIVERY=device``, one tracker per device (the primary's first).
        self.trackers: tuple[DeviceTracker, ...] = tuple(trackers)
        self.ofd_url = ofd_url
        self.embedded = embedded

    @property
    def tracker(self) -> DeviceTracker | None:
        """The primary device's tracker (device mode), else ``None``."""
        return self.trackers[0] if self.trackers else None

    @property
    def sync_mode(self) -> str:
        """``off`` (disabled or no OFD), ``embedded`` (mock OFD in-process), ``remote``, or ``device`` (the KKT
        sends; the adapter tracks)."""
        if self.tracker is not None:
            return "device"
        if self.worker is None:
            return "off"
        return "embedded" if self.embedded else "remote"

    @property
    def last_exchange_ok(self) -> bool | None:
        """Whether the last exchange with the OFD got an answer (``None`` before any); in device mode, whether the
        last poll of the device's exchange status did."""
        if self.trackers:
            answers = [tracker.last_ok for tracker in self.trackers]
            return False if False in answers else None if None in answers else True
        return None if self.worker is None else self.worker.last_exchange_ok

    @property
    def last_exchange_at(self) -> float | None:
        if self.tracker is not None:
            return self.tracker.last_at
        return None if self.worker is None else self.worker.last_exchange_at

    @property
    def last_success_at(self) -> float | None:
        """When the OFD last answered a document over HTTP (``None`` before that, and in device mode)."""
        return None if self.worker is None else self.worker.last_success_at

    @property
    def untracked(self) -> dict[str, int]:
        """Unsent documents of a fiscal drive the KKT no longer has, by FN number (device mode only)."""
        return {fn: count for tracker in self.trackers for fn, count in tracker.untracked.items()}

    def breaker_snapshot(self) -> dict[str, Any]:
        return self.breaker.snapshot()

    def wake(self) -> None:
        """A document was printed (or requeued): deliver it without waiting for the poll interval."""
        if self.worker is not None:
            self.worker.wake()
