"""The byte links to a Shtrih-M KKT: TCP (``tcp://host:7778``) and a serial line (``serial:///dev/ttyUSB0?baud=``).

A link moves bytes and knows nothing of frames. Reads take a timeout and return ``None`` when it passes; a broken
connection raises :class:`LinkDown`, after which :meth:`Link.reopen` connects again.
"""

from __future__ import annotations

import socket
from dataclasses import dataclass
from typing import Protocol
from urllib.parse import parse_qs, urlsplit

DEFAULT_TCP_PORT = 7778
DEFAULT_BAUD = 115200


class LinkDown(OSError):
    """The connection to the KKT is broken or cannot be opened."""


class Link(Protocol):
    """A byte stream to the KKT. ``opens`` counts the connections made (a reconnect raises it)."""

    opens: int

    def read_byte(self, timeout: float) -> int | None:
        """The next byte, or ``None`` after ``timeout`` seconds of silence."""
        ...

    def read_upto(self, count: int, timeout: float) -> bytes:
        """The next 1..``count`` bytes (those already received, else the first to arrive), or ``b""`` after
        ``timeout`` seconds of silence: a frame whose length is known is read in a few calls, not one per byte."""
        ...

    def write(self, data: bytes) -> None:
        """Send ``data``."""
        ...

    def discard_input(self) -> None:
        """Drop whatever was received and not read yet."""
        ...

    def reopen(self) -> None:
        """Close and connect again."""
        ...

    def close(self) -> None:
        """Release the connection."""
        ...


@dataclass(frozen=True)
class Address:
    """Where the KKT is: ``kind`` tcp (host, port) or serial (path, baud)."""

    kind: str
    host: str = ""
    port: int = DEFAULT_TCP_PORT
    path: str = ""
    baud: int = DEFAULT_BAUD

    def __str__(self) -> str:
        return f"tcp://{self.host}:{self.port}" if self.kind == "tcp" else f"serial://{self.path}?baud={self.baud}"


def parse_url(url: str, *, default_baud: int = DEFAULT_BAUD) -> Address:
    """``tcp://host[:port]`` or ``serial:///dev/ttyUSB0[?baud=115200]``; :class:`ValueError` for anything else."""
    parts = urlsplit(url)
    if parts.scheme == "tcp":
        if not parts.hostname:
            raise ValueError(f"a tcp:// address needs a host: {url!r}")
        return Address("tcp", host=parts.hostname, port=parts.port or DEFAULT_TCP_PORT)
    if parts.scheme == "serial":
        path = parts.netloc + parts.path if parts.netloc else parts.path
        if not path:
            raise ValueError(f"a serial:// address needs a device path: {url!r}")
        bauds = parse_qs(parts.query).get("baud")
        baud = int(bauds[0]) if bauds else default_baud
        if baud <= 0:
            raise ValueError(f"baud must be positive: {url!r}")
        return Address("serial", path=path, baud=baud)
    raise ValueError(f"the KKT's address is tcp://host:port or serial:///dev/...: {url!r}")


class _Buffered:
    """Reads in chunks, hands out bytes one at a time."""

    def __init__(self) -> None:
        self._pending = bytearray()
        self.opens = 0

    def _chunk(self, timeout: float) -> bytes | None:
        raise NotImplementedError

    def read_byte(self, timeout: float) -> int | None:
        if not self._pending:
            chunk = self._chunk(timeout)
            if not chunk:
                return None
            self._pending += chunk
        return self._pending.pop(0)

    def read_upto(self, count: int, timeout: float) -> bytes:
        if not self._pending:
            chunk = self._chunk(timeout)
            if not chunk:
                return b""
            self._pending += chunk
        data = bytes(self._pending[:count])
        del self._pending[:count]
        return data

    def discard_input(self) -> None:
        self._pending.clear()
        while self._chunk(0.0):
            pass


class TcpLink(_Buffered):
    """A TCP connection to the KKT's port (7778 by default), opened lazily and again after a break."""

    def __init__(self, host: str, port: int, *, connect_timeout: float = 3.0) -> None:
        super().__init__()
        self.host, self.port, self.connect_timeout = host, port, connect_timeout
        self._sock: socket.socket | None = None

    def _socket(self) -> socket.socket:
        if self._sock is None:
            try:
                sock = socket.create_connection((self.host, self.port), timeout=self.connect_timeout)
            except OSError as exc:
                raise LinkDown(f"cannot connect to {self.host}:{self.port}: {exc}") from exc
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            self._sock = sock
            self.opens += 1
        return self._sock

    def _chunk(self, timeout: float) -> bytes | None:
        sock = self._socket()
        sock.settimeout(timeout if timeout > 0 else 0.0)
        try:
            data = sock.recv(4096)
        except (TimeoutError, BlockingIOError):
            return None
        except OSError as exc:
            self.close()
            raise LinkDown(f"{self.host}:{self.port}: {exc}") from exc
        if not data:
            self.close()
            raise LinkDown(f"{self.host}:{self.port} closed the connection")
        return data

    def write(self, data: bytes) -> None:
        try:
            self._socket().sendall(data)
        except LinkDown:
            raise
        except OSError as exc:
            self.close()
            raise LinkDown(f"{self.host}:{self.port}: {exc}") from exc

    def reopen(self) -> None:
        self.close()
        self._socket()

    def close(self) -> None:
        self._pending.clear()
        if self._sock is not None:
            sock, self._sock = self._sock, None
            sock.close()


class SerialLink(_Buffered):
    """A serial line (8N1) through pyserial, opened lazily and again after a break."""

    def __init__(self, path: str, baud: int) -> None:
        super().__init__()
        self.path, self.baud = path, baud
        self._port: object | None = None

    def _serial(self) -> object:
        if self._port is None:
            import serial  # type: ignore[import-untyped]  # imported only when a serial KKT is configured

            try:
                self._port = serial.Serial(self.path, self.baud, timeout=0.05, write_timeout=2.0)
            except (OSError, serial.SerialException) as exc:
                raise LinkDown(f"cannot open {self.path}: {exc}") from exc
            self.opens += 1
        return self._port

    def _chunk(self, timeout: float) -> bytes | None:
        port = self._serial()
        try:
            port.timeout = timeout  # type: ignore[attr-defined]
            waiting = max(1, int(port.in_waiting))  # type: ignore[attr-defined]
            data: bytes = port.read(waiting)  # type: ignore[attr-defined]
        except OSError as exc:
            self.close()
            raise LinkDown(f"{self.path}: {exc}") from exc
        return data or None

    def write(self, data: bytes) -> None:
        port = self._serial()
        try:
            port.write(data)  # type: ignore[attr-defined]
            port.flush()  # type: ignore[attr-defined]
        except OSError as exc:
            self.close()
            raise LinkDown(f"{self.path}: {exc}") from exc

    def reopen(self) -> None:
        self.close()
        self._serial()

    def close(self) -> None:
        self._pending.clear()
        if self._port is not None:
            port, self._port = self._port, None
            port.close()  # type: ignore[attr-defined]


def open_link(address: Address) -> Link:
    """The link for ``address`` (not connected until first used)."""
    if address.kind == "tcp":
        return TcpLink(address.host, address.port)
    return SerialLink(address.path, address.baud)
