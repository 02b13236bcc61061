"""``MockAtolServer``: the emulated ATOL Web Requests server in front of an emulated KKT, served from a thread."""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar, Self

from starlette.types import ASGIApp

from kkt_clock import Clock
from kkt_emulators.atol.admin import admin_routes
from kkt_emulators.atol.app import AtolCore, create_atol_app
from kkt_emulators.atol.faults import AtolFaults
from kkt_emulators.atol.queue import JobQueue
from kkt_emulators.atol.tasks import TaskRunner
from kkt_emulators.device.hosted import HostedDevice
from kkt_emulators.device.kkt import EmulatedKKT
from kkt_emulators.device.ofd_link import OfdLink
from kkt_emulators.emulator import EmulatorServer

DEFAULT_PORT = 16732


class MockAtolServer(EmulatorServer[AtolCore]):
    """ATOL Web Requests (v2, and the older ``/requests``) over an :class:`EmulatedKKT`, with fault programs.

    ``with MockAtolServer(port=0) as atol: httpx.post(f"{atol.url}/api/v2/requests", json={...})``.

    The device: ``kkt`` (an open :class:`EmulatedKKT`, left open at stop), else one under ``data_dir`` (created if
    new), else a fresh one in a temporary directory removed at stop; ``print_delay_ms`` is its print delay (0 by
    default). ``clock`` drives the device and ``faults.down_for``. ``user``/``password`` turn on HTTP Basic auth.
    ``ofd_url`` starts the device's own OFD link (:class:`OfdLink`), sending every ``ofd_interval_s`` seconds.
    ``faults`` holds the fault programs (:class:`AtolFaults`); ``POST/DELETE /admin/faults`` program the same.
    """

    name: ClassVar[str] = "mock ATOL"
    faults: AtolFaults

    def __init__(
        self,
        port: int = DEFAULT_PORT,
        *,
        host: str = "127.0.0.1",
        data_dir: Path | None = None,
        kkt: EmulatedKKT | None = None,
        clock: Clock | None = None,
        user: str | None = None,
        password: str | None = None,
        ofd_url: str | None = None,
        ofd_interval_s: float = 1.0,
        print_delay_ms: int = 0,
    ) -> None:
        super().__init__(host=host, port=port, clock=clock)
        self._device = HostedDevice(
            kkt, data_dir=data_dir, prefix="mock-atol-", print_delay_ms=print_delay_ms, clock=self.clock
        )
        kkt = self.kkt = self._device.kkt
        self.faults = AtolFaults(self.clock, kkt)
        runner = TaskRunner(kkt, self.faults)
        self.queue = JobQueue(runner, self.faults)
        self.core = AtolCore(self.queue, runner, self.faults, user=user, password=password)
        self.ofd_link = None if ofd_url is None else OfdLink(kkt, ofd_url, interval_s=ofd_interval_s)

    def _build_app(self) -> ASGIApp:
        return create_atol_app(self.core, admin_routes(self.core))

    def start(self) -> Self:
        """Start the job worker, the OFD link (if any), then serve; returns once requests are answered."""
        if self._server is not None:  # started before: the base class says how it is refused, nothing else starts
            return super().start()
        self.queue.start()
        if self.ofd_link is not None:
            self.ofd_link.start()
        try:
            return super().start()
        except BaseException:
            self._shut_down()
            raise

    def stop(self) -> None:
        """Stop serving, then the worker and the OFD link; close the device if this server opened it. Idempotent."""
        super().stop()
        self._shut_down()

    def _shut_down(self) -> None:
        self.queue.stop()
        if self.ofd_link is not None:
            self.ofd_link.stop()
        self._device.release()

    def reset(self) -> None:
        """Clear every fault and forget every job and counter (the device and its documents stay)."""
        self.faults.clear()
        self.core.reset()

    def get_stats(self) -> dict[str, Any]:
        """Counters, jobs by state, the queue's status, and the OFD link's (when it runs)."""
        stats = self.core.stats()
        if self.ofd_link is not None:
            stats["ofd_link"] = self.ofd_link.stats()
        return stats
