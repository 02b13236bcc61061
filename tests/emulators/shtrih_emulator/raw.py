"""A raw Shtrih-M client for the emulator's tests, written from the protocol's rules as a third party would: bytes
in, bytes out, nothing of the adapter's driver."""

from __future__ import annotations

import socket
from functools import reduce
from operator import xor

ENQ, ACK, NAK = b"\x05", b"\x06", b"\x15"
SYSADMIN = (30).to_bytes(4, "little")


def crc16(data: bytes) -> int:
    crc = 0xFFFF
    for byte in data:
        crc ^= byte << 8
        for _ in range(8):
            crc = ((crc << 1) ^ 0x1021) & 0xFFFF if crc & 0x8000 else (crc << 1) & 0xFFFF
    return crc


def v1(message: bytes) -> bytes:
    body = bytes([len(message)]) + message
    return b"\x02" + body + bytes([reduce(xor, body, 0)])


def v2(number: int, message: bytes) -> bytes:
    body = len(message).to_bytes(2, "little") + number.to_bytes(2, "little") + message
    body += crc16(body).to_bytes(2, "little")
    return b"\x8f" + body.replace(b"\x9f", b"\x9f\x83").replace(b"\x8f", b"\x9f\x81")


class Raw:
    """One TCP connection to the emulator, reading with short timeouts."""

    def __init__(self, port: int) -> None:
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=2)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buffer = b""

    def send(self, data: bytes) -> None:
        self.sock.sendall(data)

    def read(self, n: int, timeout: float = 2.0) -> bytes:
        self.sock.settimeout(timeout)
        while len(self.buffer) < n:
            chunk = self.sock.recv(4096)
            if not chunk:
                raise ConnectionError("closed")
            self.buffer += chunk
        data, self.buffer = self.buffer[:n], self.buffer[n:]
        return data

    def silent(self, timeout: float = 0.2) -> bool:
        """Whether nothing arrives within ``timeout``."""
        try:
            self.read(1, timeout)
        except TimeoutError:
            return True
        return False

    def control(self) -> bytes:
        """The next ACK or NAK, skipping the stray FFh some devices send on TCP."""
        while True:
            byte = self.read(1)
            if byte != b"\xff":
                return byte

    def v1_answer(self) -> bytes:
        assert self.read(1) == b"\x02"
        length = self.read(1)[0]
        message = self.read(length)
        assert self.read(1)[0] == reduce(xor, bytes([length]) + message, 0)
        self.send(ACK)
        return message

    def call(self, message: bytes) -> bytes:
        """A v1 exchange: ENQ (idle), the request, its ACK, the answer (acknowledged)."""
        self.send(ENQ)
        assert self.control() == NAK
        self.send(v1(message))
        assert self.control() == ACK
        return self.v1_answer()

    def v2_packet(self) -> tuple[int, bytes]:
        assert self.read(1) == b"\x8f"
        raw = b""
        body = b""
        while len(body) < 2 or len(body) < int.from_bytes(body[:2], "little") + 6:
            raw += self.read(1)
            if raw.endswith(b"\x9f"):
                continue
            body = raw.replace(b"\x9f\x81", b"\x8f").replace(b"\x9f\x83", b"\x9f")
        assert crc16(body[:-2]) == int.from_bytes(body[-2:], "little")
        return int.from_bytes(body[2:4], "little"), body[4:-2]

    def close(self) -> None:
        self.sock.close()


def amount(kop: int) -> bytes:
    return kop.to_bytes(5, "little")


def sale_item(price: int, *, qty_milli: int = 1000, row: int = 11, name: str = "Хлеб") -> bytes:
    """FF46h for a sale line: income, quantity, price, the KKT computes the sum and the tax."""
    return (
        b"\xff\x46"
        + SYSADMIN
        + b"\x01"
        + (qty_milli * 1000).to_bytes(6, "little")
        + amount(price)
        + b"\xff" * 5
        + b"\xff" * 5
        + bytes([row, 1, 4, 1])
        + name.encode("cp1251")
    )


def close(cash: int, electronic: int = 0) -> bytes:
    """FF45h paying ``cash`` and ``electronic``."""
    sums = [cash, electronic] + [0] * 14
    return b"\xff\x45" + SYSADMIN + b"".join(amount(s) for s in sums) + b"\x00" + amount(0) * 6 + b"\x01"
