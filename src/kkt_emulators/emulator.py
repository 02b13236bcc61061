"""What every mock server has: a lifecycle (start once, stop, context manager) and the fault-programming API."""

from __future__ import annotations

from types import TracebackType
from typing import Any, ClassVar, Generic, Self, TypeVar

from starlette.types import ASGIApp

from kkt_clock import Clock, SystemClock
from kkt_emulators.faults import FaultProgram, LoseMode
from kkt_emulators.server import BackgroundServer, base_url
from kkt_emulators.web import EndpointCore

CoreT = TypeVar("CoreT", bound=EndpointCore)


class EmulatorServer(Generic[CoreT]):
    """Base of the mock servers: serves ``_build_app()`` in a background thread and programs its faults.

    A subclass sets ``core``, its state without HTTP, in its ``__init__``.
    """

    name: ClassVar[str] = "emulator"
    core: CoreT

    def __init__(self, *, host: str, port: int, clock: Clock | None) -> None:
        self.clock: Clock = clock if clock is not None else SystemClock()
        self.faults = FaultProgram(self.clock)
        self._host = host
        self._requested_port = port
        self._server: BackgroundServer | None = None

    def _build_app(self) -> ASGIApp:
        raise NotImplementedError

    # Lifecycle ---------------------------------------------------------------------------------------------------

    @property
    def host(self) -> str:
        """The address the server listens on (127.0.0.1 unless told otherwise)."""
        return self._host

    @property
    def port(self) -> int:
        """The listening port; with ``port=0`` the free port picked at ``start()``."""
        return self._server.port if self._server is not None else self._requested_port

    @property
    def url(self) -> str:
        """Base URL, e.g. ``http://127.0.0.1:9000``."""
        return base_url(self._host, self.port)

    @property
    def running(self) -> bool:
        """Whether the server answers requests now."""
        return self._server is not None and self._server.running

    def start(self) -> Self:
        """Start serving; returns once requests are answered. A server starts once: a second call raises."""
        if self._server is not None:
            if self._server.running:
                raise RuntimeError(f"{self.name} is already running at {self.url}; a server starts once")
            raise RuntimeError(f"{self.name} was already started and stopped; create a new server to start again")
        self._server = BackgroundServer(self._build_app(), host=self._host, port=self._requested_port, name=self.name)
        self._server.start()
        return self

    def stop(self) -> None:
        """Stop serving and free the port; held and delayed requests are answered at once. Idempotent."""
        if self._server is None:
            return
        self.faults.close()
        self._server.stop()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    def __repr__(self) -> str:
        return f"{type(self).__name__}(url={self.url!r}, running={self.running})"

    # State ---------------------------------------------------------------------------------------------------------

    def reset(self) -> None:
        """Disarm every fault and forget everything received (configuration such as FN secrets stays)."""
        self.faults.set_success()
        self.core.reset()

    def get_call_count(self) -> int:
        """Requests to the mock's endpoint (receipt or heartbeat) so far, whatever their answer."""
        return self.core.call_count

    def get_stats(self) -> dict[str, Any]:
        """Counters and statistics, as the admin API's ``stats`` shows them."""
        return self.core.stats()

    def get_faults(self) -> dict[str, Any]:
        """The armed faults, as the admin API shows them."""
        return self.faults.snapshot()

    # Fault programs (see kkt_emulators.faults for their precedence) ---------------------------------------------

    def set_success(self) -> None:
        """Answer every request normally: disarm every fault and latency, release held requests."""
        self.faults.set_success()

    def set_failure_count(self, n: int) -> None:
        """Answer the next ``n`` requests with 503, then succeed."""
        self.faults.set_failure_count(n)

    def set_permanent_failure(self, enabled: bool = True) -> None:
        """Answer every request with 503 until called with ``False``."""
        self.faults.set_permanent_failure(enabled)

    def set_fail_every(self, n: int) -> None:
        """Answer every n-th request (counted from now) with 503; 0 disables."""
        self.faults.set_fail_every(n)

    def set_latency(self, ms: float, jitter_ms: float = 0) -> None:
        """Delay every request by ``ms`` plus up to ``jitter_ms`` milliseconds (real time); 0 disables."""
        self.faults.set_latency(ms, jitter_ms)

    def set_rate_limit(self, retry_after_s: float | None, *, count: int | None = None) -> None:
        """Answer 429 with ``Retry-After`` (the next ``count`` requests, or all until disabled with ``None``)."""
        self.faults.set_rate_limit(retry_after_s, count=count)

    def set_connection_reset(self, count: int) -> None:
        """Reset the TCP connection of the next ``count`` requests, unprocessed."""
        self.faults.set_connection_reset(count)

    def hold(self) -> None:
        """Make requests wait until :meth:`release` (the admin endpoints still answer)."""
        self.faults.hold()

    def release(self) -> None:
        """Let held requests go on."""
        self.faults.release()

    def get_held_count(self) -> int:
        """How many requests are waiting at the gate now."""
        return self.faults.held_count

    def set_lose_reply(self, count: int, *, mode: LoseMode = "drop") -> None:
        """Process the next ``count`` requests, then drop the connection (or answer 503 with ``mode="503"``)."""
        self.faults.set_lose_reply(count, mode=mode)

    def set_down_for(self, seconds: float) -> None:
        """Answer 503 until ``seconds`` have passed on the server's clock, then come back by itself."""
        self.faults.set_down_for(seconds)
