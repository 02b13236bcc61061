"""Shtrih-M's commands as bytes: the requests the driver sends and the answers it reads. Pure, no I/O.

Numbers are little-endian; money is kopecks in 5 bytes; FF46h's quantity is 6 bytes of millionths; text is WIN1251.
An answer is ``CMD ERR [data]``: :func:`payload` strips the head and raises :class:`CommandFailed` for a non-zero
error. The layouts of the answers follow the protocol's tables (docs/hardware.md lists where a field's layout was
not confirmed by a public source).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from kkt_adapter.devices.shtrih.frames import command_bytes

WIRE_ENCODING = "cp1251"
#: FF46h's "the KKT computes it" for the item sum and the tax sum.
COMPUTE = b"\xff" * 5
NAME_MAX = 128


class CommandFailed(Exception):
    """The KKT answered a command with an error code."""

    def __init__(self, command: int, code: int) -> None:
        super().__init__(f"command {command:X}h: error {code:02X}h")
        self.command = command
        self.code = code


class BadAnswer(ValueError):
    """An answer that is not the one asked for, or too short."""


def _u(value: int, size: int) -> bytes:
    return int(value).to_bytes(size, "little")


def request(command: int, password: int, data: bytes = b"") -> bytes:
    """A request message: the command, the 4-byte password, the data."""
    return command_bytes(command) + _u(password, 4) + data


def payload(command: int, answer: bytes) -> bytes:
    """The data of ``command``'s answer; :class:`CommandFailed` for an error, :class:`BadAnswer` if not its own."""
    head = command_bytes(command)
    if answer[: len(head)] != head or len(answer) <= len(head):
        raise BadAnswer(f"expected an answer to {command:X}h, got {answer[:4].hex(' ')}")
    code = answer[len(head)]
    if code:
        raise CommandFailed(command, code)
    return answer[len(head) + 1 :]


def _uint(data: bytes, start: int, size: int) -> int:
    if len(data) < start + size:
        raise BadAnswer(f"answer of {len(data)} bytes has no field at {start}..{start + size}")
    return int.from_bytes(data[start : start + size], "little")


def _moment(data: bytes, start: int) -> datetime:
    if len(data) < start + 5:
        raise BadAnswer("answer too short for its date-time")
    year, month, day, hour, minute = data[start : start + 5]
    try:
        return datetime(2000 + year, month, day, hour, minute)
    except ValueError as exc:
        raise BadAnswer(f"not a date-time: {data[start : start + 5].hex(' ')}") from exc


def _text(data: bytes) -> str:
    return data.split(b"\x00", 1)[0].decode(WIRE_ENCODING, errors="replace").strip()


# -- requests ---------------------------------------------------------------------------------------------------


def operation(
    password: int,
    *,
    kind: int,
    quantity: Decimal,
    price_kop: int,
    sum_kop: int,
    tax_row: int,
    method: int,
    subject: int,
    name: str,
) -> bytes:
    """FF46h, one line of the open receipt: kind (1 income, 2 income return, 3 expense, 4 expense return)."""
    millionths = int((quantity * 1_000_000).to_integral_value())
    data = bytes([kind]) + _u(millionths, 6) + _u(price_kop, 5) + _u(sum_kop, 5) + COMPUTE
    data += bytes([tax_row, 0, method, subject]) + name.encode(WIRE_ENCODING, errors="replace")[:NAME_MAX]
    return request(0xFF46, password, data)


def close_receipt(password: int, *, payments: list[int], taxation: int) -> bytes:
    """FF45h: 16 payment sums (1 cash, 2..13 electronic, 14 prepayment, 15 credit, 16 counter-provision), rounding,
    6 tax sums (left to the KKT: zeros), the taxation system bitmask, no text."""
    if len(payments) != 16:
        raise ValueError("FF45h takes 16 payment sums")
    data = b"".join(_u(amount, 5) for amount in payments) + b"\x00" + bytes(30) + bytes([taxation])
    return request(0xFF45, password, data)


def tlv(password: int, tag: int, value: str) -> bytes:
    """FF0Ch: a TLV (tag, length, CP866 value) added to the open document, e.g. 1021 the cashier."""
    raw = value.encode("cp866", errors="replace")
    return request(0xFF0C, password, _u(tag, 2) + _u(len(raw), 2) + raw)


def correction(
    password: int,
    *,
    correction_type: int,
    operation_code: int,
    payments: list[int],
    taxation: int,
    tax_row: int,
    basis: date,
    number: str | None,
) -> bytes:
    """FF4Ah as the emulator takes it: type (1173), operation (1054), total, 5 payment sums, 6 tax sums, taxation,
    tax row, basis date (1178), order number (1179). docs/hardware.md: the basis and row fields are NOT CONFIRMED."""
    data = bytes([correction_type, operation_code]) + _u(sum(payments), 5)
    data += b"".join(_u(amount, 5) for amount in payments) + bytes(30) + bytes([taxation, tax_row])
    data += bytes([basis.year % 100, basis.month, basis.day]) + (number or "").encode(WIRE_ENCODING, "replace")
    return request(0xFF4A, password, data)


# -- answers ----------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ShortStatus:
    """10h: the KKT's mode and submode, its flags, the last print's result."""

    operator: int
    flags: int
    mode: int
    submode: int

    @property
    def paper(self) -> bool:
        """Receipt paper present (flag bit 1) and not in a no-paper submode."""
        return bool(self.flags & 0b10) and self.submode not in (1, 2)


def short_status(data: bytes) -> ShortStatus:
    return ShortStatus(operator=data[0], flags=_uint(data, 1, 2), mode=data[3] & 0x0F, submode=data[4] & 0x0F)


def register(data: bytes, *, size: int) -> int:
    """1Ah/1Bh: the operator, then the register's value (``size`` bytes: 6 for money, 2 for a count)."""
    return _uint(data, 1, size)


@dataclass(frozen=True)
class FnState:
    """FF01h: whether a shift is open, the FN's number and its last fiscal document number."""

    document_open: int
    shift_open: bool
    when: datetime
    fn_number: str
    last_fd: int


def fn_state(data: bytes) -> FnState:
    return FnState(
        document_open=data[1],
        shift_open=bool(data[3]),
        when=_moment(data, 5),
        fn_number=_text(data[10:26]),
        last_fd=_uint(data, 26, 4),
    )


@dataclass(frozen=True)
class ShiftState:
    """FF40h: shift open, its number, the receipts in it."""

    open: bool
    number: int
    receipts: int


def shift_state(data: bytes) -> ShiftState:
    return ShiftState(open=bool(data[0]), number=_uint(data, 1, 2), receipts=_uint(data, 3, 2))


@dataclass(frozen=True)
class Exchange:
    """FF39h: documents waiting for the OFD, the first one's number and date-time."""

    unsent: int
    first_fd: int
    first_at: datetime | None


def exchange(data: bytes) -> Exchange:
    unsent = _uint(data, 2, 2)
    return Exchange(unsent, _uint(data, 4, 4), _moment(data, 8) if unsent and any(data[8:13]) else None)


def validity(data: bytes) -> date:
    """FF03h: YY MM DD."""
    return date(2000 + data[0], data[1], data[2])


@dataclass(frozen=True)
class Document:
    """FF0Ah: a fiscal document found by number."""

    doc_type: int
    acknowledged: bool
    when: datetime
    fd_number: int
    fiscal_sign: int
    operation: int | None = None
    total_kop: int = 0
    shift_number: int | None = None
    reg_number: str = ""


def document(data: bytes) -> Document:
    doc_type = data[0]
    when, fd, sign = _moment(data, 2), _uint(data, 7, 4), _uint(data, 11, 4)
    if doc_type in (3, 31):
        return Document(doc_type, bool(data[1]), when, fd, sign, operation=data[15], total_kop=_uint(data, 16, 5))
    if doc_type in (2, 5):
        return Document(doc_type, bool(data[1]), when, fd, sign, shift_number=_uint(data, 15, 2))
    if doc_type == 1:
        return Document(doc_type, bool(data[1]), when, fd, sign, reg_number=_text(data[27:47]))
    return Document(doc_type, bool(data[1]), when, fd, sign)


@dataclass(frozen=True)
class Signed:
    """The fiscal answer of FF45h/FF4Ah: FD number, fiscal sign, date-time."""

    fd_number: int
    fiscal_sign: int
    when: datetime


def signed(data: bytes, *, skip: int) -> Signed:
    """The fiscal answer after ``skip`` bytes (5 of change for FF45h, 2 of receipt number for FF4Ah)."""
    return Signed(_uint(data, skip, 4), _uint(data, skip + 4, 4), _moment(data, skip + 8))
