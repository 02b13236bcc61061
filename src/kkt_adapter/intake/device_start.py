"""A device's start: settled from its journal before it prints, also when it did not answer as the adapter started.

Never printing a receipt twice rests on one order: a row left ``accepted`` (a killed process) is settled from the
device's journal by key before that device prints anything else, since the client's resend of it would print it
again if the journal were not asked first. At the adapter's start each device is settled at once when it answers;
one that does not answer does not stop the adapter: its :class:`StartGate` stays shut (its sales are refused before
printing, 503 with why; health names it), and :meth:`DeviceStart.step`, run periodically under the runtime with a
backoff, settles it (its FN checked, then reconcile and catch-up on its own thread) the first time it answers, and
only then opens the gate.

The FN check (:class:`~kkt_adapter.buffer.device_fns.DeviceFns`): a name that now reaches a KKT with another FN while
rows bound to it are undecided would settle them from the wrong journal; the gate stays shut, with that reason.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Collection
from typing import Literal

from kkt_adapter.buffer.connection import STORAGE_ERRORS
from kkt_adapter.buffer.device_fns import DeviceFns, FnSeen
from kkt_adapter.devices.lane import DeviceLane
from kkt_adapter.domain.errors import DeviceUnavailable
from kkt_adapter.intake.recovery import Recovery
from kkt_clock import Clock

log = logging.getLogger(__name__)

#: What to check when a device of each kind does not answer.
HINTS = {
    "atol": "check that the KKT is on and its Web Requests service runs (KKT_ATOL_URL or the device's url)",
    "shtrih": "check that the KKT is on and connected (its cable or network address: the device's url)",
    "emulated": "check the emulated KKT's state directory",
}
Step = Literal["ready", "settled", "waiting", "not_due"]


class StartGate:
    """Shut while a device's start is not settled: :meth:`check` refuses its prints, naming why."""

    def __init__(self) -> None:
        #: Why the device does not print yet (``None``: it may print).
        self.reason: str | None = None

    def check(self) -> None:
        """Raise :class:`DeviceUnavailable` (a definite refusal: nothing printed) while the gate is shut."""
        if self.reason is not None:
            raise DeviceUnavailable("offline", self.reason)


class FnChanged(Exception):
    """A device name reaches another FN while rows bound to it are undecided: it must not print."""

    def __init__(self, name: str, seen: FnSeen) -> None:
        super().__init__(fn_changed_message(name, seen))
        self.seen = seen


def fn_changed_message(name: str, seen: FnSeen) -> str:
    """What happened and what to do, in one line."""
    return (
        f"device {name!r} now reaches a KKT with FN {seen.fn_number}, but {seen.undecided} receipt(s) bound to that "
        f"name are undecided and were sent to the KKT with FN {seen.previous}: point {name!r} back at that KKT and "
        "start once, so that they are settled from its journal, then make the change"
    )


class DeviceStart:
    """Settles one device at start, or later, the first time it answers (see the module's docstring)."""

    def __init__(
        self,
        lane: DeviceLane,
        recovery: Recovery,
        fns: DeviceFns,
        clock: Clock,
        *,
        kind: str,
        gate: StartGate | None = None,
        printing: Callable[[], Collection[str]] = frozenset,
        retry_s: float = 1.0,
        retry_max_s: float = 30.0,
    ) -> None:
        self.lane = lane
        self.recovery = recovery
        self.fns = fns
        self.clock = clock
        self.kind = kind
        #: Open unless the device failed to settle (a unit used outside the adapter's start prints as it did).
        self.gate = gate or StartGate()
        self._settled = False
        self._printing = printing
        self._retry_s, self._retry_max_s = retry_s, retry_max_s
        self._failures = 0
        self._due_at = 0.0

    @property
    def settled(self) -> bool:
        """The device's FN was checked and its journal read since this process started."""
        return self._settled

    def answered(self) -> None:
        """The device answered a status probe while not settled: settle it at the next check, not after its backoff."""
        if not self._settled:
            self._due_at = 0.0

    def settle(self) -> FnSeen:
        """On the lane's thread: check the device's FN against the name's, then settle its undecided rows and store
        what its journal has that the buffer lacks. Raises the device's error, or :class:`FnChanged`."""
        name = self.lane.name
        fn_number = self.lane.driver.state().fn_number
        seen = self.fns.see(name, fn_number)
        if seen.refused:
            raise FnChanged(name, seen)
        if seen.changed:
            log.warning(
                "the device's fiscal drive was replaced: recording the new FN",
                extra={"device": name, "fn_number": fn_number, "previous_fn": seen.previous},
            )
        self.recovery.reconcile(skip=frozenset(self._printing()))
        self.recovery.catch_up()
        return seen

    async def step(self) -> Step:
        """Settle the device if it is due (its backoff passed): ``settled`` now, ``ready`` already, ``waiting`` (it
        did not answer, or its FN changed under undecided rows) or ``not_due``. A storage error is raised."""
        if self.settled:
            return "ready"
        if self.clock.time() < self._due_at:
            return "not_due"
        try:
            await self.lane.run(self.settle)
        except STORAGE_ERRORS:
            self._again()
            raise
        except FnChanged as exc:
            self._hold(str(exc))
            return "waiting"
        except Exception as exc:
            hint = HINTS.get(self.kind, "check that the KKT is on and reachable")
            self._hold(f"not answering ({exc}): {hint}; it prints once it answers and its journal is read")
            return "waiting"
        late = self._failures > 0
        self._settled, self.gate.reason, self._failures = True, None, 0
        await self.lane.probe()
        if late:
            log.warning("the device answers: settled from its journal, it prints", extra={"device": self.lane.name})
        return "settled"

    def _hold(self, reason: str) -> None:
        if reason != self.gate.reason or self._failures == 0:
            log.warning("the device does not print yet: %s", reason, extra={"device": self.lane.name})
        self.gate.reason = reason
        self.lane.monitor.observe_error(reason)
        self._again()

    def _again(self) -> None:
        self._failures += 1
        self._due_at = self.clock.time() + retry_delay(self._failures, base=self._retry_s, cap=self._retry_max_s)


def retry_delay(failures: int, *, base: float, cap: float) -> float:
    """Seconds before the next attempt after ``failures`` failed ones: doubling from ``base``, at most ``cap``."""
    return min(cap, base * 2.0 ** (failures - 1))
