"""The emulated Shtrih-M's commands over real TCP, driven with raw v1 frames."""

from __future__ import annotations

from kkt_emulators.shtrih import MockShtrihServer
from shtrih_emulator.raw import SYSADMIN, Raw, amount, close, sale_item

OPERATOR = (1).to_bytes(4, "little")


def last_fd(raw: Raw) -> int:
    answer = raw.call(b"\xff\x01" + SYSADMIN)
    assert answer[2] == 0
    return int.from_bytes(answer[-4:], "little")


def mode(raw: Raw) -> tuple[int, int]:
    answer = raw.call(b"\x10" + OPERATOR)
    return answer[5], answer[6]


def sell(raw: Raw, price: int = 10_000) -> bytes:
    assert raw.call(b"\x8d" + OPERATOR + b"\x00") == b"\x8d\x00"
    assert raw.call(sale_item(price)) == b"\xff\x46\x00"
    return raw.call(close(price))


def test_idle_kkt_answers_enq_with_nak(raw: Raw) -> None:
    """ENQ to an idle KKT: NAK, "waiting for a command"."""
    raw.send(b"\x05")
    assert raw.control() == b"\x15"


def test_device_type_names_the_model(raw: Raw) -> None:
    """FCh answers with the model's name in WIN1251."""
    answer = raw.call(b"\xfc")
    assert answer[:2] == b"\xfc\x00"
    assert "ШТРИХ" in answer[8:].decode("cp1251")


def test_short_status_of_a_new_kkt(raw: Raw) -> None:
    """10h: operator 1, shift closed (mode 4), paper present (submode 0)."""
    answer = raw.call(b"\x10" + OPERATOR)
    assert answer[:3] == b"\x10\x00\x01"
    assert (answer[5], answer[6]) == (4, 0)


def test_long_status_carries_mode_and_date(raw: Raw) -> None:
    """11h answers with the mode and a plausible date."""
    answer = raw.call(b"\x11" + SYSADMIN)
    assert answer[:2] == b"\x11\x00"
    assert answer[15] == 4


def test_a_wrong_password_is_4f(raw: Raw) -> None:
    """Password 31 names no operator: 4Fh, and the answer is only the command and the code."""
    assert raw.call(b"\x10" + (31).to_bytes(4, "little")) == b"\x10\x4f"


def test_unknown_command_is_refused(raw: Raw) -> None:
    """A command the KKT lacks answers 01h."""
    assert raw.call(b"\x99" + SYSADMIN) == b"\x99\x01"


def test_shift_sale_and_z(raw: Raw, shtrih: MockShtrihServer) -> None:
    """E0h opens the shift (mode 2), a sale takes the next FD, 41h closes it (mode 4); FDs continuous."""
    first = last_fd(raw)
    assert raw.call(b"\xe0" + OPERATOR) == b"\xe0\x00\x01"
    assert mode(raw) == (2, 0)
    assert raw.call(b"\xe0" + OPERATOR) == b"\xe0\x73"
    answer = sell(raw, 12_345)
    assert answer[:2] == b"\xff\x45"
    assert answer[2] == 0
    fd = int.from_bytes(answer[8:12], "little")
    sign = int.from_bytes(answer[12:16], "little")
    assert fd == first + 2
    document = shtrih.kkt.find_by_number(fd)
    assert document is not None
    assert (document.total_kop, document.fiscal_sign) == (12_345, sign)
    assert document.tags["1059"][0]["1030"] == "Хлеб"
    state = raw.call(b"\xff\x40" + SYSADMIN)
    assert state[3] == 1 and int.from_bytes(state[6:8], "little") == 1
    assert raw.call(b"\x41" + OPERATOR) == b"\x41\x4f"
    assert raw.call(b"\x40" + SYSADMIN) == b"\x40\x00\x1e"
    assert raw.call(b"\x41" + SYSADMIN) == b"\x41\x00\x1e"
    assert mode(raw) == (4, 0)
    assert last_fd(raw) == fd + 1


def test_find_document_by_number(raw: Raw) -> None:
    """FF0Ah: a receipt's type, operation and total; an unknown number answers 08h."""
    answer = sell(raw, 500)
    fd = int.from_bytes(answer[8:12], "little")
    found = raw.call(b"\xff\x0a" + SYSADMIN + fd.to_bytes(4, "little"))
    assert found[:5] == b"\xff\x0a\x00\x03\x00"
    assert int.from_bytes(found[10:14], "little") == fd
    assert found[18] == 1 and int.from_bytes(found[19:24], "little") == 500
    assert raw.call(b"\xff\x0a" + SYSADMIN + (fd + 5).to_bytes(4, "little")) == b"\xff\x0a\x08"
    registration = raw.call(b"\xff\x0a" + SYSADMIN + (1).to_bytes(4, "little"))
    assert registration[3] == 1 and registration[-20:].rstrip(b"\x00").isdigit()


def test_cancel_leaves_no_document(raw: Raw) -> None:
    """88h drops an open receipt: mode back to 2, no FD taken; a second 88h answers 55h (no receipt)."""
    assert raw.call(b"\xe0" + OPERATOR)[1] == 0
    before = last_fd(raw)
    raw.call(b"\x8d" + OPERATOR + b"\x00")
    raw.call(sale_item(100))
    assert mode(raw) == (8, 0)
    assert raw.call(b"\x88" + SYSADMIN) == b"\x88\x00\x1e"
    assert raw.call(b"\x88" + SYSADMIN) == b"\x88\x55"
    assert (mode(raw), last_fd(raw)) == ((2, 0), before)


def test_underpaid_receipt_is_refused(raw: Raw) -> None:
    """FF45h with payments below the total: 45h, the receipt stays open."""
    raw.call(b"\x8d" + OPERATOR + b"\x00")
    raw.call(sale_item(1_000))
    assert raw.call(close(999)) == b"\xff\x45\x45"
    assert mode(raw)[0] == 8


def test_change_is_given_from_cash(raw: Raw, shtrih: MockShtrihServer) -> None:
    """Cash above the total comes back as change; the FN records the cash kept."""
    raw.call(b"\x8d" + OPERATOR + b"\x00")
    raw.call(sale_item(700))
    answer = raw.call(close(1_000))
    assert int.from_bytes(answer[3:8], "little") == 300
    document = shtrih.kkt.find_by_number(int.from_bytes(answer[8:12], "little"))
    assert document is not None and document.tags["1031"] == 700


def test_exchange_status_and_validity(raw: Raw) -> None:
    """FF39h counts the documents not sent to the OFD; FF03h gives the FN's validity date."""
    sell(raw)
    status = raw.call(b"\xff\x39" + SYSADMIN)
    assert status[2] == 0 and int.from_bytes(status[5:7], "little") >= 2
    validity = raw.call(b"\xff\x03" + SYSADMIN)
    assert validity[2] == 0 and len(validity) == 6


def test_correction_receipt(raw: Raw, shtrih: MockShtrihServer) -> None:
    """FF4Ah prints a correction (type 31) with its basis and answers its FD and fiscal sign."""
    request = (
        b"\xff\x4a"
        + SYSADMIN
        + bytes([0, 1])
        + amount(2_000)
        + amount(2_000)
        + amount(0) * 4
        + amount(0) * 6
        + bytes([1, 11, 26, 12, 1])
    )
    answer = raw.call(request)
    assert answer[2] == 0
    document = shtrih.kkt.find_by_number(int.from_bytes(answer[5:9], "little"))
    assert document is not None and document.doc_type == 31 and document.total_kop == 2_000
