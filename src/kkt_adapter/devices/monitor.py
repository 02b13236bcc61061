"""The device's last known state, kept by the print path, so that status never waits behind the printer.

A KKT prints one document at a time; asking it for its state means queueing behind the receipts being printed. So
the print path records what each print tells it (a document signed: online, paper, shift open, its FD number; a
refusal: why) and probes the device only when nothing is printing. Health, buffer status, metrics and the heartbeat
read :meth:`DeviceMonitor.snapshot`, which never blocks.
"""

from __future__ import annotations

import dataclasses
import threading
from dataclasses import dataclass

from kkt_adapter.domain.device import DeviceState
from kkt_adapter.domain.fiscal import FiscalResult
from kkt_clock import Clock


@dataclass(frozen=True)
class DeviceSnapshot:
    """What the adapter last learnt about the device, and when (wall seconds)."""

    state: DeviceState | None
    checked_at: float | None
    last_error: str | None

    @property
    def problem(self) -> str | None:
        """Why the device cannot print, as last seen, or ``None``."""
        if self.last_error is not None:
            return self.last_error
        if self.state is None:
            return "device state not known yet"
        return self.state.problem

    @property
    def usable(self) -> bool:
        return self.problem is None


class DeviceMonitor:
    """Thread-safe holder of the device's last known state (updated from the device's thread and the loop)."""

    def __init__(self, clock: Clock) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._snapshot = DeviceSnapshot(state=None, checked_at=None, last_error=None)

    def snapshot(self) -> DeviceSnapshot:
        with self._lock:
            return self._snapshot

    def observe_state(self, state: DeviceState) -> None:
        """A full answer from the device."""
        self._set(DeviceSnapshot(state=state, checked_at=self._clock.time(), last_error=None))

    def observe_print(self, result: FiscalResult) -> None:
        """A document was signed: the device is online, has paper, and its shift is open and not expired."""
        with self._lock:
            state = self._snapshot.state
            if state is not None:
                state = dataclasses.replace(
                    state,
                    online=True,
                    paper=True,
                    shift_open=True,
                    shift_expired=False,
                    shift_number=result.shift_number,
                    last_fd_number=max(state.last_fd_number, result.fiscal_doc_number),
                )
            self._snapshot = DeviceSnapshot(state=state, checked_at=self._clock.time(), last_error=None)

    def observe_error(self, reason: str) -> None:
        """The device refused a document or did not answer; it stays "not usable" until it prints or answers."""
        with self._lock:
            self._snapshot = dataclasses.replace(self._snapshot, checked_at=self._clock.time(), last_error=reason)

    def _set(self, snapshot: DeviceSnapshot) -> None:
        with self._lock:
            self._snapshot = snapshot
