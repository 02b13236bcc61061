"""The ATOL emulator's fault programs: what makes real integrations with Web Requests fail, on demand.

:class:`AtolFaults` is the mock servers' :class:`~kkt_emulators.faults.FaultProgram` (so ``down_for``, latency,
503s and the rest work as on the other mocks) plus the faults of the protocol:

- ``in_progress(polls=N)``: the next job reads ``inProgress`` for N GETs after it has finished;
- ``lose_reply(on="post"|"get", times=1)``: the job is created (POST) or read (GET), then the connection is closed
  without an answer;
- ``block(printed=True|False, polls=N)``: the next printing job goes ``blocked`` (its document made, or not) for N
  GETs of it (``polls=0``: until :meth:`clear`); the server then resolves it by the FN's document counter;
- ``paper_out()`` (error 44, the device's own paper sensor), ``cover_open()`` (45), ``disconnect()`` (the device is
  not connected: a POST is answered 409, jobs fail with code 2);
- ``down_for(seconds)``: every route but the admin ones answers 503 for that long on the server's clock;
- ``clear()``: all of them off, an active block ended.

Every method is thread-safe: tests and the admin API program faults while the worker and the event loop consume them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

from kkt_clock import Clock
from kkt_emulators.device.kkt import EmulatedKKT
from kkt_emulators.faults import FaultProgram

ReplyOn = Literal["post", "get"]


@dataclass(frozen=True)
class BlockPlan:
    """An armed block: whether the device makes the document before the connection is lost, and for how many GETs."""

    printed: bool
    polls: int


def _count(name: str, value: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError(f"{name} must be a non-negative integer, got {value!r}")
    return value


class AtolFaults(FaultProgram):
    """The faults of one ATOL emulator: the shared HTTP faults plus the protocol's (see the module's docstring)."""

    def __init__(self, clock: Clock, kkt: EmulatedKKT) -> None:
        super().__init__(clock)
        self._kkt = kkt
        self._on_clear: list[Callable[[], None]] = []
        self._reset_protocol_faults()

    def _reset_protocol_faults(self) -> None:
        self._in_progress = 0
        self._lose: dict[ReplyOn, int] = {"post": 0, "get": 0}
        self._block: BlockPlan | None = None
        self._cover_open = False
        self._disconnected = False

    # Programming -------------------------------------------------------------------------------------------------

    def in_progress(self, polls: int = 1) -> None:
        """The next job reads ``inProgress`` for ``polls`` GETs after it finished."""
        _count("polls", polls)
        with self._lock:
            self._in_progress = polls

    def lose_reply(self, on: ReplyOn = "post", times: int = 1) -> None:
        """Drop the answer of the next ``times`` job POSTs (``on="post"``) or job GETs (``on="get"``)."""
        if on not in ("post", "get"):
            raise ValueError(f"on must be 'post' or 'get', got {on!r}")
        _count("times", times)
        with self._lock:
            self._lose[on] = times

    def block(self, printed: bool = True, polls: int = 1) -> None:
        """The next printing job goes ``blocked`` for ``polls`` GETs (0: until cleared), its document made or not."""
        _count("polls", polls)
        with self._lock:
            self._block = BlockPlan(bool(printed), polls)

    def paper_out(self) -> None:
        """The printer has no paper (the device's own fault): printing tasks fail with 44, nothing printed."""
        self._kkt.set_fault("paper_out", True)

    def cover_open(self) -> None:
        """The printer's cover is open: printing tasks fail with 45, nothing printed."""
        with self._lock:
            self._cover_open = True

    def disconnect(self) -> None:
        """The device is not connected: new jobs are refused (409), queued ones fail with code 2."""
        with self._lock:
            self._disconnected = True

    def connect(self) -> None:
        """The device is connected again."""
        with self._lock:
            self._disconnected = False

    def down_for(self, seconds: float) -> None:
        """The HTTP server answers 503 for ``seconds`` on its clock, then comes back by itself."""
        self.set_down_for(seconds)

    def clear(self) -> None:
        """Every fault off: the shared ones, the protocol's, the paper; a blocked job is resolved now."""
        self.set_success()
        with self._lock:
            self._reset_protocol_faults()
            listeners = list(self._on_clear)
        self._kkt.set_fault("paper_out", False)
        for listener in listeners:
            listener()

    def on_clear(self, listener: Callable[[], None]) -> None:
        """Call ``listener`` after every :meth:`clear` (the job queue ends its block there)."""
        with self._lock:
            self._on_clear.append(listener)

    # Consuming ---------------------------------------------------------------------------------------------------

    def take_in_progress(self) -> int:
        """The ``inProgress`` polls armed for the job being created (0: none); disarms them."""
        with self._lock:
            polls, self._in_progress = self._in_progress, 0
            return polls

    def take_lost_reply(self, on: ReplyOn) -> bool:
        """Whether this POST's or GET's answer is to be dropped; consumes one."""
        with self._lock:
            if self._lose[on] > 0:
                self._lose[on] -= 1
                return True
            return False

    def take_block(self) -> BlockPlan | None:
        """The block armed for the printing task about to run, if any; disarms it."""
        with self._lock:
            plan, self._block = self._block, None
            return plan

    @property
    def cover_opened(self) -> bool:
        """Whether the cover is open now."""
        with self._lock:
            return self._cover_open

    @property
    def disconnected(self) -> bool:
        """Whether the device is disconnected now."""
        with self._lock:
            return self._disconnected

    def snapshot(self) -> dict[str, Any]:
        """The shared faults and the protocol's, as JSON-ready values."""
        shared = super().snapshot()
        with self._lock:
            block = self._block
            shared.update(
                {
                    "in_progress_polls": self._in_progress,
                    "lose_reply_post": self._lose["post"],
                    "lose_reply_get": self._lose["get"],
                    "block": None if block is None else {"printed": block.printed, "polls": block.polls},
                    "cover_open": self._cover_open,
                    "disconnected": self._disconnected,
                }
            )
        shared["paper_out"] = not self._kkt.status().paper
        return shared
