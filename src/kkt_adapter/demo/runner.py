"""``kkt-adapter demo``: a store's day in one process, with the outside world emulated, and a summary that proves it.

The adapter (the real app, with the emulated KKT) runs under uvicorn in a thread; a mock OFD and a mock ERP run
beside it; all listen on free loopback ports, with their data in a temporary directory unless one is given. The day
itself (tills, the OFD outage, the refund, the Z report) is in :mod:`kkt_adapter.demo.day`, the summary and its
verdict in :mod:`kkt_adapter.demo.report`. The emulators are imported here, so the CLI imports this module only
inside the ``demo`` command.
"""

from __future__ import annotations

import json
import logging
import signal
import socket
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from types import FrameType, TracebackType

import uvicorn
from rich.console import Console
from rich.logging import RichHandler

from kkt_adapter.api.app import create_app
from kkt_adapter.buffer import Buffer
from kkt_adapter.config import Settings, load_settings
from kkt_adapter.demo.day import DayPlan, play
from kkt_adapter.demo.report import Summary, render, summarize
from kkt_clock import SystemClock
from kkt_emulators import MockOdooServer, MockOFDServer

HOST = "127.0.0.1"
ADAPTER_ID = "demo-store"
#: The logger of the breaker's audit (``bootstrap``): its transitions are shown during the day.
BREAKER_LOGGER = "kkt_adapter.bootstrap"

#: Intervals short enough for a day that lasts seconds: the worker wakes often, the breaker probes within 0.5 s.
FAST_SETTINGS = {
    "KKT_HLC_SYNC_INTERVAL": "0.1",
    "KKT_SYNC_BACKOFF_BASE": "0.05",
    "KKT_SYNC_BACKOFF_MAX": "0.5",
    "KKT_CIRCUIT_BREAKER_TIMEOUT": "0.5",
    "KKT_CIRCUIT_BREAKER_RECOVERY_TIMEOUT": "1.0",
    "KKT_OFD_TIMEOUT": "2",
    "KKT_HEARTBEAT_INTERVAL": "0.5",
}


@dataclass(frozen=True, kw_only=True)
class DemoOptions:
    """What the ``demo`` command was asked for."""

    sales: int = 200
    tills: int = 4
    outage_s: float = 2.0
    print_delay_ms: int = 10
    data_dir: Path | None = None
    keep_running: bool = False
    json: bool = False
    delivery_timeout_s: float = 60.0


@dataclass(frozen=True)
class Store:
    """The running pieces the day is played against."""

    adapter_url: str
    ofd: MockOFDServer
    erp: MockOdooServer
    data_dir: Path
    synced_before: int


def demo_settings(*, data_dir: Path, port: int, ofd_url: str, erp_url: str, print_delay_ms: int) -> Settings:
    """The adapter's settings for the demo: mock mode against the given OFD and ERP, with short intervals."""
    env = {
        "KKT_MODE": "mock",
        "KKT_ADAPTER_ID": ADAPTER_ID,
        "KKT_DATA_DIR": str(data_dir),
        "KKT_API_HOST": HOST,
        "KKT_API_PORT": str(port),
        "KKT_OFD_API_URL": ofd_url,
        "KKT_ODOO_API_URL": erp_url,
        "KKT_EMULATOR_PRINT_DELAY_MS": str(print_delay_ms),
    }
    return load_settings(env | FAST_SETTINGS)


class AdapterThread:
    """The adapter app under uvicorn in a daemon thread, on a socket bound before it starts (so its port is known)."""

    def __init__(self, sock: socket.socket, settings: Settings) -> None:
        self._sock = sock
        config = uvicorn.Config(create_app(settings), log_config=None, access_log=False, lifespan="on")
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, kwargs={"sockets": [sock]}, name="adapter")

    def start(self, *, timeout: float = 30.0) -> None:
        """Start serving; return once the lifespan has run (buffer open, device reconciled, worker started)."""
        self._thread.start()
        deadline = time.monotonic() + timeout
        while not self._server.started:
            if not self._thread.is_alive():
                raise RuntimeError("the adapter failed to start (see the log above)")
            if time.monotonic() > deadline:
                raise RuntimeError(f"the adapter did not start within {timeout} s")
            time.sleep(0.02)

    def stop(self) -> None:
        """Ask uvicorn to stop (its lifespan stops the worker and closes the device and buffer), then wait."""
        self._server.should_exit = True
        self._thread.join(timeout=30)
        self._sock.close()

    def __enter__(self) -> AdapterThread:
        self.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()


def synced_so_far(settings: Settings) -> int:
    """Documents a reused data directory delivered in earlier runs (0 for a new one): the day counts only its own."""
    if not settings.buffer_path.exists():
        return 0
    buffer = Buffer(settings.buffer_path, clock=SystemClock())
    try:
        return buffer.counts().synced
    finally:
        buffer.close()


def _listening_socket() -> socket.socket:
    # IPPROTO_TCP explicitly: asyncio sets TCP_NODELAY on accepted sockets only then (no 40 ms delayed ACKs).
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((HOST, 0))
    return sock


@contextmanager
def running_store(options: DemoOptions) -> Iterator[Store]:
    """Start the mock OFD, the mock ERP and the adapter; stop them all (in reverse order) on the way out."""
    with ExitStack() as stack:
        if options.data_dir is None:
            data_dir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="kkt-demo-")))
        else:
            data_dir = options.data_dir
        ofd = stack.enter_context(MockOFDServer(port=0, host=HOST))
        erp = stack.enter_context(MockOdooServer(port=0, host=HOST))
        sock = _listening_socket()
        port = int(sock.getsockname()[1])
        settings = demo_settings(
            data_dir=data_dir, port=port, ofd_url=ofd.url, erp_url=erp.url, print_delay_ms=options.print_delay_ms
        )
        synced_before = synced_so_far(settings)
        stack.enter_context(AdapterThread(sock, settings))
        url = f"http://{HOST}:{port}"
        yield Store(adapter_url=url, ofd=ofd, erp=erp, data_dir=data_dir, synced_before=synced_before)


def _worth_showing(record: logging.LogRecord) -> bool:
    # The breaker's transitions are the story of the outage; other warnings (a new device's registration report
    # taken from its journal at the first start) are expected here, and errors are always shown.
    return record.levelno >= logging.ERROR or record.name == BREAKER_LOGGER


@contextmanager
def _showing_logs(console: Console) -> Iterator[None]:
    """The adapter's breaker transitions and errors above the progress bars, not mixed into them."""
    handler = RichHandler(console=console, show_path=False, markup=False, log_time_format="[%X]")
    handler.setLevel(logging.WARNING)
    handler.addFilter(_worth_showing)
    logger = logging.getLogger("kkt_adapter")
    saved = logger.level, logger.propagate
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    logger.propagate = False
    try:
        yield
    finally:
        logger.removeHandler(handler)
        logger.setLevel(saved[0])
        logger.propagate = saved[1]


def _wait_for_interrupt(console: Console) -> None:
    def interrupt(signum: int, frame: FrameType | None) -> None:
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, interrupt)
    console.print("Everything keeps running; Ctrl-C stops it.")
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        console.print("stopping")
    finally:
        signal.signal(signal.SIGTERM, previous)


def run(options: DemoOptions, *, console: Console | None = None) -> int:
    """Play the demo; the exit status is 0 only if every sale was printed once and delivered once."""
    console = console or Console(stderr=options.json, log_path=False)
    started = time.monotonic()
    summary: Summary
    with _showing_logs(console), running_store(options) as store:
        console.print(f"[bold]kkt-adapter demo[/]: {options.sales} sales from {options.tills} tills")
        console.print(f"  adapter   {store.adapter_url}   (API docs {store.adapter_url}/docs)")
        console.print(f"  live page {store.adapter_url}/ui")
        console.print(f"  mock OFD  {store.ofd.url}")
        console.print(f"  mock ERP  {store.erp.url}")
        console.print(f"  data      {store.data_dir}")
        plan = DayPlan(
            sales=options.sales,
            tills=options.tills,
            outage_s=options.outage_s,
            delivery_timeout_s=options.delivery_timeout_s,
        )
        day = play(store.adapter_url, store.ofd, plan, console=console)
        elapsed_s = time.monotonic() - started
        summary = summarize(
            day, store.adapter_url, store.ofd, store.erp, elapsed_s=elapsed_s, synced_before=store.synced_before
        )
        console.print(render(summary))
        if options.keep_running:
            console.print(f"Open {store.adapter_url}/ui, or the API at {store.adapter_url}/docs.")
            _wait_for_interrupt(console)
    if options.json:
        # The last line of standard output, for scripts and tests; the progress and the table went to stderr.
        print(json.dumps(summary.to_dict(), ensure_ascii=False), flush=True)
    return 0 if summary.ok else 1
