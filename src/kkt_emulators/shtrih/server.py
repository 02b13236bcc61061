"""``MockShtrihServer``: a Shtrih-M KKT on TCP (7778 by default) and, optionally, on a serial device file (a
pseudo-terminal), in front of the same emulated KKT and FN as the other emulators (same journal, same OFD link).

Threads, not asyncio: one accepting thread, one per connection, one for the pty; the machine serialises commands
as the KKT does. Bound to 127.0.0.1 unless told otherwise.
"""

from __future__ import annotations

import contextlib
import os
import select
import socket
import threading
import tty
from pathlib import Path
from types import TracebackType
from typing import Any, Self

from kkt_clock import Clock, SystemClock
from kkt_emulators.device.hosted import HostedDevice
from kkt_emulators.device.kkt import EmulatedKKT
from kkt_emulators.device.ofd_link import OfdLink
from kkt_emulators.shtrih.admin import AdminServer
from kkt_emulators.shtrih.faults import ShtrihFaults
from kkt_emulators.shtrih.machine import ShtrihMachine
from kkt_emulators.shtrih.session import Closed, LineState, Session

DEFAULT_PORT = 7778


class Traffic:
    """What crossed the TCP line, both ways: bytes from the host and to it, and the turns, the times the KKT began
    to answer after the host had spoken (one per request answered, whatever the framing: a round trip)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.bytes_in = self.bytes_out = self.turns = 0

    def heard(self, count: int) -> None:
        with self._lock:
            self.bytes_in += count

    def said(self, count: int, *, turn: bool) -> None:
        with self._lock:
            self.bytes_out += count
            self.turns += turn

    def snapshot(self) -> dict[str, int]:
        """The counts so far (subtract two snapshots for a window)."""
        with self._lock:
            return {"bytes_in": self.bytes_in, "bytes_out": self.bytes_out, "turns": self.turns}


class SocketStream:
    """A TCP connection as a :class:`~.session.Stream`, counted in ``traffic``."""

    def __init__(self, sock: socket.socket, traffic: Traffic | None = None) -> None:
        self.sock = sock
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)  # a KKT answers byte by byte: no Nagle delays
        self._pending = bytearray()
        self.traffic = traffic if traffic is not None else Traffic()
        self._heard = False  # the host spoke since the KKT last wrote

    def read_byte(self, timeout: float | None) -> int | None:
        if not self._pending:
            self.sock.settimeout(timeout)
            try:
                data = self.sock.recv(4096)
            except TimeoutError:
                return None
            if not data:
                raise Closed
            self._pending += data
            self.traffic.heard(len(data))
            self._heard = True
        return self._pending.pop(0)

    def write(self, data: bytes) -> None:
        self.sock.sendall(data)
        self.traffic.said(len(data), turn=self._heard)
        self._heard = False

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self.sock.shutdown(socket.SHUT_RDWR)
        self.sock.close()


class PtyStream:
    """The master side of a pseudo-terminal as a :class:`~.session.Stream`; it survives the slave's closes."""

    def __init__(self, fd: int) -> None:
        self.fd = fd
        self._pending = bytearray()

    def read_byte(self, timeout: float | None) -> int | None:
        if not self._pending:
            ready, _, _ = select.select([self.fd], [], [], timeout)
            if not ready:
                return None
            try:
                data = os.read(self.fd, 4096)
            except OSError:  # EIO while no process holds the slave open: as silence
                return None
            self._pending += data
        return self._pending.pop(0)

    def write(self, data: bytes) -> None:
        os.write(self.fd, data)

    def close(self) -> None:
        """The pty lives as long as the server."""


class MockShtrihServer:
    """An emulated Shtrih-M KKT: ``with MockShtrihServer(port=0) as kkt: ... kkt.port ... kkt.faults.program(...)``.

    The device: ``kkt`` (left open at stop), else one under ``data_dir``, else a fresh one in a temporary directory
    removed at stop. ``pty_path``: also serve on a pseudo-terminal, its slave symlinked at that path. ``ofd_url``
    starts the device's own OFD link. ``vat_mode`` is table 17 field 71 (1: 20 % becomes 22 % from 2026).
    ``admin_port`` serves the fault programs over HTTP (:mod:`.admin`).
    """

    name = "mock Shtrih-M"

    def __init__(
        self,
        port: int = DEFAULT_PORT,
        *,
        host: str = "127.0.0.1",
        data_dir: Path | None = None,
        kkt: EmulatedKKT | None = None,
        clock: Clock | None = None,
        pty_path: Path | None = None,
        ofd_url: str | None = None,
        ofd_interval_s: float = 1.0,
        print_delay_ms: int = 0,
        vat_mode: int = 1,
        admin_port: int | None = None,
    ) -> None:
        self.clock: Clock = clock if clock is not None else SystemClock()
        self._device = HostedDevice(
            kkt, data_dir=data_dir, prefix="mock-shtrih-", print_delay_ms=print_delay_ms, clock=self.clock
        )
        kkt = self.kkt = self._device.kkt
        self.faults = ShtrihFaults()
        self.machine = ShtrihMachine(kkt, self.faults, vat_mode=vat_mode)
        self.line = LineState()
        self.traffic = Traffic()  # of every TCP connection (the pty is not counted)
        self.ofd_link = None if ofd_url is None else OfdLink(kkt, ofd_url, interval_s=ofd_interval_s)
        self.host = host
        self._requested_port = port
        self.pty_path = pty_path
        self._listener: socket.socket | None = None
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._streams: list[SocketStream] = []
        self._line_lock = threading.Lock()
        self._pty_fds: tuple[int, int] | None = None
        self._admin_port = admin_port
        self.admin: AdminServer | None = None

    @property
    def port(self) -> int:
        """The TCP port (the free one picked when started with ``port=0``)."""
        return self._listener.getsockname()[1] if self._listener is not None else self._requested_port

    @property
    def url(self) -> str:
        """``tcp://host:port``, the driver's ``KKT_SHTRIH_URL``."""
        return f"tcp://{self.host}:{self.port}"

    def start(self) -> Self:
        """Listen (and open the pty); returns once connections are accepted."""
        if self._listener is not None:
            raise RuntimeError("MockShtrihServer is already started")
        listener = socket.create_server((self.host, self._requested_port), reuse_port=False)
        listener.settimeout(0.1)
        self._listener = listener
        self._spawn(self._accept_loop, "shtrih-accept")
        if self.pty_path is not None:
            self._open_pty(self.pty_path)
        if self._admin_port is not None:
            self.admin = AdminServer(self.faults, self.drop_connections, host=self.host, port=self._admin_port)
            self.admin.start()
        if self.ofd_link is not None:
            self.ofd_link.start()
        return self

    def _spawn(self, target: Any, name: str, *args: Any) -> None:
        thread = threading.Thread(target=target, args=args, name=name, daemon=True)
        thread.start()
        self._threads.append(thread)

    def _accept_loop(self) -> None:
        assert self._listener is not None
        while not self._stop.is_set():
            try:
                conn, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            stream = SocketStream(conn, self.traffic)
            self._streams.append(stream)
            session = Session(stream, self.machine, self.line, self._line_lock, noise=True)
            self._spawn(session.serve, "shtrih-conn", self._stop)

    def _open_pty(self, path: Path) -> None:
        master, slave = os.openpty()
        tty.setraw(slave)
        path = Path(path)
        if path.is_symlink() or path.exists():
            path.unlink()
        path.symlink_to(os.ttyname(slave))
        self._pty_fds = (master, slave)
        session = Session(PtyStream(master), self.machine, self.line, self._line_lock, noise=False)
        self._spawn(session.serve, "shtrih-pty", self._stop)

    def drop_connections(self) -> None:
        """Close every open TCP connection (the device stays as it is): a host sees its link break."""
        for stream in list(self._streams):
            stream.close()
        self._streams.clear()

    def stop(self) -> None:
        """Stop serving, close the pty and the OFD link; remove a temporary device."""
        self._stop.set()
        if self.admin is not None:
            self.admin.stop()
        if self._listener is not None:
            self._listener.close()
        self.drop_connections()
        for thread in self._threads:
            thread.join(timeout=2)
        self._threads.clear()
        if self._pty_fds is not None:
            for fd in self._pty_fds:
                os.close(fd)
            self._pty_fds = None
            if self.pty_path is not None and Path(self.pty_path).is_symlink():
                Path(self.pty_path).unlink()
        if self.ofd_link is not None:
            self.ofd_link.stop()
        self._device.release()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()
