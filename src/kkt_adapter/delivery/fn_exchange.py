"""The fiscal drive's exchange with the OFD as last read from the device: unsent documents and the first of them.

:class:`FnExchange` is read in both delivery modes: with ``KKT_OFD_DELIVERY=device`` by the tracker's every poll
(it marks documents from it), with ``http`` by a periodic job, so that health and the heartbeat show the FN's unsent
count and first unsent date without waiting behind a print. The device is read through its lane's thread
(the callable given), never on the event loop. A read that fails keeps the last answer and says why.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from kkt_adapter.domain.device import FNStatus
from kkt_clock import Clock

log = logging.getLogger(__name__)


class FnExchange:
    """The FN's last known OFD exchange status, when it was read, and why the last read failed (if it did)."""

    def __init__(self, read: Callable[[], Awaitable[FNStatus]], clock: Clock) -> None:
        self._read = read
        self.clock = clock
        self.status: FNStatus | None = None
        self.checked_at: float | None = None
        self.error: str | None = None
        self.error_at: float | None = None

    async def refresh(self) -> FNStatus | None:
        """Ask the device now; its answer, or ``None`` when it did not answer (:attr:`error` says why)."""
        try:
            status = await self._read()
        except Exception as exc:
            error = f"{type(exc).__name__}: {exc}"
            if self.error is None:
                log.warning("the device's OFD exchange status could not be read", extra={"error": error})
            self.error, self.error_at = error, self.clock.time()
            return None
        if self.error is not None:
            log.info("the device's OFD exchange status is readable again")
        self.status, self.checked_at, self.error, self.error_at = status, self.clock.time(), None, None
        return status
