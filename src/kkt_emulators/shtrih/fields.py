"""The binary fields of Shtrih-M's messages: little-endian integers, 5-byte money in kopecks, 6-byte quantities
with six decimals, dates and times as bytes, WIN1251 text ended by the message or a zero byte."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

WIRE_ENCODING = "cp1251"
NOT_GIVEN = 0xFF_FF_FF_FF_FF  # a 5-byte sum of all FFh: "the KKT computes it"


class Truncated(ValueError):
    """A message shorter than its command's fields."""


class Reader:
    """Reads a message's fields in order."""

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.pos = 0

    def uint(self, size: int) -> int:
        """An unsigned little-endian integer of ``size`` bytes."""
        if self.pos + size > len(self.data):
            raise Truncated(f"needs {size} more bytes at {self.pos}, has {len(self.data) - self.pos}")
        value = int.from_bytes(self.data[self.pos : self.pos + size], "little")
        self.pos += size
        return value

    def quantity(self) -> Decimal:
        """A 6-byte quantity in millionths."""
        return Decimal(self.uint(6)) / Decimal(1_000_000)

    def text(self) -> str:
        """The rest of the message as WIN1251 text, up to a zero byte."""
        raw = self.data[self.pos :].split(b"\x00", 1)[0]
        self.pos = len(self.data)
        return raw.decode(WIRE_ENCODING, errors="replace")

    def rest(self) -> bytes:
        """The bytes left."""
        raw = self.data[self.pos :]
        self.pos = len(self.data)
        return raw


def uint(value: int, size: int) -> bytes:
    """``value`` as ``size`` little-endian bytes."""
    return int(value).to_bytes(size, "little")


def datetime5(moment: datetime) -> bytes:
    """YY MM DD HH MM."""
    return bytes([moment.year % 100, moment.month, moment.day, moment.hour, moment.minute])


def date3(day: date) -> bytes:
    """YY MM DD (the FN's order)."""
    return bytes([day.year % 100, day.month, day.day])


def text(value: str, size: int | None = None) -> bytes:
    """WIN1251 text, unmappable characters as ``?``; padded with zero bytes to ``size`` when given."""
    raw = value.encode(WIRE_ENCODING, errors="replace")
    return raw if size is None else raw[:size].ljust(size, b"\x00")
