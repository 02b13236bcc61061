"""The read-only answers of the Shtrih-M emulator: device type, status (10h, 11h), FN status, validity, shift
state, exchange status, a document by number, and the fiscal answer of a close (FD number, fiscal sign, time).

Layouts follow the protocol's tables as far as the sources give them; where a field's layout is the emulator's
choice, docs/hardware.md says so (``11h`` is shortened to the fields a client needs).
"""

from __future__ import annotations

from kkt_emulators.device.kkt import EmulatedKKT
from kkt_emulators.device.models import (
    DOC_CORRECTION,
    DOC_RECEIPT,
    DOC_REGISTRATION,
    DOC_SHIFT_CLOSING,
    DOC_SHIFT_OPENING,
    FiscalDocument,
)
from kkt_emulators.shtrih.fields import date3, datetime5, text, uint

MODEL_NAME = "ШТРИХ-М-01Ф (эмулятор)"
FLAG_PAPER = 1 << 1  # receipt roll present
FLAG_COVER_OPEN = 1 << 9  # NOT CONFIRMED bit position: the emulator's choice (docs/hardware.md)
#: FF01h "current document": what the FN holds open now.
FN_DOC_NONE, FN_DOC_RECEIPT = 0x00, 0x04


def device_type() -> bytes:
    """FCh: type, subtype, protocol version and subversion, model, language, name."""
    return bytes([0, 0, 1, 2, 0, 0]) + text(MODEL_NAME)


def flags(*, paper: bool, cover_open: bool) -> int:
    """The KKT's flags word of 10h/11h."""
    return (FLAG_PAPER if paper else 0) | (FLAG_COVER_OPEN if cover_open else 0)


def short_status(operator: int, *, flags: int, mode: int, submode: int, items: int) -> bytes:
    """10h: operator, flags(2), mode, submode, operations in receipt (low), battery, power, FP and EKLZ errors,
    operations (high), 3 reserved, last print result (0 ok, 1 paper break)."""
    last_print = 1 if submode in (2, 3) else 0
    return (
        bytes([operator])
        + uint(flags, 2)
        + bytes([mode, submode, items & 0xFF, 0x9C, 0xB4, 0, 0, items >> 8])
        + bytes(3)
        + bytes([last_print])
    )


def long_status(kkt: EmulatedKKT, operator: int, *, flags: int, mode: int, submode: int) -> bytes:
    """11h (shortened): operator, firmware version(2) and build(2), firmware date(3), number in hall(1), document
    number(2), flags(2), mode, submode, port, date(3 DD MM YY), time(3), serial(4), last closed shift(2)."""
    status = kkt.status()
    now = kkt.local_now()
    closed = status.shift_number - (1 if status.shift_open else 0)
    serial = int("".join(ch for ch in kkt.registration.kkt_serial if ch.isdigit())[-9:] or "0")
    return (
        bytes([operator])
        + b"A4"
        + uint(2407, 2)
        + bytes([1, 1, 24, 1])
        + uint(status.last_fd_number & 0xFFFF, 2)
        + uint(flags, 2)
        + bytes([mode, submode, 0])
        + bytes([now.day, now.month, now.year % 100, now.hour, now.minute, now.second])
        + uint(serial & 0xFFFFFFFF, 4)
        + uint(closed, 2)
    )


def fn_status(kkt: EmulatedKKT, *, receipt_open: bool) -> bytes:
    """FF01h: life phase, current document, document data, shift open, warnings, date-time(5), FN number(16), last
    FD number(4)."""
    status = kkt.status()
    fn = kkt.fn_status()
    current = FN_DOC_RECEIPT if receipt_open else FN_DOC_NONE
    warnings = len(fn.warnings) and 0x01
    return (
        bytes([0x03, current, 0, 1 if status.shift_open else 0, warnings])
        + datetime5(kkt.local_now())
        + text(status.fn_number, 16)
        + uint(status.last_fd_number, 4)
    )


def fn_validity(kkt: EmulatedKKT) -> bytes:
    """FF03h: the FN's validity date, YY MM DD."""
    return date3(kkt.fn_status().validity_date)


def shift_state(kkt: EmulatedKKT) -> bytes:
    """FF40h: shift open(1), shift number(2), receipts in the shift(2)."""
    status = kkt.status()
    return bytes([1 if status.shift_open else 0]) + uint(status.shift_number, 2) + uint(status.receipts_in_shift, 2)


def exchange_status(kkt: EmulatedKKT) -> bytes:
    """FF39h: status bits, reading flag, messages for the OFD(2), first unsent FD(4), its date-time(5)."""
    fn = kkt.fn_status()
    bits = 0b10 if fn.unsent_count else 0
    first = fn.first_unsent_at
    return (
        bytes([bits, 0])
        + uint(fn.unsent_count, 2)
        + uint(fn.first_unsent_fd_number or 0, 4)
        + (datetime5(first) if first is not None else bytes(5))
    )


def document(kkt: EmulatedKKT, doc: FiscalDocument) -> bytes:
    """FF0Ah: type, OFD ticket received, then by type: date-time(5), FD(4), FP(4), and a receipt's operation(1) and
    total(5), a shift report's shift number(2), or the registration's INN(12) and registration number(20)."""
    acknowledged = not any(unsent.fd_number == doc.fd_number for unsent in kkt.unsent_documents(limit=1_000_000))
    head = bytes([doc.doc_type, 1 if acknowledged else 0]) + datetime5(doc.fiscal_datetime)
    head += uint(doc.fd_number, 4) + uint(doc.fiscal_sign, 4)
    if doc.doc_type in (DOC_RECEIPT, DOC_CORRECTION):
        return head + bytes([doc.operation or 0]) + uint(doc.total_kop, 5)
    if doc.doc_type in (DOC_SHIFT_OPENING, DOC_SHIFT_CLOSING):
        return head + uint(doc.shift_number, 2)
    if doc.doc_type == DOC_REGISTRATION:
        return head + text(kkt.registration.inn, 12) + text(kkt.registration.reg_number, 20)
    return head


def fiscal_answer(doc: FiscalDocument) -> bytes:
    """The tail of FF45h/FF4Ah: FD number(4), fiscal sign(4), date-time(5) (the extended answer)."""
    return uint(doc.fd_number, 4) + uint(doc.fiscal_sign, 4) + datetime5(doc.fiscal_datetime)
