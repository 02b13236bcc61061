"""Fault programs: what a mock server does to the next request instead of (or after) answering it.

One :class:`FaultProgram` belongs to each mock server. Tests, the admin REST API and the command line all set it
through the same methods; the server's request handler asks it for a :class:`Decision` once per request. Every method
is thread-safe: the test thread programs faults while the server's event-loop thread consumes them.

When several faults are armed at once, the first that applies wins, in this order:

1. permanent failure → 503;
2. down window (``set_down_for``, measured on the injected clock) → 503;
3. connection reset (``set_connection_reset``) → the TCP connection is reset, nothing is processed;
4. rate limit (``set_rate_limit``) → 429 with ``Retry-After``;
5. failure count (``set_failure_count``) → 503;
6. fail every n-th request (``set_fail_every``) → 503;
7. lost reply (``set_lose_reply``) → the request is processed (a document is stored), then the reply is lost.

Latency (``set_latency``) and holding (``hold``/``release``) delay a request before that decision is taken.
"""

from __future__ import annotations

import asyncio
import contextlib
import enum
import random
import threading
from dataclasses import dataclass
from typing import Any, Literal

from kkt_clock import Clock

LoseMode = Literal["drop", "503"]


class Verdict(enum.Enum):
    """What the handler does with one request."""

    PASS = "pass"
    FAIL = "fail"
    RATE_LIMIT = "rate_limit"
    RESET = "reset"
    LOSE_REPLY = "lose_reply"


@dataclass(frozen=True, slots=True)
class Decision:
    """The verdict for one request, with the details its answer needs."""

    verdict: Verdict
    reason: str = ""
    retry_after_s: float = 0.0
    lose_mode: LoseMode = "drop"


_PASS = Decision(Verdict.PASS)

_Waiter = tuple[asyncio.AbstractEventLoop, "asyncio.Future[None]"]


def _wake(future: asyncio.Future[None]) -> None:
    if not future.done():
        future.set_result(None)


class FaultProgram:
    """The armed faults of one mock server, and the gate that holds requests; thread-safe."""

    def __init__(self, clock: Clock) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._held = False
        self._closed = False
        self._hold_waiters: set[_Waiter] = set()
        self._sleepers: set[_Waiter] = set()
        self._clear()

    def _clear(self) -> None:
        self._permanent = False
        self._failure_count = 0
        self._fail_every = 0
        self._every_counter = 0
        self._latency_ms = 0.0
        self._jitter_ms = 0.0
        self._rate_limit_s: float | None = None
        self._rate_limit_count: int | None = None
        self._reset_count = 0
        self._lose_count = 0
        self._lose_mode: LoseMode = "drop"
        self._down_until: float | None = None

    # Programming -------------------------------------------------------------------------------------------------

    def set_success(self) -> None:
        """Disarm every fault, latency included, and let held requests go."""
        with self._lock:
            self._clear()
        self.release()

    def set_failure_count(self, count: int) -> None:
        """Answer the next ``count`` requests with 503."""
        _check_count("count", count)
        with self._lock:
            self._failure_count = count

    def set_permanent_failure(self, enabled: bool = True) -> None:
        """Answer every request with 503 until disabled."""
        with self._lock:
            self._permanent = enabled

    def set_fail_every(self, n: int) -> None:
        """Answer every n-th request (counted from now) with 503; 0 disables."""
        _check_count("n", n)
        with self._lock:
            self._fail_every = n
            self._every_counter = 0

    def set_latency(self, ms: float, jitter_ms: float = 0) -> None:
        """Delay every request by ``ms`` plus a uniform random ``0..jitter_ms`` milliseconds; 0 disables."""
        if ms < 0 or jitter_ms < 0:
            raise ValueError("latency and jitter must not be negative")
        with self._lock:
            self._latency_ms = float(ms)
            self._jitter_ms = float(jitter_ms)

    def set_rate_limit(self, retry_after_s: float | None, *, count: int | None = None) -> None:
        """Answer 429 with ``Retry-After`` (to the next ``count`` requests, or all of them); ``None`` disables."""
        if retry_after_s is not None and retry_after_s < 0:
            raise ValueError("retry_after_s must not be negative")
        if count is not None:
            _check_count("count", count)
        if count == 0:
            retry_after_s = None
        with self._lock:
            self._rate_limit_s = retry_after_s
            self._rate_limit_count = count if retry_after_s is not None else None

    def set_connection_reset(self, count: int) -> None:
        """Reset the TCP connection of the next ``count`` requests without processing them."""
        _check_count("count", count)
        with self._lock:
            self._reset_count = count

    def set_lose_reply(self, count: int, *, mode: LoseMode = "drop") -> None:
        """Process the next ``count`` requests, then lose the reply: drop the connection, or answer 503."""
        _check_count("count", count)
        if mode not in ("drop", "503"):
            raise ValueError("mode must be 'drop' or '503'")
        with self._lock:
            self._lose_count = count
            self._lose_mode = mode

    def set_down_for(self, seconds: float) -> None:
        """Answer 503 from now until ``seconds`` have passed on the clock; 0 brings the server back at once."""
        if seconds < 0:
            raise ValueError("seconds must not be negative")
        with self._lock:
            self._down_until = self._clock.monotonic() + seconds if seconds > 0 else None

    def hold(self) -> None:
        """Make requests wait (before any other fault applies) until :meth:`release`."""
        with self._lock:
            self._held = True

    def release(self) -> None:
        """Let every held request go on, and stop holding new ones."""
        with self._lock:
            self._held = False
            waiters = list(self._hold_waiters)
            self._hold_waiters.clear()
        _wake_all(waiters)

    def close(self) -> None:
        """Wake every held or delayed request for good: the server is stopping and answers them at once."""
        with self._lock:
            self._closed = True
            self._held = False
            waiters = [*self._hold_waiters, *self._sleepers]
            self._hold_waiters.clear()
            self._sleepers.clear()
        _wake_all(waiters)

    # Consuming ---------------------------------------------------------------------------------------------------

    @property
    def held_count(self) -> int:
        """How many requests are waiting at the gate now."""
        with self._lock:
            return len(self._hold_waiters)

    async def delay(self) -> None:
        """Wait at the gate while held, then for the programmed latency; returns at once when closed."""
        await self._wait(self._hold_waiters, None, gate=True)
        with self._lock:
            latency_ms, jitter_ms = self._latency_ms, self._jitter_ms
        seconds = (latency_ms + random.uniform(0, jitter_ms)) / 1000 if latency_ms or jitter_ms else 0.0
        if seconds > 0:
            await self._wait(self._sleepers, seconds, gate=False)

    async def _wait(self, waiters: set[_Waiter], seconds: float | None, *, gate: bool) -> None:
        loop = asyncio.get_running_loop()
        future: asyncio.Future[None] = loop.create_future()
        waiter = (loop, future)
        with self._lock:
            if self._closed or (gate and not self._held):
                return
            waiters.add(waiter)
        try:
            await asyncio.wait_for(future, seconds)
        except TimeoutError:
            pass
        finally:
            with self._lock:
                waiters.discard(waiter)

    def decide(self) -> Decision:
        """The verdict for the request at hand; consumes one unit of any counted fault that applies."""
        with self._lock:
            self._every_counter += 1
            if self._permanent:
                return Decision(Verdict.FAIL, "permanent failure")
            if self._down_until is not None:
                if self._clock.monotonic() < self._down_until:
                    return Decision(Verdict.FAIL, "service down")
                self._down_until = None
            if self._reset_count > 0:
                self._reset_count -= 1
                return Decision(Verdict.RESET, "connection reset")
            if self._rate_limit_s is not None:
                if self._rate_limit_count is not None:
                    self._rate_limit_count -= 1
                    if self._rate_limit_count <= 0:
                        retry_after, self._rate_limit_s, self._rate_limit_count = self._rate_limit_s, None, None
                        return Decision(Verdict.RATE_LIMIT, "rate limited", retry_after_s=retry_after)
                return Decision(Verdict.RATE_LIMIT, "rate limited", retry_after_s=self._rate_limit_s)
            if self._failure_count > 0:
                self._failure_count -= 1
                return Decision(Verdict.FAIL, "temporary failure")
            if self._fail_every and self._every_counter % self._fail_every == 0:
                return Decision(Verdict.FAIL, f"fails every {self._fail_every} requests")
            if self._lose_count > 0:
                self._lose_count -= 1
                return Decision(Verdict.LOSE_REPLY, "reply lost", lose_mode=self._lose_mode)
            return _PASS

    def snapshot(self) -> dict[str, Any]:
        """The armed faults, as JSON-ready values (for health and admin answers)."""
        with self._lock:
            down_left = None
            if self._down_until is not None:
                down_left = max(0.0, self._down_until - self._clock.monotonic())
            return {
                "permanent_failure": self._permanent,
                "failure_count": self._failure_count,
                "fail_every": self._fail_every,
                "latency_ms": self._latency_ms,
                "jitter_ms": self._jitter_ms,
                "rate_limit_retry_after_s": self._rate_limit_s,
                "rate_limit_count": self._rate_limit_count,
                "connection_reset_count": self._reset_count,
                "lose_reply_count": self._lose_count,
                "lose_reply_mode": self._lose_mode,
                "down_for_s": down_left,
                "held": self._held,
                "held_requests": len(self._hold_waiters),
            }


def _check_count(name: str, value: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError(f"{name} must be a non-negative integer, got {value!r}")


def _wake_all(waiters: list[_Waiter]) -> None:
    for loop, future in waiters:
        with contextlib.suppress(RuntimeError):  # a closed loop: nobody is waiting any more
            loop.call_soon_threadsafe(_wake, future)
