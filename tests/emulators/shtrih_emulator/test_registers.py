"""The emulated Shtrih-M's shift registers read with raw 1Ah/1Bh frames, as a third-party client reads them."""

from __future__ import annotations

from shtrih_emulator.raw import SYSADMIN, Raw, close, sale_item

OPERATOR = (1).to_bytes(4, "little")


def cash_register(raw: Raw, number: int) -> int:
    """1Ah: the operator, then 6 bytes little-endian (kopecks); a number over 255 is sent in two bytes."""
    answer = raw.call(b"\x1a" + OPERATOR + number.to_bytes(1 if number <= 0xFF else 2, "little"))
    assert answer[:3] == b"\x1a\x00\x01" and len(answer) == 9, answer.hex(" ")
    return int.from_bytes(answer[3:9], "little")


def operating_register(raw: Raw, number: int) -> int:
    """1Bh: the operator, then 2 bytes little-endian (a count)."""
    answer = raw.call(b"\x1b" + OPERATOR + bytes([number]))
    assert answer[:3] == b"\x1b\x00\x01" and len(answer) == 5, answer.hex(" ")
    return int.from_bytes(answer[3:5], "little")


def receipt(raw: Raw, kind: int, price: int, *, cash: int = 0, electronic: int = 0) -> None:
    """8Dh of ``kind`` (0 sale, 2 sale return), one FF46h line of the matching operation, FF45h."""
    assert raw.call(b"\x8d" + OPERATOR + bytes([kind])) == b"\x8d\x00"
    line = bytearray(sale_item(price))
    line[6] = {0: 1, 2: 2}[kind]  # FF46h's operation: 1 income, 2 income return
    assert raw.call(bytes(line)) == b"\xff\x46\x00"
    assert raw.call(close(cash, electronic))[2] == 0


def test_the_shift_registers_count_payments_and_receipts_until_the_z_report(raw: Raw) -> None:
    """Cash sales (193), electronic (197), a cash sale return (195), the receipts by type (144, 146); change is not
    counted as cash received; 41h clears them all."""
    assert raw.call(b"\xe0" + OPERATOR)[1] == 0
    receipt(raw, 0, 12_345, cash=20_000)  # 7,655 change
    receipt(raw, 0, 500, electronic=500)
    receipt(raw, 2, 1_000, cash=1_000)
    assert [cash_register(raw, n) for n in (193, 194, 195, 196)] == [12_345, 0, 1_000, 0]
    assert [cash_register(raw, n) for n in (197, 198, 199, 200)] == [500, 0, 0, 0]
    assert [operating_register(raw, n) for n in (144, 145, 146, 147)] == [2, 0, 1, 0]
    assert cash_register(raw, 4180) == 0, "prepayment (type 14): a two-byte register number"
    assert raw.call(b"\x41" + SYSADMIN) == b"\x41\x00\x1e"
    assert (cash_register(raw, 193), cash_register(raw, 197), operating_register(raw, 144)) == (0, 0, 0)


def test_a_register_the_kkt_lacks_is_33h_and_a_short_request_7eh(raw: Raw) -> None:
    """Number 300 is neither a one-byte register nor a К-register: 33h; no number at all: 7Eh (bad length)."""
    assert raw.call(b"\x1a" + OPERATOR + (300).to_bytes(2, "little")) == b"\x1a\x33"
    assert raw.call(b"\x1a" + OPERATOR) == b"\x1a\x7e"
    assert raw.call(b"\x1b" + (31).to_bytes(4, "little") + b"\x90") == b"\x1b\x4f"
